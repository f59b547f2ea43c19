"""Recording a short stretch of audio until told to stop: the spoken question of "hold a key, ask aloud"."""

from __future__ import annotations

import threading

import numpy as np

from assistant.audio.source import SAMPLE_RATE, AudioArray, AudioSource
from assistant.errors import EndOfAudio

MAX_QUESTION_SECONDS = 20.0
"""A held key longer than this is a stuck key, not a question: recording stops here."""


def record_until(
    stop: threading.Event, source: AudioSource, max_seconds: float = MAX_QUESTION_SECONDS
) -> AudioArray:
    """Everything `source` delivers until `stop` is set, the source ends, or `max_seconds` have passed.

    Opens and closes `source`; raises `AudioInputError` when it cannot be opened."""
    source.open()
    chunks: list[AudioArray] = []
    recorded = 0
    try:
        while not stop.is_set() and recorded < max_seconds * SAMPLE_RATE:
            try:
                chunk = source.read(timeout=0.1)
            except EndOfAudio:
                break
            chunks.append(chunk)
            recorded += len(chunk)
    finally:
        source.close()
    return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
