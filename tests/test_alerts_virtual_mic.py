"""Captions and sound alerts together from a real microphone: a private PulseAudio server's virtual
microphone hears speech with a smoke alarm (T3) going off under it, and `assistant captions --alerts
--input mic --json`, run as the user runs it, prints both the captions and the alarm from that one
capture."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from assistant.audio.sources import load_audio_file
from tests.conftest import PROJECT_ROOT
from tests.helpers.alert_mix import mix_at, t3_alarm
from tests.helpers.data import SPEECH_DIR
from tests.helpers.polling import poll_until
from tests.helpers.pulse import PulseServer
from tests.helpers.speech import write_wav

SR = 16_000


@pytest.fixture(scope="module")
def speech_with_alarm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """jfk.flac (11 s) with a 3.1 kHz T3 alarm starting 2 s in, as loud as the speech (0 dB)."""
    speech = load_audio_file(SPEECH_DIR / "jfk.flac")
    bed = np.concatenate([np.zeros(SR // 2, np.float32), speech, np.zeros(2 * SR, np.float32)])
    mixed = mix_at(bed, t3_alarm(3100.0, np.random.default_rng(7), cycles=3), 2.0, 0.0)
    return write_wav(tmp_path_factory.mktemp("virtual-mic") / "speech_with_alarm.wav", mixed)


class _Lines:
    """Collects a pipe's lines on a thread, so the test can wait on them without blocking on a read."""

    def __init__(self, pipe: object) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self._thread.start()

    def _read(self, pipe: object) -> None:
        for line in pipe:  # type: ignore[attr-defined]
            self.lines.append(line.rstrip("\n"))

    def join(self) -> None:
        self._thread.join(10)


@pytest.mark.pulse
def test_captions_and_a_smoke_alarm_through_a_virtual_microphone(
    pulse_server: PulseServer, speech_with_alarm: Path, tmp_path: Path
) -> None:
    env = {**os.environ, **pulse_server.env, "ASSISTANT_SOUNDS_DIR": str(tmp_path / "sounds")}
    process = subprocess.Popen(
        [sys.executable, "-m", "assistant", "captions", "--alerts", "--input", "mic", "--json"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    out, err = _Lines(process.stdout), _Lines(process.stderr)
    try:
        poll_until(
            lambda: any(line.startswith("assistant: listening") for line in err.lines) or process.poll(),
            60, lambda: f"listening line (stderr: {err.lines[-5:]})",
        )  # fmt: skip
        assert process.poll() is None, err.lines[-5:]
        pulse_server.play(speech_with_alarm).wait(timeout=60)
        poll_until(
            lambda: any("country" in line.lower() for line in out.lines[-3:] if '"final"' in line),
            15, lambda: f"last caption (stdout: {out.lines[-5:]})",
        )  # fmt: skip
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        out.join()
        err.join()
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()
    assert process.returncode == 0, err.lines[-5:]
    events = [json.loads(line) for line in out.lines]
    alerts = [e for e in events if e["type"] == "alert"]
    finals = [e for e in events if e["type"] == "final"]
    assert [a["sound"] for a in alerts] == ["smoke alarm"], events
    alert = alerts[0]
    assert alert["at"] - alert["start"] <= 5.0 and 0.0 <= alert["confidence"] <= 1.0
    text = " ".join(e["text"] for e in finals).lower()
    assert "country" in text and len(text.split()) >= 8, text
    # One capture, one clock: the alert is stamped between the captions heard around it.
    assert finals[0]["t_emit"] <= alert["t_emit"] <= finals[-1]["t_emit"] + 5.0
