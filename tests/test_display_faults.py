"""A window with nowhere to go says so instead of Qt aborting the process (SIGABRT): an X display that
is gone (a stale DISPLAY after the session ended) and a QT_QPA_PLATFORM naming no installed plugin."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _start_app(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    clean = {
        k: v for k, v in os.environ.items() if k not in {"QT_QPA_PLATFORM", "WAYLAND_DISPLAY", "DISPLAY"}
    }
    clean.update(XDG_RUNTIME_DIR=str(runtime), XDG_CONFIG_HOME=str(tmp_path / "config"), **env)
    return subprocess.run(
        [sys.executable, "-m", "assistant", "app"], capture_output=True, text=True, timeout=60, env=clean
    )


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"DISPLAY": ":97"}, "cannot open the display :97"),  # no X server on :97
        ({"QT_QPA_PLATFORM": "nope"}, "QT_QPA_PLATFORM=nope names no display system Qt has here"),
    ],
)
def test_a_display_that_cannot_be_opened_is_said_not_aborted(
    tmp_path: Path, env: dict[str, str], said: str
) -> None:
    result = _start_app(tmp_path, **env)
    assert result.returncode == 2, result.stderr  # not -6 (SIGABRT)
    assert said in result.stderr and "Reinstalling" not in result.stderr
