"""The description-quality benchmark runs where real scene-model weights are installed; here (no model
hub) it must say so and stop cleanly, not fail."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "describe_quality.py"


def test_quality_bench_skips_cleanly_without_scene_model_weights(tmp_path: Path) -> None:
    environment = {**os.environ, "ASSISTANT_MODELS_DIR": str(tmp_path), "HF_HOME": str(tmp_path / "hf")}
    result = subprocess.run(
        [sys.executable, str(BENCH)], capture_output=True, text=True, timeout=120, env=environment
    )
    assert result.returncode == 0, result.stderr
    assert "florence-2-base: not installed" in result.stdout
    assert result.stdout.rstrip().endswith("(`assistant models download florence-2-base`)")
