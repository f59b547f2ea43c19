"""The sound server dies in the middle of live captions and comes back: `assistant captions --input mic`
says so, keeps the captions it had, listens again when the server returns, shows interim (partial)
captions again, and does not take the outage for recognition lag. A real PulseAudio daemon is killed
with SIGKILL (a crash, as when a desktop session restarts its sound server) and started again at the
same address; speech is played into its virtual microphone."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import pytest

from tests.helpers.data import SPEECH_DIR
from tests.helpers.polling import poll_until
from tests.helpers.pulse import PulseServer, _alive

CLIP = SPEECH_DIR / "jfk.flac"
OUTAGE_S = 8.0
ASSISTANT = [sys.executable, "-m", "assistant"]


class _Lines:
    """A pipe's lines as they come, collected on a thread so the child never blocks on a full pipe."""

    def __init__(self, stream: IO[str] | None) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[str] | None) -> None:
        assert stream is not None
        with stream:
            for line in stream:
                self.lines.append(line.rstrip("\n"))

    def join(self) -> None:
        self._thread.join(timeout=10)

    def wait_for(self, text: str, seconds: float, after: int = 0) -> int:
        """Index of the first line at or after `after` containing `text`."""

        def found() -> int | None:
            return next((i for i, line in enumerate(self.lines) if i >= after and text in line), None)

        return int(poll_until(found, seconds, repr(text), interval=0.1))


@pytest.mark.pulse
@pytest.mark.slow
def test_captions_continue_after_the_sound_server_is_killed_and_restarted(tmp_path: Path) -> None:
    server = PulseServer()  # our own, so the session's server stays up for other tests
    server.start()
    env = {**os.environ, **server.env}
    process = subprocess.Popen(
        [*ASSISTANT, "captions", "--input", "mic", "--json", "--save", str(tmp_path / "t.txt")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    out, err = _Lines(process.stdout), _Lines(process.stderr)
    try:
        err.wait_for("listening to", 120)
        server.play(CLIP, block=True)

        def events() -> list[dict[str, Any]]:
            return [json.loads(line) for line in out.lines]

        poll_until(lambda: any(e["type"] == "final" and e["text"] for e in events()), 30, "a caption")
        before = len(events())

        pid = int((server.runtime_dir / "pulse" / "pid").read_text())
        os.kill(pid, signal.SIGKILL)  # the server crashes mid-stream
        poll_until(lambda: not _alive(pid), 5, "pulseaudio gone")
        lost = err.wait_for("Waiting for it to come back", 15)
        time.sleep(OUTAGE_S)  # the fault itself: an outage as long as the issue's, nothing to wait on
        server.start()  # the same runtime folder, so the same address the captions process knows
        back = err.wait_for("is back; listening again", 30, after=lost)

        server.play(CLIP, block=True)
        poll_until(
            lambda: any(e["type"] == "final" and "country" in e["text"] for e in events()[before:]),
            30, "a caption after the server came back",
        )  # fmt: skip
        after = events()[before:]
        assert any(e["type"] == "partial" and e["text"] for e in after), after  # interim captions are back
        # The outage is not lag: before the fix every report after it was "8.2 s behind" and interim
        # captions stayed off. (A loaded machine may lag a little for real; never by the outage.)
        lags = [
            float(m.group(1)) for line in err.lines[back:] if (m := re.search(r"is ([\d.]+) s behind", line))
        ]
        assert all(lag < OUTAGE_S for lag in lags), "\n".join(err.lines)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
            out.join()
            err.join()
            server.stop()
    assert process.returncode == 0, err.lines
    assert "Traceback" not in "\n".join(err.lines)
    saved = (tmp_path / "t.txt").read_text()
    assert saved.count("country") >= 2  # the captions before the outage and after it, both kept
