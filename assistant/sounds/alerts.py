"""Sound alerts: every detector over one stream of audio, and what the user chose to be told about.

- `AlertDetectors` is the fan-out, a pure object: `process(chunk)` takes 16 kHz float32 mono audio in
  chunks of any size, runs the alarm patterns, the taught sounds and (when installed) the household-sound
  classifier over it, and returns `AlertEvent`s, filtered by `AlertSettings`.
- `AlertSettings` is plain data: per sound on/off, sensitivity (0..1) and snooze. Smoke and
  carbon-monoxide alarms cannot be switched off or snoozed without the user's confirmation, and a
  snoozed alarm still sounding when its snooze ends is alerted on again.
- `AlertListener` runs a source (a microphone, a file, or an `AudioTap` fed by live captions) through
  the detectors on a worker thread, the way `LiveCaptioner` runs captions.
- `build_alert_detectors` loads the taught sounds and the classifier; with the classifier missing it
  says so once (with the command that installs it) and the rest works.

Listening beside live captions, on the same capture (a fan-out, not a second stream)::

    tap = AudioTap()                                   # assistant.audio.tap
    detectors = build_alert_detectors(on_status=say)   # slow when the classifier loads
    listener = AlertListener(tap, detectors, on_alert, say)
    threading.Thread(target=listener.run, args=(stop,), name="alerts").start()
    captioner = build_live_captioner(spec, ..., on_event=show, on_audio=tap.push)
    captioner.run(stop)
    tap.end()                                          # the listener finishes and closes the detectors
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from assistant.audio.pump import pump_audio
from assistant.audio.source import SAMPLE_RATE, AudioArray, AudioSource
from assistant.errors import ModelNotFoundError
from assistant.sounds.alarms import AlarmPatternDetector, AlarmSettings
from assistant.sounds.classifier import (
    DEFAULT_CLASSIFIER,
    OFF_BY_DEFAULT,
    BackgroundClassifier,
    ClassifierDetector,
    ClassifierSettings,
)
from assistant.sounds.spectrum import Spectrogram
from assistant.sounds.taught import SoundLibrary, TaughtSound, TaughtSoundMatcher
from assistant.sounds.types import CO_ALARM, CRITICAL_SOUNDS, SMOKE_ALARM, AlertEvent

__all__ = [
    "CO_ALARM",
    "DEFAULT_SNOOZE_S",
    "SMOKE_ALARM",
    "AlertDetectors",
    "AlertEvent",
    "AlertListener",
    "AlertSettings",
    "build_alert_detectors",
    "required_confidence",
]

log = logging.getLogger("assistant.sounds.alerts")

DEFAULT_SENSITIVITY = 0.5
DEFAULT_SNOOZE_S = 300.0
"""A snooze lasts 5 minutes unless the user says otherwise (smoke and CO alarms: only as they confirm)."""

EventCallback = Callable[[AlertEvent], None]
StatusCallback = Callable[[str], None]


def required_confidence(sensitivity: float) -> float:
    """The confidence a detection needs at a sensitivity (0..1): 0.5 at the default 0.5, 0.1 at the
    most sensitive, 0.9 at the least."""
    return round(float(np.clip(0.5 + (0.5 - sensitivity) * 0.8, 0.1, 0.9)), 3)


@dataclass(frozen=True)
class AlertSettings:
    """What the user wants to be told about, as plain data (the window stores it; the worker reads it).

    `enabled` and `sensitivity` map a sound's name to a choice; sounds not named use the defaults (on,
    except the classifier's "Speech"; sensitivity 0.5). `snoozed_until` maps a sound to the
    `time.monotonic()` second its snooze ends. The `with_*` methods return a changed copy."""

    enabled: Mapping[str, bool] = field(default_factory=dict)
    sensitivity: Mapping[str, float] = field(default_factory=dict)
    snoozed_until: Mapping[str, float] = field(default_factory=dict)

    def is_enabled(self, sound: str) -> bool:
        return bool(self.enabled.get(sound, sound not in OFF_BY_DEFAULT))

    def sensitivity_of(self, sound: str) -> float:
        return float(self.sensitivity.get(sound, DEFAULT_SENSITIVITY))

    def required(self, sound: str) -> float:
        return required_confidence(self.sensitivity_of(sound))

    def is_snoozed(self, sound: str, now: float) -> bool:
        return now < self.snoozed_until.get(sound, float("-inf"))

    def with_enabled(self, sound: str, on: bool, *, confirmed: bool = False) -> AlertSettings:
        """Turn a sound's alerts on or off. Switching off a smoke or CO alarm needs `confirmed`."""
        if not on and sound in CRITICAL_SOUNDS and not confirmed:
            raise ValueError(f"Alerts for the {sound} are switched off only when the user confirms it.")
        return replace(self, enabled={**self.enabled, sound: on})

    def with_sensitivity(self, sound: str, value: float) -> AlertSettings:
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"Sensitivity is between 0 and 1 (got {value}).")
        return replace(self, sensitivity={**self.sensitivity, sound: value})

    def with_snooze(
        self, sound: str, now: float, seconds: float | None = None, *, confirmed: bool = False
    ) -> AlertSettings:
        """Snooze a sound from `now` (monotonic seconds) for `seconds` (default 5 minutes). A smoke or
        CO alarm is snoozed only for a length the user confirmed: `seconds` and `confirmed` both given."""
        if sound in CRITICAL_SOUNDS and (seconds is None or not confirmed):
            raise ValueError(
                f"The {sound} is snoozed only for as long as the user confirms: pass the seconds they "
                "chose and confirmed=True."
            )
        length = DEFAULT_SNOOZE_S if seconds is None else seconds
        return replace(self, snoozed_until={**self.snoozed_until, sound: now + max(0.0, length)})

    def without_snooze(self, sound: str) -> AlertSettings:
        return replace(self, snoozed_until={k: v for k, v in self.snoozed_until.items() if k != sound})

    def to_dict(self) -> dict[str, Any]:
        """For storage (snoozes are not stored: they are about this session)."""
        return {"enabled": dict(self.enabled), "sensitivity": dict(self.sensitivity)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AlertSettings:
        enabled = data.get("enabled") or {}
        sensitivity = data.get("sensitivity") or {}
        return cls(
            enabled={str(k): bool(v) for k, v in dict(enabled).items()},
            sensitivity={str(k): float(np.clip(float(v), 0.0, 1.0)) for k, v in dict(sensitivity).items()},
        )


Classifier = ClassifierDetector | BackgroundClassifier


class AlertDetectors:
    """The alarm patterns, the taught sounds and the classifier over one stream of audio.

    `process(chunk)` returns the alerts (and "ended" events) the user wants, stamped with `t_emit`
    (wall seconds since the first sample). Cheap without the classifier (about 2 % of a core); with a
    `BackgroundClassifier` the model's looks never hold `process` up."""

    def __init__(
        self,
        *,
        alarms: AlarmPatternDetector | None = None,
        taught: TaughtSoundMatcher | None = None,
        classifier: Classifier | None = None,
        settings: AlertSettings | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.alarms = alarms if alarms is not None else AlarmPatternDetector()
        self.taught = taught
        self.classifier = classifier
        self.spectrogram = Spectrogram()
        self._clock = clock
        self._first_sample_at: float | None = None
        self._samples = 0
        self._shown: set[str] = set()
        self._held: dict[str, AlertEvent] = {}  # alerts held back by a snooze, while the sound goes on
        self.settings = settings or AlertSettings()
        self.update_settings(self.settings)

    @property
    def stream_seconds(self) -> float:
        return self._samples / SAMPLE_RATE

    @property
    def sounds(self) -> list[str]:
        """Every sound these detectors can alert on."""
        names = [SMOKE_ALARM, CO_ALARM]
        if self.taught is not None:
            names += [sound.name for sound in self.taught.sounds]
        if self.classifier is not None:
            names += self.classifier.watched
        return names

    def update_settings(self, settings: AlertSettings) -> None:
        """Take new settings (call it on the thread that calls `process`)."""
        self.settings = settings
        for sound in self.alarms.required:
            self.alarms.required[sound] = settings.required(sound)
        for detector in (self.taught, self.classifier):
            if detector is not None:
                for sound in detector.required:
                    detector.required[sound] = settings.required(sound)

    def replace_taught(self, sounds: Sequence[TaughtSound]) -> None:
        """Listen for these taught sounds from now on (after `assistant sounds learn` or a recording in
        the window; call it on the thread that calls `process`)."""
        self.taught = TaughtSoundMatcher(sounds) if sounds else None
        self.update_settings(self.settings)

    def process(self, chunk: AudioArray) -> list[AlertEvent]:
        if self._first_sample_at is None and len(chunk):
            self._first_sample_at = self._clock()
        self._samples += len(chunk)
        block = self.spectrogram.push(chunk)
        events = self.alarms.process_frames(block)
        if self.taught is not None:
            events += self.taught.process_frames(block)
        if self.classifier is not None:
            events += self.classifier.process(chunk)
        return self._filter(events)

    def finish(self) -> list[AlertEvent]:
        """The end of the stream: close every sound still going on."""
        events = self.alarms.finish()
        if self.taught is not None:
            events += self.taught.finish()
        if self.classifier is not None:
            events += self.classifier.finish()
        return self._filter(events)

    def _filter(self, events: Sequence[AlertEvent]) -> list[AlertEvent]:
        now = self._clock()
        shown: list[AlertEvent] = []
        for sound, held in list(self._held.items()):  # a snooze ran out while the sound goes on
            if not self.settings.is_snoozed(sound, now) and self.settings.is_enabled(sound):
                del self._held[sound]
                self._shown.add(sound)
                shown.append(replace(held, at=self.stream_seconds))
        for event in events:
            if event.kind == "ended":
                self._held.pop(event.sound, None)
                if event.sound in self._shown:
                    self._shown.discard(event.sound)
                    shown.append(event)
                continue
            if not self.settings.is_enabled(event.sound):
                continue
            if self.settings.is_snoozed(event.sound, now):
                self._held[event.sound] = event
                log.info("sounds: %s is snoozed; not alerting", event.sound)
                continue
            self._shown.add(event.sound)
            shown.append(event)
        elapsed = 0.0 if self._first_sample_at is None else now - self._first_sample_at
        return [event.stamped(elapsed) for event in shown]

    def close(self) -> None:
        if isinstance(self.classifier, BackgroundClassifier):
            self.classifier.close()


def build_alert_detectors(
    *,
    taught: Sequence[TaughtSound] | None = None,
    library: SoundLibrary | None = None,
    classifier_model: str | None = DEFAULT_CLASSIFIER,
    classifier_settings: ClassifierSettings | None = None,
    classifier_threads: int = 1,
    background_classifier: bool = True,
    alarm_settings: AlarmSettings | None = None,
    settings: AlertSettings | None = None,
    on_status: StatusCallback | None = None,
) -> AlertDetectors:
    """Alert detectors with the user's taught sounds (`taught`, else those in `library`, else in the user
    data folder) and the household-sound classifier (`classifier_model`; None for none).

    Slow when the classifier loads (seconds): call it off the GUI thread. A missing classifier is
    reported once through `on_status`, naming the command that installs it; everything else works."""
    say = on_status or (lambda message: log.info("sounds: %s", message))
    sounds = list(taught) if taught is not None else (library or SoundLibrary()).load_all()
    matcher = TaughtSoundMatcher(sounds) if sounds else None
    classifier: Classifier | None = None
    if classifier_model is not None:
        from assistant.sounds.classifier import load_sound_classifier

        try:
            model = load_sound_classifier(classifier_model, threads=classifier_threads)
        except ModelNotFoundError as error:
            log.info("sounds: %s", error)
            say(
                f"household sounds (dog, baby crying, knocking, siren…) are off: the sound classifier "
                f"{classifier_model} is not installed; `assistant models download {classifier_model}` adds "
                "it. Smoke and carbon-monoxide alarms and taught sounds work without it."
            )
        else:
            detector = ClassifierDetector(model, classifier_settings)
            classifier = BackgroundClassifier(detector) if background_classifier else detector
    return AlertDetectors(
        alarms=AlarmPatternDetector(alarm_settings),
        taught=matcher,
        classifier=classifier,
        settings=settings,
    )


class AlertListener:
    """Runs one source through `AlertDetectors` until stopped or the source ends (a worker-thread loop,
    like `LiveCaptioner.run`). A device that disappears is reported once and reopened every second."""

    def __init__(
        self,
        source: AudioSource,
        detectors: AlertDetectors,
        on_event: EventCallback,
        on_status: StatusCallback | None = None,
        reconnect_seconds: float = 1.0,
    ) -> None:
        self.source = source
        self.detectors = detectors
        self._on_event = on_event
        self._on_status = on_status or (lambda message: log.info("sounds: %s", message))
        self._reconnect_seconds = reconnect_seconds

    def run(self, stop: threading.Event) -> None:
        """Listen until `stop` is set or a finite source ends. Raises `AssistantError` only when the
        source cannot be opened at all at the start."""
        try:
            pump_audio(
                self.source, stop, on_chunk=lambda chunk: self._emit(self.detectors.process(chunk)),
                on_status=self._on_status, listening=f"listening for alerts on {self.source.description}",
                reconnect_seconds=self._reconnect_seconds,
            )  # fmt: skip
            self._emit(self.detectors.finish())
        finally:
            self.detectors.close()

    def _emit(self, events: list[AlertEvent]) -> None:
        for event in events:
            self._on_event(event)
