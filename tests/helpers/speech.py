"""Speech for tests and benchmarks: speech made with espeak-ng, silence, 16-bit WAV files, and feeding
audio through a streaming transcriber."""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from assistant.audio.source import SAMPLE_RATE, AudioArray
from assistant.speech.evaluation import Stream, assign_to_spans, word_error_rate
from assistant.speech.streaming import StreamingTranscriber
from assistant.speech.types import CaptionEvent


def espeak_wav(text: str, path: Path, words_per_minute: int = 150, voice: str | None = None) -> Path:
    """Real synthetic speech of any sentence a test needs (the carried clips say only what they say);
    `voice` is an espeak-ng voice such as "de" or "fr-fr" for another language."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (Debian: apt install espeak-ng)")
    chosen = ["-v", voice] if voice else []
    subprocess.run(["espeak-ng", *chosen, "-s", str(words_per_minute), "-w", str(path), text], check=True)
    return path


def silence(seconds: float) -> AudioArray:
    return np.zeros(int(seconds * SAMPLE_RATE), dtype=np.float32)


def write_wav(path: Path, audio: AudioArray, rate: int = SAMPLE_RATE, channels: int = 1) -> Path:
    """Float samples in [-1, 1] (interleaved when `channels` > 1) as a 16-bit PCM WAV file."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def feed(
    transcriber: StreamingTranscriber, audio: AudioArray, chunk_seconds: float = 0.1
) -> list[CaptionEvent]:
    """Feed audio at full speed in microphone-sized chunks, calling `process` after each."""
    events: list[CaptionEvent] = []
    step = int(chunk_seconds * SAMPLE_RATE)
    for offset in range(0, len(audio), step):
        transcriber.insert_audio(audio[offset : offset + step])
        events += transcriber.process()
    return events


def final_text(events: list[CaptionEvent]) -> str:
    return " ".join(e.text for e in events if e.kind == "final" and e.text)


def caption_wer(stream: Stream, events: list[CaptionEvent]) -> float:
    """Word error rate of the final captions of `stream`, each clip against the finals that start
    within its span (normalised with Whisper's English normaliser)."""
    finals = [(e.start, e.end, e.text) for e in events if e.kind == "final" and e.text]
    return word_error_rate(stream.references, assign_to_spans(stream, finals))
