"""The alert fan-out: the household-sound classifier through the model store (a tiny random AST saved
like a download), said once when it is missing; per-sound on/off, sensitivity and snooze (smoke and CO
alarms only as the user confirms, and alerted again if still sounding); and captions sharing their
capture with alerts through the `on_audio` tap."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant.audio.source import SAMPLE_RATE, AudioArray
from assistant.audio.sources import FileSource, load_audio_file
from assistant.audio.tap import AudioTap
from assistant.errors import EndOfAudio, ModelNotFoundError
from assistant.sounds.alerts import (
    DEFAULT_SNOOZE_S,
    AlertDetectors,
    AlertListener,
    AlertSettings,
    build_alert_detectors,
    required_confidence,
)
from assistant.sounds.classifier import (
    BackgroundClassifier,
    ClassifierDetector,
    ClassifierSettings,
    load_sound_classifier,
)
from assistant.sounds.types import CO_ALARM, SMOKE_ALARM, AlertEvent
from tests.helpers import alert_mix as mix
from tests.helpers.speech import espeak_wav, write_wav
from tests.helpers.tiny_audio_models import build_ast


class Clock:
    """A hand-moved `time.monotonic` for snoozes."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def feed(detectors: AlertDetectors, audio: AudioArray, clock: Clock | None = None) -> list[AlertEvent]:
    events: list[AlertEvent] = []
    step = SAMPLE_RATE // 10
    for offset in range(0, len(audio), step):
        if clock is not None:
            clock.now += 0.1
        events += detectors.process(audio[offset : offset + step])
    return events + detectors.finish()


@pytest.fixture(scope="module")
def dog_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_ast(tmp_path_factory.mktemp("models") / "ast-dog", loud_label="Dog")


@pytest.fixture
def no_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("ASSISTANT_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("ASSISTANT_SOUNDS_DIR", str(tmp_path / "sounds"))
    yield


def smoke_alarm_audio(seconds: float = 16.0) -> AudioArray:
    rng = np.random.default_rng(4)
    background = mix.noise(rng, seconds, "pink")
    return mix.mix_at(background, mix.t3_alarm(3100.0, rng, cycles=3), 1.0, 6.0)


# ------------------------------------------------------------------------------------------ classifier


def test_tiny_ast_loads_through_the_model_store_path_and_classifies(dog_model: Path) -> None:
    classifier = load_sound_classifier(str(dog_model))
    assert classifier.labels[:3] == ["Speech", "Dog", "Baby cry, infant cry"]
    noise = (0.1 * np.random.default_rng(0).standard_normal(SAMPLE_RATE)).astype(np.float32)
    probabilities = classifier.classify(noise)
    assert probabilities["Dog"] > 0.99 and probabilities["Siren"] < 0.01


def test_classifier_looks_every_interval_never_at_silence_and_says_when_a_sound_ends(dog_model: Path) -> None:
    settings = ClassifierSettings(interval_s=2.0, window_s=2.0)
    detector = ClassifierDetector(load_sound_classifier(str(dog_model)), settings)
    loud = (0.1 * np.random.default_rng(1).standard_normal(SAMPLE_RATE * 5)).astype(np.float32)
    quiet = np.zeros(SAMPLE_RATE * 4, np.float32)
    events: list[AlertEvent] = []
    for audio in (loud, quiet):
        for offset in range(0, len(audio), 1600):
            events += detector.process(audio[offset : offset + 1600])
    assert [(e.sound, e.kind, e.detector) for e in events] == [
        ("Dog", "alert", "classifier"),
        ("Dog", "ended", "classifier"),
    ]
    assert events[0].at == pytest.approx(2.0) and events[0].confidence == 1.0
    assert detector.looks == 4 and detector.skipped_quiet == 1  # at 2, 4, 6 s; the quiet one at 8 s


def test_background_classifier_never_holds_up_the_alarms(dog_model: Path) -> None:
    classifier = BackgroundClassifier(
        ClassifierDetector(load_sound_classifier(str(dog_model)), ClassifierSettings(interval_s=1.0))
    )
    detectors = AlertDetectors(classifier=classifier)
    try:
        events = feed(detectors, smoke_alarm_audio())
    finally:
        detectors.close()
    assert [e.sound for e in events if e.kind == "alert"].count("Dog") == 1
    assert [e.sound for e in events if e.kind == "alert" and e.detector == "pattern"] == [SMOKE_ALARM]


def test_missing_classifier_is_said_once_and_the_rest_still_works(no_models: None) -> None:
    said: list[str] = []
    detectors = build_alert_detectors(on_status=said.append)
    assert detectors.classifier is None
    assert len(said) == 1 and "`assistant models download ast-audioset`" in said[0]
    assert "alarms and taught sounds work" in said[0]
    assert [e.sound for e in feed(detectors, smoke_alarm_audio()) if e.kind == "alert"] == [SMOKE_ALARM]
    with pytest.raises(ModelNotFoundError, match="assistant models download ast-audioset"):
        load_sound_classifier()


def test_build_alert_detectors_loads_a_classifier_folder(no_models: None, dog_model: Path) -> None:
    said: list[str] = []
    detectors = build_alert_detectors(classifier_model=str(dog_model), on_status=said.append)
    try:
        assert said == [] and detectors.classifier is not None
        assert {"Dog", "Siren", SMOKE_ALARM, CO_ALARM} <= set(detectors.sounds)
        assert "Speech" in detectors.sounds and not detectors.settings.is_enabled("Speech")
    finally:
        detectors.close()


# ------------------------------------------------------------------------------------------ settings


def test_smoke_and_co_alarms_are_snoozed_and_switched_off_only_with_confirmation() -> None:
    settings = AlertSettings()
    with pytest.raises(ValueError, match="as long as the user confirms"):
        settings.with_snooze(SMOKE_ALARM, now=0.0)
    with pytest.raises(ValueError, match="as long as the user confirms"):
        settings.with_snooze(CO_ALARM, now=0.0, seconds=60.0)
    with pytest.raises(ValueError, match="only when the user confirms"):
        settings.with_enabled(SMOKE_ALARM, False)
    snoozed = settings.with_snooze(SMOKE_ALARM, now=0.0, seconds=60.0, confirmed=True)
    assert snoozed.is_snoozed(SMOKE_ALARM, 59.0) and not snoozed.is_snoozed(SMOKE_ALARM, 61.0)
    doorbell = settings.with_snooze("doorbell", now=0.0)
    assert doorbell.is_snoozed("doorbell", DEFAULT_SNOOZE_S - 1) and not doorbell.is_snoozed("doorbell", 301)
    assert settings == AlertSettings()  # the with_* methods return copies


def test_settings_survive_storage_and_sensitivity_moves_the_bar() -> None:
    settings = AlertSettings().with_enabled("Dog", False).with_sensitivity("doorbell", 0.9)
    assert AlertSettings.from_dict(settings.to_dict()) == settings
    assert required_confidence(0.5) == 0.5
    assert required_confidence(1.0) < required_confidence(0.5) < required_confidence(0.0)
    detectors = AlertDetectors(settings=AlertSettings().with_sensitivity(SMOKE_ALARM, 0.0))
    assert detectors.alarms.required[SMOKE_ALARM] == required_confidence(0.0)
    with pytest.raises(ValueError):
        settings.with_sensitivity("Dog", 1.5)


def test_sounds_taught_while_listening_are_heard_from_then_on() -> None:
    from assistant.sounds.taught import learn_sound

    rng = np.random.default_rng(6)
    bell = np.concatenate(
        [np.zeros(SAMPLE_RATE, np.float32), mix.chime(rng), np.zeros(SAMPLE_RATE, np.float32)]
    )
    detectors = AlertDetectors()
    assert feed(detectors, bell) == []
    detectors.replace_taught([learn_sound("doorbell", [bell])])
    assert "doorbell" in detectors.sounds
    assert [e.sound for e in feed(detectors, bell) if e.kind == "alert"] == ["doorbell"]


def test_a_switched_off_sound_is_not_alerted() -> None:
    clock = Clock()
    settings = AlertSettings().with_enabled(SMOKE_ALARM, False, confirmed=True)
    assert feed(AlertDetectors(settings=settings, clock=clock), smoke_alarm_audio(), clock) == []


def test_a_snoozed_alarm_still_sounding_when_the_snooze_ends_is_alerted_again() -> None:
    clock = Clock()
    settings = AlertSettings().with_snooze(SMOKE_ALARM, clock.now, seconds=8.0, confirmed=True)
    events = feed(AlertDetectors(settings=settings, clock=clock), smoke_alarm_audio(), clock)
    alerts = [e for e in events if e.kind == "alert"]
    assert [e.sound for e in alerts] == [SMOKE_ALARM]
    assert alerts[0].start == pytest.approx(1.0, abs=0.3)  # when it began, not when the snooze ended
    assert 8.0 <= alerts[0].at <= 9.0  # held back until the snooze ran out
    assert [e.kind for e in events] == ["alert", "ended"]


def test_events_carry_wall_time_since_the_first_sample() -> None:
    clock = Clock()
    events = feed(AlertDetectors(clock=clock), smoke_alarm_audio(), clock)
    assert events[0].t_emit == pytest.approx(events[0].at, abs=0.15)  # fed at "real time"


# ------------------------------------------------------------------------------------------ sharing


def test_captions_share_their_capture_with_alerts(tmp_path: Path) -> None:
    from assistant.speech.engines import RecognizerOptions, load_recognizer
    from assistant.speech.live import LiveCaptioner, build_transcriber

    speech = espeak_wav(
        "The kettle is on and the fire alarm is ringing, please leave now.", tmp_path / "s.wav"
    )
    rng = np.random.default_rng(9)
    audio = np.concatenate([load_audio_file(speech), np.zeros(SAMPLE_RATE * 14, np.float32)])
    audio = mix.mix_at(audio, mix.t3_alarm(3100.0, rng, cycles=3), 0.5, 0.0)
    source = FileSource(write_wav(tmp_path / "mixed.wav", audio))

    tap = AudioTap()
    heard: list[AlertEvent] = []
    listener = AlertListener(tap, AlertDetectors(), heard.append)
    worker = threading.Thread(target=listener.run, args=(threading.Event(),))
    worker.start()
    captions: list[str] = []
    recognizer = load_recognizer("faster-whisper", "tiny.en", RecognizerOptions(language="en", threads=1))
    captioner = LiveCaptioner(
        source, build_transcriber(recognizer), lambda e: captions.append(e.text), on_audio=tap.push
    )
    captioner.run(threading.Event())
    tap.end()
    worker.join(timeout=30)
    assert not worker.is_alive()
    assert "kettle" in " ".join(captions).lower()
    assert [e.sound for e in heard if e.kind == "alert"] == [SMOKE_ALARM]
    assert tap.dropped_seconds == 0.0


def test_tap_drops_the_oldest_audio_when_its_reader_falls_behind() -> None:
    tap = AudioTap(buffer_seconds=1.0)
    for _ in range(30):
        tap.push(np.ones(SAMPLE_RATE // 10, np.float32))
    assert 1.9 <= tap.dropped_seconds <= 2.0
    assert len(tap.read(timeout=0.0)) <= SAMPLE_RATE
    assert len(tap.read(timeout=0.01)) == 0
    tap.end()
    with pytest.raises(EndOfAudio):
        tap.read()
