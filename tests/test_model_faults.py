"""A model whose weights rotted after the integrity check (a zeroed page inside model.bin, made here on a
copy of tiny.en) is said to be damaged, with the fix, instead of captioning "!!!!!" or decoding for ever."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import models
from assistant.models import read_ctranslate2_weights
from assistant.speech.engines import repeated_run_start
from tests.helpers.data import SPEECH_DIR

CLIP = SPEECH_DIR / "jfk.flac"
ASSISTANT = [sys.executable, "-m", "assistant"]


@pytest.fixture(scope="module")
def rotted_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tiny.en with the decoder's last layer norm zeroed: every word scores alike, and "!" wins."""
    folder = tmp_path_factory.mktemp("rotted") / "tiny.en"
    shutil.copytree(models.resolve("tiny.en").path, folder)
    model_bin = folder / "model.bin"
    weights = read_ctranslate2_weights(model_bin)
    data = bytearray(model_bin.read_bytes())
    for name in ("decoder/layer_norm/gamma", "decoder/layer_norm/beta"):
        stored = weights[name].tobytes()
        at = data.find(stored)
        assert at > 0
        data[at : at + len(stored)] = bytes(len(stored))
    model_bin.write_bytes(bytes(data))
    return folder


def test_runs_of_one_token_are_found() -> None:
    assert repeated_run_start([5, 0, 0, 0, 0, 0, 0, 0, 0, 7]) == 1
    assert repeated_run_start([1, 2, 3, 1, 2, 3, 1, 2, 3]) is None


@pytest.mark.parametrize("command", ["captions --input", "transcribe"])
def test_rotted_weights_are_said_to_be_damaged_instead_of_captioned(rotted_model: Path, command: str) -> None:
    result = subprocess.run(
        [*ASSISTANT, *command.split(), str(CLIP), "--model", str(rotted_model)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode != 0
    assert "!!!!" not in result.stdout
    assert "weights are damaged" in result.stderr and "Traceback" not in result.stderr
