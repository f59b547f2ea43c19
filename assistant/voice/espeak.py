"""The eSpeak NG speaker: pyttsx3 loads and initialises libespeak-ng; we take the audio from its
synthesis callback and play it ourselves.

Why not `pyttsx3.say()`: it plays through an `aplay` child that nobody can stop, and `runAndWait()`
returns before playback ends. Why not `save_to_file()` + a player: it prints to stdout, goes through a
temporary file and a 10 ms polling loop, and hands over nothing until the whole text is synthesised.
eSpeak NG itself streams: in pyttsx3's retrieval mode its own thread calls our callback with ~1 s blocks,
the first about 2 ms after `Synth` (measured: 18 s of speech synthesised in 40 ms), so playback starts
at once without splitting text into sentences, and returning 1 from the callback cancels synthesis.

eSpeak NG is one engine per process (it may be initialised only once) and pyttsx3's engine objects are
not thread-safe, so every call into either holds `_ENGINE_LOCK`, and a speaker refuses calls from any
thread but the one that opened it (the speech controller opens it on its own thread).
"""

from __future__ import annotations

import atexit
import ctypes
import logging
import re
import threading
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

from assistant.errors import AssistantError
from assistant.voice.player import StreamingPlayer, output_device_info
from assistant.voice.speaker import (
    AudioArray,
    StopSignal,
    UtteranceTiming,
    Voice,
    check_volume,
    unknown_voice,
)

log = logging.getLogger(__name__)

INSTALL_HINT = "install espeak-ng (Debian: apt install espeak-ng)"
DEFAULT_RATE = 180
"""Words per minute: eSpeak's own default (175) rounded; screen-reader users usually raise it."""
MIN_RATE, MAX_RATE = 80, 450  # eSpeak NG clamps outside this range; we say so instead


class SpeechUnavailableError(AssistantError):
    """No speech engine on this machine; text output keeps working."""


def _unavailable(detail: str) -> SpeechUnavailableError:
    return SpeechUnavailableError(f"speech output unavailable ({detail}): {INSTALL_HINT}")


# The process-wide engine. Kept alive for the life of the process on purpose: pyttsx3's driver resets
# eSpeak's callback to None when its engine object is garbage-collected, which would cut off whatever is
# being synthesised at that moment.
_ENGINE_LOCK = threading.Lock()
_engine: Any = None
_espeak: ModuleType | None = None
_sample_rate = 22_050
_default_voice: str | None = None  # eSpeak's voice is process-wide: restore it for speakers without one
# Where the (single, process-wide) eSpeak callback sends audio: the utterance being synthesised now.
_sink: Callable[[AudioArray], bool] | None = None


def _on_synth(wav: Any, sample_count: int, events: Any) -> int:
    """eSpeak's synthesis callback, on eSpeak's own thread. Returns 1 to cancel the synthesis."""
    sink = _sink
    if sink is None:
        return 1
    if sample_count > 0:
        pcm = np.ctypeslib.as_array(ctypes.cast(wav, ctypes.POINTER(ctypes.c_short)), shape=(sample_count,))
        if not sink(pcm.astype(np.float32) / 32768.0):
            return 1
    return 0


def _load_engine() -> ModuleType:
    """Initialise eSpeak NG through pyttsx3 once per process; caller holds `_ENGINE_LOCK`."""
    global _engine, _espeak, _default_voice
    if _espeak is not None:
        return _espeak
    try:
        import pyttsx3
        from pyttsx3.drivers import _espeak as espeak_binding
    except ImportError as error:
        raise _unavailable(f"the pyttsx3 package is missing: {error}") from error
    except (OSError, RuntimeError) as error:  # the binding loads libespeak-ng at import time
        raise _unavailable(f"libespeak-ng was not found: {error}") from error
    try:
        engine = pyttsx3.init("espeak")
    except (OSError, RuntimeError, ValueError) as error:  # e.g. no espeak-ng-data, Initialize → -1
        raise _unavailable(f"eSpeak NG failed to start: {error}") from error
    binding: ModuleType = espeak_binding
    current = binding.GetCurrentVoice()
    if current and current.contents.identifier:
        _default_voice = current.contents.identifier.decode("utf-8", errors="replace")
    _engine, _espeak = engine, binding
    atexit.register(_release_engine)
    return binding


def _release_engine() -> None:
    # pyttsx3's finaliser needs its modules; at interpreter teardown they are gone and it prints a
    # traceback, so let it run while they still exist.
    global _engine
    with _ENGINE_LOCK:
        _engine = None


class EspeakSpeaker:
    """eSpeak NG synthesis played through `StreamingPlayer`. Implements `Speaker`.

    The constructor touches nothing; `open()` loads the engine. `output_device` is a sounddevice device
    (index or name substring; None = the system default)."""

    def __init__(
        self,
        *,
        rate: int = DEFAULT_RATE,
        volume: float = 1.0,
        voice: str | None = None,
        output_device: int | str | None = None,
        on_audio_started: Callable[[], None] | None = None,
    ) -> None:
        self.output_device = output_device
        # Runs on the audio thread when an utterance's first sample goes to the device (keep it cheap).
        self.on_audio_started = on_audio_started
        self._rate = rate
        self._volume = volume
        self._voice = voice
        self._owner: int | None = None
        self._voices: list[Voice] | None = None
        self._timing = UtteranceTiming()
        _check_rate(rate)
        check_volume(volume)

    @property
    def sample_rate(self) -> int:
        return _sample_rate

    @property
    def last_timing(self) -> UtteranceTiming:
        return self._timing

    def open(self) -> None:
        with _ENGINE_LOCK:
            espeak = _load_engine()
            voices = _list_voices(espeak)
        self._owner = threading.get_ident()
        self._voices = voices
        if self._voice is not None:
            self._voice = self._resolve_voice(self._voice)

    def _check_thread(self) -> None:
        if self._owner is None:
            raise RuntimeError("EspeakSpeaker used before open()")
        if self._owner != threading.get_ident():
            raise RuntimeError("EspeakSpeaker used from a thread other than the one that opened it")

    def voices(self) -> list[Voice]:
        self._check_thread()
        assert self._voices is not None
        return list(self._voices)

    def _resolve_voice(self, wanted: str) -> str:
        assert self._voices is not None
        lowered = wanted.lower()
        for voice in self._voices:
            if lowered in (voice.id, voice.name.lower(), *voice.languages):
                return voice.id
        raise unknown_voice(wanted)

    def configure(
        self, *, rate: int | None = None, volume: float | None = None, voice: str | None = None
    ) -> None:
        self._check_thread()
        if rate is not None:
            _check_rate(rate)
            self._rate = rate
        if volume is not None:
            check_volume(volume)
            self._volume = volume
        if voice is not None:
            self._voice = self._resolve_voice(voice)

    def _synthesize_into(self, text: str, sink: Callable[[AudioArray], bool]) -> None:
        """Run eSpeak on `text`, feeding `sink` from eSpeak's thread; returns when synthesis ended."""
        global _sink
        self._check_thread()
        volume = self._volume

        def scaled(chunk: AudioArray) -> bool:
            # Volume is applied to the samples, not eSpeak's VOLUME, so it is exact and never clips.
            return sink(chunk * np.float32(volume) if volume != 1.0 else chunk)

        with _ENGINE_LOCK:
            espeak = _load_engine()
            voice = self._voice if self._voice is not None else _default_voice
            if voice is not None and espeak.SetVoiceByName(voice.encode()) != 0:
                raise AssistantError(f"eSpeak NG could not load voice {voice!r}: {INSTALL_HINT}")
            espeak.SetParameter(espeak.RATE, self._rate, 0)
            espeak.SetParameter(espeak.VOLUME, 100, 0)
            stopped = False

            def until_stopped(chunk: AudioArray) -> bool:
                nonlocal stopped
                stopped = stopped or not scaled(chunk)
                return not stopped

            _sink = until_stopped
            try:
                # Set on every utterance: anything else in this process using pyttsx3 may have replaced it.
                espeak.SetSynthCallback(_on_synth)
                # A piece at a time: one Synth call on 100 KB of text crashed inside eSpeak (SIGSEGV)
                # and held every sample of it at once.
                for piece in split_for_synthesis(text):
                    espeak.Synth(piece.encode("utf-8"), flags=espeak.ENDPAUSE | espeak.CHARS_UTF8)
                    espeak.Synchronize()  # in retrieval mode: returns when synthesis (not playback) is done
                    if stopped:
                        break
            finally:
                _sink = None

    def synthesize_into(self, text: str, sink: Callable[[AudioArray], bool]) -> None:
        """Synthesise `text` piece by piece into `sink` (return False from it to stop), never holding
        more than a piece's audio: for long texts written to a file."""
        self._synthesize_into(text, sink)

    def synthesize(self, text: str) -> AudioArray:
        chunks: list[AudioArray] = []

        def collect(chunk: AudioArray) -> bool:
            chunks.append(chunk)
            return True

        self._synthesize_into(text, collect)
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)

    def speak(self, text: str, stop: StopSignal) -> bool:
        self._check_thread()
        began = time.monotonic()
        timing = self._timing = UtteranceTiming()
        if stop.is_set():
            return False
        player = StreamingPlayer(self.sample_rate, self.output_device, self.on_audio_started)
        player.start()
        try:

            def play(chunk: AudioArray) -> bool:
                if timing.first_chunk_s is None:
                    timing.first_chunk_s = time.monotonic() - began
                player.write(chunk)
                return not stop.is_set()

            self._synthesize_into(text, play)
            player.end_of_audio()
        except BaseException:
            player.close()
            raise
        completed = player.wait(stop)
        timing.output_latency_s = player.output_latency_s
        if player.first_sample_at is not None:
            timing.first_audio_s = player.first_sample_at - began
        if player.stopped_at is not None and stop.set_at is not None:
            timing.stop_latency_s = player.stopped_at - stop.set_at
            log.info("voice: stopped %.1f ms after the request", 1000 * timing.stop_latency_s)
        return completed

    def check_output(self) -> None:
        """Raise `AudioOutputError` now if there is no output device, before any text is queued."""
        output_device_info(self.output_device)

    def close(self) -> None:
        # The engine stays loaded for the process (see `_engine`); nothing per speaker to release.
        self._owner = None


SYNTH_PIECE_CHARACTERS = 2000
"""The most text handed to eSpeak in one call; whole sentences up to this, longer ones cut at spaces."""


def split_for_synthesis(text: str, limit: int = SYNTH_PIECE_CHARACTERS) -> list[str]:
    """`text` in pieces of at most `limit` characters, cut after sentence ends where it can, at spaces
    where a sentence is longer, and anywhere in a run with no space at all."""
    pieces: list[str] = []
    current = ""
    for sentence in re.split(r"(?<=[.!?;:…\n])\s+", text):
        while len(sentence) > limit:
            cut = sentence.rfind(" ", 0, limit)
            cut = cut if cut > 0 else limit
            head, sentence = sentence[:cut], sentence[cut:].lstrip()
            if current:
                pieces.append(current)
                current = ""
            pieces.append(head)
        if current and len(current) + 1 + len(sentence) > limit:
            pieces.append(current)
            current = ""
        current = f"{current} {sentence}" if current else sentence
    if current.strip():
        pieces.append(current)
    return [piece for piece in pieces if piece.strip()]


def _check_rate(rate: int) -> None:
    if not MIN_RATE <= rate <= MAX_RATE:
        raise AssistantError(
            f"speech rate {rate} is out of range: use {MIN_RATE} to {MAX_RATE} words per minute"
        )


def _list_voices(espeak: ModuleType) -> list[Voice]:
    voices = []
    for entry in espeak.ListVoices(None):
        identifier = entry.identifier.decode("utf-8", errors="replace").lower()
        # eSpeak's `languages` field is a priority byte followed by the language code.
        language = entry.languages[1:].decode("utf-8", errors="ignore") if entry.languages else ""
        gender = {1: "male", 2: "female"}.get(entry.gender)
        voices.append(
            Voice(
                id=identifier,
                name=entry.name.decode("utf-8", errors="replace"),
                languages=(language,) if language else (),
                gender=gender,
            )
        )
    return voices


def load_speaker(
    *,
    rate: int = DEFAULT_RATE,
    volume: float = 1.0,
    voice: str | None = None,
    output_device: int | str | None = None,
    on_audio_started: Callable[[], None] | None = None,
) -> EspeakSpeaker:
    """An opened eSpeak NG speaker, owned by the calling thread.

    Raises `SpeechUnavailableError` when eSpeak NG is missing or cannot start, and `AssistantError` for
    an unknown voice or an out-of-range rate or volume. Does not need an output device: call
    `check_output()` before speaking (to-file synthesis works without one)."""
    speaker = EspeakSpeaker(
        rate=rate, volume=volume, voice=voice, output_device=output_device, on_audio_started=on_audio_started
    )
    speaker.open()
    return speaker
