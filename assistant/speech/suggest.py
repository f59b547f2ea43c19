"""Which speech model this computer keeps up with for live captions: measured here, once, not guessed.

Each installed faster-whisper speech model decodes a bundled 11 s clip (`clips/jfk.flac`: President
Kennedy's "ask not", a US federal work in the public domain) the way live captions decode a growing
utterance (greedy, `transcribe_window`), with the threads live captions use. The figure is the real-time
factor (RTF): wall-clock seconds per second of speech, the median of a few runs after a warm-up. Wall
clock, not CPU time, because what the user waits for is the wall clock on their own loaded computer.

A model keeps up when its RTF is at most `KEEP_UP_RTF` (0.2). Why 0.2: at a pause live captions decode
the utterance once more and commit it, and the caption latency target is a final caption within 0.8 s
of the pause; a typical utterance is about 4 s of speech, so its decode may take 0.8 s: 0.2 s per second.
Between pauses they re-decode the utterance (its last 4 s) every 0.5 s of speech, so a slower model also makes
the partial captions lag.

The results are kept in the user data folder (`speed_file()`), keyed by model, with the thread count and
the CPU count they were measured with; a model installed later is measured when it is first seen.
`suggest()` names the largest model that keeps up (only multilingual ones for another language).
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from assistant.audio.source import SAMPLE_RATE, AudioArray
from assistant.errors import AssistantError

log = logging.getLogger("assistant.speech.suggest")

KEEP_UP_RTF = 0.2
"""The most wall-clock seconds a model may take per second of speech to keep up with live captions."""
CLIP = Path(__file__).parent / "clips" / "jfk.flac"
"""The bundled measuring clip: 11 s of real speech, 16 kHz mono."""
RUNS = 3
"""Timed decodes per model (after one warm-up); the median counts."""

Measure = Callable[[str], float]


@dataclass(frozen=True)
class ModelSpeed:
    """One model's measured real-time factor on this computer."""

    model: str
    rtf: float
    threads: int
    cpus: int
    measured_at: str

    @property
    def keeps_up(self) -> bool:
        return self.rtf <= KEEP_UP_RTF


@dataclass(frozen=True)
class Suggestion:
    """The model to suggest (None when no model was measured), every measurement, and what to tell
    the user."""

    model: str | None
    speeds: tuple[ModelSpeed, ...]
    measured_now: tuple[str, ...]

    @property
    def message(self) -> str:
        if self.model is None:
            return "No speech model could be measured on this computer."
        speed = next(s for s in self.speeds if s.model == self.model)
        if not speed.keeps_up:
            return (
                f"No installed speech model keeps up with live captions on this computer; the fastest is "
                f"{self.model} ({speed.rtf:.2f} s per second of speech): captions may lag."
            )
        return (
            f"This computer keeps up with live captions on Whisper {self.model} "
            f"({speed.rtf:.2f} s per second of speech, measured): the suggested speech model."
        )


def speed_file() -> Path:
    """Where the measurements are kept: the platform's user data folder."""
    import platformdirs

    return Path(platformdirs.user_data_dir("assistant")) / "speech-model-speed.json"


def installed_speech_models() -> list[str]:
    """Installed faster-whisper speech models (and ones that are joined from packages on first use),
    smallest first. Never joins or downloads anything."""
    from assistant.models import list_models

    found = [
        status
        for status in list_models()
        if status.spec.engine == "faster-whisper"
        and status.spec.task == "speech"
        and (status.installed or (status.note or "").endswith("joined on first use"))
    ]
    return [status.spec.name for status in sorted(found, key=lambda status: status.spec.size_mb)]


def load_clip() -> AudioArray:
    from assistant.audio.sources import load_audio_file

    return load_audio_file(str(CLIP))


def real_time_factor(model: str, audio: AudioArray, threads: int = 2, runs: int | None = None) -> float:
    """Median wall-clock seconds per second of speech for `model` decoding `audio` as live captions
    do (slow: loads the model, then decodes `runs` + 1 times)."""
    from assistant.speech.engines import RecognizerOptions, load_recognizer

    recognizer = load_recognizer("faster-whisper", model, RecognizerOptions(language="en", threads=threads))
    recognizer.transcribe_window(audio)  # warm-up: first-call allocations are not the steady state
    seconds = []
    for _ in range(runs or RUNS):
        start = time.perf_counter()
        recognizer.transcribe_window(audio)
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds) / (len(audio) / SAMPLE_RATE)


def load_speeds(path: Path) -> dict[str, ModelSpeed]:
    """The stored measurements; an unreadable file counts as none (they are measured again)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {name: ModelSpeed(**entry) for name, entry in data["models"].items()}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
        log.warning("suggest: ignoring unreadable measurements in %s (%s)", path, error)
        return {}


def save_speeds(path: Path, speeds: dict[str, ModelSpeed]) -> None:
    """Write the measurements atomically (a crash never leaves half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{os.getpid()}")
    staging.write_text(
        json.dumps({"models": {name: asdict(speed) for name, speed in speeds.items()}}, indent=1),
        encoding="utf-8",
    )
    os.replace(staging, path)


def suggest(
    path: Path | None = None,
    *,
    models: Sequence[str] | None = None,
    threads: int = 2,
    english: bool = True,
    again: bool = False,
    measure: Measure | None = None,
) -> Suggestion:
    """Measure the installed speech models not measured yet (all of them with `again`, or when the
    thread or CPU count changed), store the results in `path` (default `speed_file()`), and name the
    largest model that keeps up. Slow on first use (seconds per model): never on the GUI thread.

    `english=False` considers only multilingual models. `measure` replaces the real measurement of one
    model (for a caller that already has figures)."""
    path = path or speed_file()
    names = list(models) if models is not None else installed_speech_models()
    cpus = os.cpu_count() or 1
    stored = load_speeds(path)
    measured_now: list[str] = []
    audio: AudioArray | None = None
    for name in names:
        known = stored.get(name)
        if known is not None and not again and (known.threads, known.cpus) == (threads, cpus):
            continue
        if measure is not None:
            rtf = measure(name)
        else:
            audio = load_clip() if audio is None else audio
            try:
                rtf = real_time_factor(name, audio, threads)
            except AssistantError as error:  # a damaged model: the others are still worth measuring
                log.warning("suggest: could not time %s: %s", name, error)
                continue
        stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
        stored[name] = ModelSpeed(name, round(rtf, 4), threads, cpus, stamp)
        measured_now.append(name)
        log.info("suggest: %s decodes at %.3f s per second of speech", name, rtf)
    if measured_now:
        save_speeds(path, stored)
    speeds = tuple(stored[name] for name in names if name in stored)
    return Suggestion(_pick(speeds, english), speeds, tuple(measured_now))


def _size_order(speed: ModelSpeed, english: bool) -> tuple[int, bool]:
    """Larger later; of two the same size, the English-only one later for English (it is the more
    accurate there) and the multilingual one later otherwise."""
    from assistant.models import get_spec

    spec = get_spec(speed.model)
    return (spec.size_mb if spec is not None else 0, speed.model.endswith(".en") == english)


def _pick(speeds: Sequence[ModelSpeed], english: bool) -> str | None:
    """The largest model that keeps up, else the fastest one."""
    usable = [s for s in speeds if english or not s.model.endswith(".en")]
    if not usable:
        return None
    keeping_up = sorted((s for s in usable if s.keeps_up), key=lambda s: _size_order(s, english))
    if keeping_up:
        return keeping_up[-1].model
    return min(usable, key=lambda s: s.rtf).model


def first_run_suggestion(
    path: Path | None = None, *, threads: int = 2, english: bool = True
) -> Suggestion | None:
    """The suggestion to say once: measured now when nothing was measured before on this computer,
    None when measurements exist already (it was said then)."""
    path = path or speed_file()
    if path.exists():
        return None
    return suggest(path, threads=threads, english=english)
