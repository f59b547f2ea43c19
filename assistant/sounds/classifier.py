"""Household sounds with a model: an AudioSet classifier (the Audio Spectrogram Transformer) through
transformers, loaded from the model store (`assistant models download ast-audioset`).

`load_sound_classifier()` loads the model (slow: call it off the GUI thread); `ClassifierDetector` is the
pure object the alert fan-out drives: it keeps the last `window_s` of audio and, every `interval_s` of
audio that is not quiet, asks the model what it hears and alerts on the watched labels (dog, baby
crying, knocking, siren, glass breaking, water running, alarm clock…). A real-size AST costs seconds
of CPU per look, so it looks rarely, never at silence, and `BackgroundClassifier` lets it look on its
own thread so the alarm patterns and taught sounds never wait for it.
"""

from __future__ import annotations

import importlib
import logging
import threading
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from assistant.audio.source import SAMPLE_RATE, AudioArray
from assistant.errors import ModelNotFoundError
from assistant.sounds.types import AlertEvent

log = logging.getLogger("assistant.sounds.classifier")

DEFAULT_CLASSIFIER = "ast-audioset"

WATCHED_LABELS: tuple[str, ...] = (
    "Dog",
    "Bark",
    "Baby cry, infant cry",
    "Crying, sobbing",
    "Screaming",
    "Knock",
    "Doorbell",
    "Ding-dong",
    "Siren",
    "Civil defense siren",
    "Emergency vehicle",
    "Glass",
    "Shatter",
    "Water tap, faucet",
    "Sink (filling or washing)",
    "Alarm clock",
    "Alarm",
    "Buzzer",
    "Telephone bell ringing",
    "Ringtone",
    "Cat",
    "Meow",
    "Microwave oven",
    "Kettle whistle",
    "Speech",
)
"""AudioSet labels alerted on by default (those the loaded model knows). "Speech" is here for speech in
an empty room, and is off unless the user turns it on (`AlertSettings`)."""
OFF_BY_DEFAULT = frozenset({"Speech"})


class SoundModelError(ModelNotFoundError):
    """The sound classifier's files are there but cannot be loaded; the message says how to fix it."""


@dataclass(frozen=True)
class ClassifierSettings:
    """When the model looks: every `interval_s` of audio, at the last `window_s`, unless the window's
    loudest 20 ms is quieter than `quiet_dbfs`. A label is heard at probability `bar` (confidence 0.5).

    AST always encodes 10.24 s (shorter audio is padded), so looking every 10 s hears everything once
    at the least cost: a real-size AST, int8, takes about 2.6 core-seconds a look on this machine's
    CPUs (`bench/alerts_accuracy.py`), a quarter of a core while there is sound, nothing in a quiet
    room."""

    interval_s: float = 10.0
    window_s: float = 10.0
    quiet_dbfs: float = -45.0
    bar: float = 0.3


class SoundClassifier(Protocol):
    """Anything that says how likely each of its labels is in a stretch of 16 kHz mono audio."""

    name: str

    @property
    def labels(self) -> Sequence[str]: ...

    def classify(self, audio: AudioArray) -> dict[str, float]: ...


class ASTSoundClassifier:
    """`ASTForAudioClassification` and its feature extractor: label -> probability (sigmoid: AudioSet is
    multi-label)."""

    def __init__(self, model: Any, feature_extractor: Any, name: str) -> None:
        self.model = model
        self.feature_extractor = feature_extractor
        self.name = name
        config = model.config
        self._labels = [str(config.id2label[i]) for i in range(int(config.num_labels))]
        self.window_s = float(feature_extractor.max_length) / 100.0  # 10 ms frames

    @property
    def labels(self) -> list[str]:
        return self._labels

    def classify(self, audio: AudioArray) -> dict[str, float]:
        import torch

        inputs = self.feature_extractor(
            np.asarray(audio, dtype=np.float32), sampling_rate=SAMPLE_RATE, return_tensors="pt"
        )
        with torch.inference_mode():
            logits = self.model(**inputs).logits[0]
        probabilities = torch.sigmoid(logits).numpy()
        return {label: float(p) for label, p in zip(self._labels, probabilities, strict=True)}


def load_sound_classifier(
    model: str = DEFAULT_CLASSIFIER, *, threads: int = 1, quantize: bool = True
) -> ASTSoundClassifier:
    """Load an AudioSet classifier from the model store (a registry name or a folder). Raises
    `ModelNotFoundError` naming `assistant models download NAME` when it is not installed."""
    from assistant import models

    resolved = models.resolve(model, "transformers")
    display = resolved.spec.name if resolved.spec is not None else resolved.path.name
    return load_classifier_folder(resolved.path, display, threads=threads, quantize=quantize)


def feature_extractor(num_mel_bins: int = 128, max_length: int = 1024) -> Any:
    """AST's feature extractor built directly (benchmarks; `load_classifier_folder` reads the model's)."""
    transformers: Any = importlib.import_module("transformers")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "At least one mel filter has all zero values", UserWarning)
        return transformers.ASTFeatureExtractor(num_mel_bins=num_mel_bins, max_length=max_length)


def quantize_int8(model: Any) -> Any:
    """int8 dynamic quantisation of the model's Linear layers (in place; returns the model): about
    twice as fast on a CPU, the labels' probabilities within a few hundredths."""
    import torch

    with warnings.catch_warnings():
        # WORKAROUND: torch marks eager-mode quantize_dynamic deprecated in favour of torchao (not
        # installed here); it still works in torch 2.x and needs no extra package.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        quantization: Any = importlib.import_module("torch.ao.quantization")
        return quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)


def load_classifier_folder(
    path: Path, name: str, *, threads: int = 1, quantize: bool = True
) -> ASTSoundClassifier:
    import torch

    # transformers ships no type hints for its Auto classes: reach them as Any.
    transformers: Any = importlib.import_module("transformers")
    bars = transformers.utils.logging
    showing = bars.is_progress_bar_enabled()
    bars.disable_progress_bar()  # a "Loading weights" bar would land in the middle of the alerts
    try:
        torch.set_num_threads(max(1, threads))
        model = transformers.AutoModelForAudioClassification.from_pretrained(path, local_files_only=True)
        with warnings.catch_warnings():
            # WORKAROUND: without torchaudio, transformers builds AST's 128 mel filters over a 400-point
            # FFT and warns that one is empty; AST was trained with exactly those features.
            warnings.filterwarnings("ignore", "At least one mel filter has all zero values", UserWarning)
            extractor = transformers.AutoFeatureExtractor.from_pretrained(path, local_files_only=True)
    except (OSError, ValueError, KeyError) as error:
        raise SoundModelError(
            f"The sound classifier at {path} cannot be loaded ({type(error).__name__}: {error}). Download "
            f"it again with `assistant models download {DEFAULT_CLASSIFIER}`."
        ) from error
    finally:
        if showing:
            bars.enable_progress_bar()
    model.eval()
    if quantize:
        model = quantize_int8(model)
    log.info("sounds: loaded classifier %s (%d labels, int8=%s)", name, model.config.num_labels, quantize)
    return ASTSoundClassifier(model, extractor, name)


# ------------------------------------------------------------------------------------------ detector


def _loudest_dbfs(audio: AudioArray) -> float:
    frame = SAMPLE_RATE // 50
    usable = len(audio) - len(audio) % frame
    if usable == 0:
        return -120.0
    energy = float(np.max(np.mean(np.square(audio[:usable].reshape(-1, frame), dtype=np.float64), axis=1)))
    return 10 * float(np.log10(energy)) + 3.01 if energy > 0 else -120.0  # RMS re a full-scale sine


@dataclass
class _Label:
    start: float
    last_seen: float


class ClassifierDetector:
    """Runs a `SoundClassifier` over the stream now and then; alerts on watched labels.

    `push(chunk)` keeps the audio and says whether a look is due; `look()` runs the model on the latest
    window and returns alerts (or "ended" events for labels no longer heard). `process(chunk)` does both
    in one call, which is what tests and the command line on a file want."""

    def __init__(
        self,
        classifier: SoundClassifier,
        settings: ClassifierSettings | None = None,
        watched: Sequence[str] = WATCHED_LABELS,
    ) -> None:
        self.classifier = classifier
        self.settings = settings or ClassifierSettings()
        known = set(classifier.labels)
        self.watched = [label for label in watched if label in known]
        self.required: dict[str, float] = dict.fromkeys(self.watched, 0.5)
        window = int(self.settings.window_s * SAMPLE_RATE)
        self._buffer = np.zeros(window, np.float32)  # a ring: the newest sample is before _write
        self._write = 0
        self._filled = 0
        self._samples = 0
        self._next_look = int(self.settings.interval_s * SAMPLE_RATE)
        self._heard: dict[str, _Label] = {}
        self.looks = 0
        self.skipped_quiet = 0

    @property
    def now(self) -> float:
        return self._samples / SAMPLE_RATE

    def confidence(self, probability: float) -> float:
        """Probability to confidence: the bar is 0.5, certainty 1."""
        bar = self.settings.bar
        if probability >= bar:
            value = 0.5 + 0.5 * (probability - bar) / max(1e-6, 1.0 - bar)
        else:
            value = 0.5 * probability / max(bar, 1e-6)
        return round(float(np.clip(value, 0.0, 1.0)), 3)

    @property
    def hearing(self) -> bool:
        """Whether a label alerted on is still being heard (an "ended" event is still to come)."""
        return bool(self._heard)

    def push(self, chunk: AudioArray) -> bool:
        """Keep `chunk`; True when a look is due."""
        size = len(self._buffer)
        audio = np.asarray(chunk, dtype=np.float32)[-size:]
        first = min(len(audio), size - self._write)
        self._buffer[self._write : self._write + first] = audio[:first]
        self._buffer[: len(audio) - first] = audio[first:]
        self._write = (self._write + len(audio)) % size
        self._filled = min(size, self._filled + len(chunk))
        self._samples += len(chunk)
        return self._samples >= self._next_look

    def window(self) -> tuple[AudioArray, float] | None:
        """The audio to look at now and the audio second it starts, or None when it is quiet (a look
        is then skipped and the next is due an interval later)."""
        self._next_look = self._samples + int(self.settings.interval_s * SAMPLE_RATE)
        ordered = np.concatenate([self._buffer[self._write :], self._buffer[: self._write]])
        audio = ordered[len(ordered) - self._filled :]
        if _loudest_dbfs(audio) < self.settings.quiet_dbfs:
            self.skipped_quiet += 1
            return None
        return audio, self.now - len(audio) / SAMPLE_RATE

    def judge(self, probabilities: Mapping[str, float], start: float, at: float) -> list[AlertEvent]:
        """Alerts for watched labels over their bar in one look; "ended" for those no longer heard."""
        self.looks += 1
        events: list[AlertEvent] = []
        heard_now: set[str] = set()
        for label in self.watched:
            confidence = self.confidence(probabilities.get(label, 0.0))
            if confidence < self.required.get(label, 0.5):
                continue
            heard_now.add(label)
            known = self._heard.get(label)
            if known is None:
                self._heard[label] = _Label(start, at)
                events.append(AlertEvent(label, start, at, confidence, "classifier"))
            else:
                known.last_seen = at
        for label, known in list(self._heard.items()):
            if label not in heard_now:
                del self._heard[label]
                events.append(AlertEvent(label, known.start, at, 1.0, "classifier", "ended", known.last_seen))
        return events

    def process(self, chunk: AudioArray) -> list[AlertEvent]:
        if not self.push(chunk):
            return []
        window = self.window()
        if window is None:
            return self.judge({}, self.now, self.now) if self._heard else []
        audio, start = window
        return self.judge(self.classifier.classify(audio), start, self.now)

    def finish(self) -> list[AlertEvent]:
        return self.judge({}, self.now, self.now) if self._heard else []


class BackgroundClassifier:
    """Runs a `ClassifierDetector`'s looks on a thread of its own, so `process` never waits for the
    model. One look at a time; a look due while one runs replaces any waiting one (a one-slot mailbox,
    never a backlog), and results come back from the next `process` or `finish` call."""

    def __init__(self, detector: ClassifierDetector) -> None:
        self.detector = detector
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._pending: tuple[AudioArray, float, float] | None = None
        self._results: list[AlertEvent] = []
        self._busy = False
        self._closed = False
        self.replaced = 0
        self._thread = threading.Thread(target=self._run, name="sound-classifier", daemon=True)
        self._thread.start()

    @property
    def required(self) -> dict[str, float]:
        return self.detector.required

    @property
    def watched(self) -> list[str]:
        return self.detector.watched

    def process(self, chunk: AudioArray) -> list[AlertEvent]:
        if self.detector.push(chunk):
            window = self.detector.window()
            with self._lock:
                if window is not None:
                    if self._pending is not None:
                        self.replaced += 1
                    self._pending = (window[0], window[1], self.detector.now)
                    self._wake.notify()
                elif not self._busy and self.detector.hearing:
                    self._results += self.detector.judge({}, self.detector.now, self.detector.now)
        with self._lock:
            results, self._results = self._results, []
        return results

    def _run(self) -> None:
        while True:
            with self._lock:
                while self._pending is None and not self._closed:
                    self._wake.wait()
                if self._closed:
                    return
                assert self._pending is not None
                audio, start, at = self._pending
                self._pending = None
                self._busy = True
            try:
                probabilities = self.detector.classifier.classify(audio)
            except Exception:  # a model failure must not take the alarms down with it
                log.exception("sounds: the classifier failed; household sounds are off until restart")
                with self._lock:
                    self._closed = True
                    self._busy = False
                return
            with self._lock:
                self._results += self.detector.judge(probabilities, start, at)
                self._busy = False
                self._wake.notify_all()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until no look is running or waiting (tests, and the end of a file)."""
        with self._lock:
            return self._wake.wait_for(
                lambda: self._closed or (self._pending is None and not self._busy), timeout
            )

    def finish(self) -> list[AlertEvent]:
        self.wait_idle()
        with self._lock:
            results, self._results = self._results, []
            results += self.detector.finish()
        return results

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._wake.notify_all()
        self._thread.join(timeout=5.0)
