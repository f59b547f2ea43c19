"""`assistant alerts` and `assistant sounds` end to end: JSON lines exactly as documented, offline and
paced like a microphone, the classifier missing (said once) or present, taught sounds through the
command line, and one clear line with exit status 2 for every bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant.audio.source import SAMPLE_RATE, AudioArray
from assistant.cli import main
from tests.helpers import alert_mix as mix
from tests.helpers.data import SPEECH_DIR
from tests.helpers.speech import write_wav
from tests.helpers.tiny_audio_models import build_ast

ALERT_KEYS = {"type", "sound", "start", "at", "t_emit", "confidence"}


@pytest.fixture(autouse=True)
def private_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("ASSISTANT_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("ASSISTANT_SOUNDS_DIR", str(tmp_path / "sounds"))
    yield


@pytest.fixture(scope="module")
def alarm_in_speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(12)
    speech = mix.speech_bed(mix.load_speech(SPEECH_DIR), 14.0, rng)
    audio = mix.mix_at(speech, mix.t3_alarm(3300.0, rng, cycles=3), 1.0, -6.0)
    return write_wav(tmp_path_factory.mktemp("alerts") / "alarm.wav", audio)


def json_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def bell(rng: np.random.Generator) -> AudioArray:
    pad = np.zeros(SAMPLE_RATE // 4, np.float32)
    audio = np.concatenate([pad, mix.chime(rng, detune=0.01), pad])
    return (audio + 0.003 * rng.standard_normal(len(audio))).astype(np.float32)


def test_alerts_json_prints_one_object_per_line_and_says_once_the_classifier_is_missing(
    alarm_in_speech: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["alerts", "--input", str(alarm_in_speech), "--json"]) == 0
    lines = json_lines(capsys)
    alerts = [line for line in lines if line["type"] == "alert"]
    assert len(alerts) == 1 and set(alerts[0]) == ALERT_KEYS
    alert = alerts[0]
    assert alert["sound"] == "smoke alarm"
    assert isinstance(alert["start"], float) and abs(alert["start"] - 1.0) <= 0.3
    assert isinstance(alert["at"], float) and alert["at"] - 1.0 <= 5.0
    assert isinstance(alert["confidence"], float) and 0.5 <= alert["confidence"] <= 1.0
    statuses = [line for line in lines if line["type"] == "status"]
    assert {line["type"] for line in lines} == {"alert", "status"}
    missing = [
        line for line in statuses if "assistant models download ast-audioset" in str(line.get("message"))
    ]
    assert len(missing) == 1
    ended = [line for line in statuses if line.get("status") == "sound ended"]
    assert len(ended) == 1 and ended[0]["sound"] == "smoke alarm"


def test_alerts_realtime_reports_as_the_alarm_is_heard(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(13)
    audio = mix.mix_at(mix.noise(rng, 5.5, "pink"), mix.t3_alarm(3100.0, rng, cycles=2), 0.3, 0.0)
    path = write_wav(tmp_path / "short.wav", audio)
    assert main(["alerts", "--input", str(path), "--realtime", "--json", "--no-classifier"]) == 0
    alerts = [line for line in json_lines(capsys) if line["type"] == "alert"]
    assert [line["sound"] for line in alerts] == ["smoke alarm"]
    at, t_emit = alerts[0]["at"], alerts[0]["t_emit"]
    assert isinstance(at, float) and isinstance(t_emit, float)
    assert at - 0.3 <= 5.0
    assert at - 0.2 <= t_emit <= at + 0.6  # paced like a microphone: told as it happens


def test_alerts_with_a_classifier_folder_reports_its_labels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = build_ast(tmp_path / "ast-dog", loud_label="Dog")
    noise = (0.1 * np.random.default_rng(0).standard_normal(SAMPLE_RATE * 11)).astype(np.float32)
    path = write_wav(tmp_path / "noise.wav", noise)
    assert main(["alerts", "--input", str(path), "--json", "--classifier", str(model)]) == 0
    alerts = [line for line in json_lines(capsys) if line["type"] == "alert"]
    assert [(line["sound"], line["start"], line["at"]) for line in alerts] == [("Dog", 0.0, 10.0)]


def test_alerts_plain_text_marks_alarms(alarm_in_speech: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["alerts", "--input", str(alarm_in_speech), "--no-classifier"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert any("!!SMOKE ALARM (began at 1.0 s" in line for line in out)
    assert any("smoke alarm stopped" in line for line in out)


def error_line(capsys: pytest.CaptureFixture[str]) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines, "no message"
    return lines[-1]


def test_bad_inputs_get_one_clear_line_and_exit_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["alerts", "--input", str(tmp_path / "missing.wav")]) == 2
    assert (
        error_line(capsys) == f"assistant: audio file not found: {tmp_path / 'missing.wav'}; check the path"
    )
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(200)))
    assert main(["alerts", "--input", str(corrupt)]) == 2
    assert "corrupt.wav" in error_line(capsys)
    assert main(["alerts", "--input", "no-such-microphone-anywhere", "--no-classifier"]) == 2
    line = error_line(capsys)
    assert line.startswith("assistant: ") and "no-such-microphone-anywhere" in line


def test_sounds_learn_list_and_forget(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(14)
    files = [str(write_wav(tmp_path / f"bell{index}.wav", bell(rng))) for index in range(3)]
    assert main(["sounds", "learn", "front door", *files]) == 0
    assert "taught 'front door' from 3 example(s)" in capsys.readouterr().out
    assert main(["sounds", "list", "--json"]) == 0
    listed = json_lines(capsys)
    assert [(entry["name"], entry["examples"]) for entry in listed] == [("front door", 3)]

    speech = mix.speech_bed(mix.load_speech(SPEECH_DIR), 9.0, rng)
    heard = write_wav(tmp_path / "heard.wav", mix.mix_at(speech, mix.chime(rng, detune=0.01), 3.0, 0.0))
    assert main(["alerts", "--input", str(heard), "--json", "--no-classifier"]) == 0
    alerts = [line for line in json_lines(capsys) if line["type"] == "alert"]
    assert [line["sound"] for line in alerts] == ["front door"]

    assert main(["sounds", "learn", "Front Door", files[0]]) == 2
    assert "--replace" in error_line(capsys)
    assert main(["sounds", "learn", "Front Door", files[0], "--replace"]) == 0
    capsys.readouterr()
    assert main(["sounds", "forget", "front door"]) == 0
    assert "forgot 'Front Door'" in capsys.readouterr().out
    assert main(["sounds", "list"]) == 0
    assert "No sounds taught yet" in capsys.readouterr().out
    assert main(["sounds", "forget", "front door"]) == 2
    assert "No taught sound is called 'front door'" in error_line(capsys)


def test_sounds_learn_refuses_silent_corrupt_and_too_many_examples(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    silent = write_wav(tmp_path / "silent.wav", np.zeros(SAMPLE_RATE, np.float32))
    assert main(["sounds", "learn", "kettle", str(silent)]) == 2
    assert "silent.wav is silent" in error_line(capsys)
    corrupt = tmp_path / "kettle.mp3"
    corrupt.write_bytes(b"\xff\xfb" + bytes(300))
    assert main(["sounds", "learn", "kettle", str(corrupt)]) == 2
    assert "kettle.mp3" in error_line(capsys)
    good = str(write_wav(tmp_path / "bell.wav", bell(np.random.default_rng(1))))
    assert main(["sounds", "learn", "kettle", *[good] * 6]) == 2
    assert "1 to 5 examples" in error_line(capsys)
    assert main(["sounds", "list"]) == 0
    assert "No sounds taught yet" in capsys.readouterr().out
