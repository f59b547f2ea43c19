"""Streaming voice activity detection with Silero VAD (the ONNX model that ships inside faster-whisper).

The model scores 32 ms frames (512 samples at 16 kHz) and carries an LSTM state between calls, so the
stream is scored incrementally: each new piece of audio costs about a millisecond of CPU per 100 ms,
which is what lets silence cost almost nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from assistant.audio.source import SAMPLE_RATE, AudioArray
from assistant.errors import AssistantError

FRAME_SAMPLES = 512
CONTEXT_SAMPLES = 64
FRAME_SECONDS = FRAME_SAMPLES / SAMPLE_RATE


@dataclass(frozen=True)
class VadSettings:
    """Thresholds with hysteresis: speech starts above `threshold`, and ends after `min_silence`
    seconds below `threshold - 0.15`."""

    threshold: float = 0.5
    min_silence: float = 0.45
    min_speech: float = 0.15


def _model_path() -> str:
    try:
        from faster_whisper.utils import get_assets_path
    except ImportError as error:
        raise AssistantError(
            "voice activity detection needs faster-whisper, which ships the Silero VAD model: "
            "run scripts/setup.sh or `pip install faster-whisper`"
        ) from error
    return os.path.join(get_assets_path(), "silero_vad_v6.onnx")


def load_vad_session() -> Any:
    """Open the Silero VAD ONNX model on one thread (it is tiny; more threads only add overhead)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.inter_op_num_threads = 1
    options.intra_op_num_threads = 1
    options.log_severity_level = 4
    return onnxruntime.InferenceSession(
        _model_path(), providers=["CPUExecutionProvider"], sess_options=options
    )


class StreamingVad:
    """Scores a stream frame by frame and tracks whether someone is speaking.

    `feed(audio)` returns the speech probability of every complete 32 ms frame it could score;
    `in_speech` and `silence_seconds` describe the state after the last frame.
    """

    def __init__(self, session: Any, settings: VadSettings | None = None) -> None:
        self._session = session
        self.settings = settings or VadSettings()
        self.reset()

    def reset(self) -> None:
        self._state = (np.zeros((1, 1, 128), dtype=np.float32), np.zeros((1, 1, 128), dtype=np.float32))
        self._context = np.zeros(CONTEXT_SAMPLES, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)
        self.in_speech = False
        self.silence_seconds = 0.0
        self.speech_seconds = 0.0
        self.frames_scored = 0

    def feed(self, audio: AudioArray) -> AudioArray:
        samples = np.concatenate([self._pending, audio.astype(np.float32, copy=False)])
        count = len(samples) // FRAME_SAMPLES
        self._pending = samples[count * FRAME_SAMPLES :]
        if count == 0:
            return np.zeros(0, dtype=np.float32)
        frames = samples[: count * FRAME_SAMPLES].reshape(count, FRAME_SAMPLES)
        contexts = np.vstack([self._context[np.newaxis], frames[:-1, -CONTEXT_SAMPLES:]])
        self._context = frames[-1, -CONTEXT_SAMPLES:].copy()
        batch = np.ascontiguousarray(np.concatenate([contexts, frames], axis=1))
        h, c = self._state
        probabilities, h, c = self._session.run(None, {"input": batch, "h": h, "c": c})
        self._state = (h, c)
        probs = np.asarray(probabilities, dtype=np.float32).reshape(-1)
        for p in probs:
            self._update(float(p))
        self.frames_scored += count
        return probs

    def _update(self, probability: float) -> None:
        settings = self.settings
        if probability >= settings.threshold:
            self.speech_seconds += FRAME_SECONDS
            self.silence_seconds = 0.0
            if not self.in_speech and self.speech_seconds >= settings.min_speech:
                self.in_speech = True
        elif probability < settings.threshold - 0.15:
            self.silence_seconds += FRAME_SECONDS
            if not self.in_speech:
                self.speech_seconds = 0.0  # an onset needs `min_speech` of contiguous speech
            if self.silence_seconds >= settings.min_silence:
                self.in_speech = False
                self.speech_seconds = 0.0
        # between the two thresholds nothing changes: hysteresis keeps a pause inside a word from
        # ending speech and a breath from starting it
