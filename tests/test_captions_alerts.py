"""`assistant captions --alerts`: one capture feeds both the captions and the sound detectors, and an
alarm is printed between the captions in both output forms."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.audio.sources import load_audio_file
from assistant.cli import main
from tests.helpers.alert_mix import t3_alarm
from tests.helpers.data import SPEECH_DIR
from tests.helpers.speech import write_wav


@pytest.fixture(scope="module")
def speech_then_alarm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    speech = load_audio_file(SPEECH_DIR / "jfk.flac")
    alarm = 0.3 * t3_alarm(3200.0, np.random.default_rng(5), cycles=3)
    audio = np.concatenate([speech, np.zeros(8000, np.float32), alarm]).astype(np.float32)
    return write_wav(tmp_path_factory.mktemp("alerts") / "meeting_then_alarm.wav", audio)


def test_captions_and_a_smoke_alarm_come_from_one_capture_as_json(
    speech_then_alarm: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["captions", "--input", str(speech_then_alarm), "--alerts", "--json"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    alerts = [e for e in events if e["type"] == "alert"]
    finals = [e for e in events if e["type"] == "final"]
    assert alerts and alerts[0]["sound"] == "smoke alarm" and alerts[0]["at"] - alerts[0]["start"] <= 5.0
    assert "country" in " ".join(e["text"] for e in finals).lower()
    assert alerts[0]["start"] >= finals[0]["end"] - 1.0  # the alarm came after the speech


def test_the_alarm_is_a_marker_line_in_text_and_in_the_saved_transcript(
    speech_then_alarm: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "meeting.txt"
    assert main(["captions", "--input", str(speech_then_alarm), "--alerts", "--save", str(saved)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert "[Smoke alarm]" in printed
    assert "[Smoke alarm]" in saved.read_text().splitlines()
