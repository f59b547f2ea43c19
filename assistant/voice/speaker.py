"""The `Speaker` protocol: something that turns one utterance of text into sound, and can be stopped.

A speaker synthesises (`synthesize` returns the audio in memory, so `--to-file` needs no sound device)
and speaks (`speak` plays and blocks until the utterance ends or its `StopSignal` is set). The speech
controller owns the queue and the priorities; a speaker only ever handles the one utterance in hand.
"""

from __future__ import annotations

import threading
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from assistant.errors import AssistantError

AudioArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Voice:
    """One voice the engine offers. `id` is what `set_voice` and `--voice` take."""

    id: str
    name: str
    languages: tuple[str, ...] = ()
    gender: str | None = None


@dataclass
class UtteranceTiming:
    """How fast one utterance reached the speakers, in seconds from the moment `speak` got the text.

    `first_chunk_s`: the synthesiser delivered its first audio. `first_audio_s`: the audio callback handed
    the first sample of it to the output device. `output_latency_s`: what the device adds after that, as
    PortAudio reports it (the sound leaves the speaker about `first_audio_s + output_latency_s` after).
    `stop_latency_s`: from `StopSignal.set()` to the output stream being aborted (None: not stopped).
    """

    first_chunk_s: float | None = None
    first_audio_s: float | None = None
    output_latency_s: float | None = None
    stop_latency_s: float | None = None


class StopSignal:
    """Set once to stop one utterance. Setting it runs the listeners (from the setter's thread), so the
    player can wake at once instead of polling; a listener added after it was set runs immediately."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []
        self.set_at: float | None = None

    def set(self) -> None:
        with self._lock:
            if self._event.is_set():
                return
            self.set_at = time.monotonic()
            self._event.set()
            listeners, self._listeners = self._listeners, []
        for listener in listeners:
            listener()

    def is_set(self) -> bool:
        return self._event.is_set()

    def add_listener(self, listener: Callable[[], None]) -> None:
        with self._lock:
            if not self._event.is_set():
                self._listeners.append(listener)
                return
        listener()


@runtime_checkable
class Speaker(Protocol):
    """A speech engine plus an output device, for one utterance at a time.

    - `open()` loads the engine; raises `AssistantError` when it is missing. The thread that opens a
      speaker is the only one that may use it afterwards (the engines are not thread-safe).
    - `configure()` changes rate (words per minute), volume (0..1) or voice; unknown voice → AssistantError.
    - `synthesize(text)` returns mono float32 audio at `sample_rate` (no sound device needed).
    - `speak(text, stop)` plays it; returns True when it played to the end, False when `stop` cut it off.
      Raises `AssistantError` when there is no usable output device.
    - `close()` releases everything; safe twice.
    """

    @property
    def sample_rate(self) -> int: ...

    @property
    def last_timing(self) -> UtteranceTiming: ...

    def open(self) -> None: ...

    def voices(self) -> list[Voice]: ...

    def configure(
        self, *, rate: int | None = None, volume: float | None = None, voice: str | None = None
    ) -> None: ...

    def synthesize(self, text: str) -> AudioArray: ...

    def speak(self, text: str, stop: StopSignal) -> bool: ...

    def close(self) -> None: ...


def check_volume(volume: float) -> None:
    if not 0.0 <= volume <= 1.0:
        raise AssistantError(f"speech volume {volume} is out of range: use a number from 0 to 1")


def unknown_voice(voice_id: str) -> AssistantError:
    return AssistantError(
        f"unknown voice {voice_id!r}: run `assistant say --list-voices` to see the voices installed"
    )


def write_wav(audio: AudioArray, sample_rate: int, path: str | Path) -> None:
    """Write mono float32 audio as a 16-bit PCM WAV file."""
    pcm = (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2")
    with wave.open(str(path), "wb") as output:
        output.setnchannels(1)
        output.setsampwidth(2)
        output.setframerate(sample_rate)
        output.writeframes(pcm.tobytes())
