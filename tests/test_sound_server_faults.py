"""The sound server dies in the middle of live captions and comes back: `assistant captions --input mic`
says so, keeps the captions it had, listens again when the server returns, shows interim (partial)
captions again, and does not take the outage for recognition lag. A real PulseAudio daemon is killed
with SIGKILL (a crash, as when a desktop session restarts its sound server) and started again at the
same address; speech is played into its virtual microphone. A server that hangs instead (SIGSTOP: it
keeps its socket and answers nothing) must not hang the captions either, nor Ctrl+C."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
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


class _Captions:
    """`assistant captions --input mic --json --save` running on `server`'s virtual microphone."""

    def __init__(self, server: PulseServer, saved: Path) -> None:
        # A hang is dumped (SIGABRT in `end`) with every thread's stack, so a failure says where it was.
        env = {**os.environ, **server.env, "PYTHONFAULTHANDLER": "1"}
        self.process = subprocess.Popen(
            [*ASSISTANT, "captions", "--input", "mic", "--json", "--save", str(saved)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        self.out, self.err = _Lines(self.process.stdout), _Lines(self.process.stderr)

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.lines]

    def wait_for_final(self, word: str, after: int, what: str) -> None:
        def said() -> bool:
            return any(
                e["type"] == "final" and e["text"] and word in e["text"] for e in self.events()[after:]
            )

        poll_until(said, 30, what)

    def end(self, seconds: float) -> None:
        """Ctrl+C, as a user would; the captions must end within `seconds`."""
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGABRT)
            self.process.wait(timeout=10)
            self.err.join()
            raise AssertionError("Ctrl+C did not end the captions:\n" + "\n".join(self.err.lines)) from None
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(timeout=10)
            self.out.join()
            self.err.join()


@contextmanager
def _captions_on(server: PulseServer, saved: Path) -> Iterator[_Captions]:
    """Captions that have heard JFK once and captioned him; ended with Ctrl+C (if the test has not)."""
    captions = _Captions(server, saved)
    try:
        captions.err.wait_for("listening to", 120)
        server.play(CLIP, block=True)
        captions.wait_for_final("", 0, "a caption")
        yield captions
    finally:
        if captions.process.returncode is None:
            captions.end(30)


def _server_pid(server: PulseServer) -> int:
    return int((server.runtime_dir / "pulse" / "pid").read_text())


def _assert_ended_well_and_saved_both(captions: _Captions, saved: Path) -> None:
    assert captions.process.returncode == 0, captions.err.lines
    assert "Traceback" not in "\n".join(captions.err.lines)
    assert saved.read_text().count("country") >= 2  # the captions before the outage and after it, both kept


@pytest.mark.pulse
@pytest.mark.slow
def test_captions_continue_after_the_sound_server_is_killed_and_restarted(tmp_path: Path) -> None:
    server = PulseServer()  # our own, so the session's server stays up for other tests
    server.start()
    saved = tmp_path / "t.txt"
    try:
        with _captions_on(server, saved) as captions:
            before = len(captions.events())
            pid = _server_pid(server)
            os.kill(pid, signal.SIGKILL)  # the server crashes mid-stream
            poll_until(lambda: not _alive(pid), 5, "pulseaudio gone")
            lost = captions.err.wait_for("Waiting for it to come back", 15)
            time.sleep(OUTAGE_S)  # the fault itself: an outage as long as the issue's, nothing to wait on
            server.start()  # the same runtime folder, so the same address the captions process knows
            back = captions.err.wait_for("is back; listening again", 30, after=lost)

            server.play(CLIP, block=True)
            captions.wait_for_final("country", before, "a caption after the server came back")
            after = captions.events()[before:]
            assert any(e["type"] == "partial" and e["text"] for e in after), after  # interim captions back
            # The outage is not lag: before the fix every report after it was "8.2 s behind" and interim
            # captions stayed off. (A loaded machine may lag a little for real; never by the outage.)
            lags = [
                float(m.group(1))
                for line in captions.err.lines[back:]
                if (m := re.search(r"is ([\d.]+) s behind", line))
            ]
            assert all(lag < OUTAGE_S for lag in lags), "\n".join(captions.err.lines)
    finally:
        server.stop()
    _assert_ended_well_and_saved_both(captions, saved)


@pytest.mark.pulse
@pytest.mark.slow
def test_a_hung_sound_server_neither_hangs_the_captions_nor_ctrl_c(tmp_path: Path) -> None:
    """Closing a stream on a server that answers nothing blocked PortAudio forever: the captions never
    listened again, and Ctrl+C could not end them (CI saw both)."""
    server = PulseServer()
    server.start()
    saved = tmp_path / "t.txt"
    pid = _server_pid(server)
    try:
        with _captions_on(server, saved) as captions:
            before = len(captions.events())
            os.kill(pid, signal.SIGSTOP)  # the server hangs mid-stream
            lost = captions.err.wait_for("Waiting for it to come back", 15)
            time.sleep(5)  # longer than a device call is waited for
            os.kill(pid, signal.SIGCONT)
            captions.err.wait_for("is back; listening again", 30, after=lost)
            server.play(CLIP, block=True)
            captions.wait_for_final("country", before, "a caption after the server answered again")

            os.kill(pid, signal.SIGSTOP)  # hung again, and the user gives up on it
            captions.err.wait_for("Waiting for it to come back", 15, after=lost + 1)
            captions.end(15)
    finally:
        os.kill(pid, signal.SIGCONT)
        server.stop()
    _assert_ended_well_and_saved_both(captions, saved)
