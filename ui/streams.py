"""The app's continuous streams, each a `StreamWorker` run on its own QThread (see `ui/workers.py`).

- `CaptionWorker`: builds the live captioner (loads the model) and runs it; emits every CaptionEvent.
- `CameraWorker`: reads the newest frame, hands it to the `FrameSlot` and emits a small preview image.
- `NarrationWorker`: `run_narration` over the `FrameSlot`, emitting each description.
- `VoiceQuestionWorker`: records while the ask-by-voice key is held, then recognises the question.

Workers get everything they need through their constructors; results leave them only as signals.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtGui import QImage

from assistant.speech.types import CaptionEvent
from ui.workers import FrameSlot, StreamWorker, TranscriptRecorder

# Something with `run(stop)`, e.g. `assistant.speech.live.LiveCaptioner`.
CaptionerFactory = Callable[[Callable[[CaptionEvent], None], Callable[[str], None]], Any]

PREVIEW_WIDTH = 320
PREVIEW_INTERVAL_S = 0.1  # ten preview pictures a second are plenty for a sighted helper


def frame_to_image(frame: Any, width: int = PREVIEW_WIDTH) -> QImage:
    """An RGB uint8 frame as a QImage about `width` pixels wide (safe off the GUI thread)."""
    height, full_width = frame.shape[:2]
    step = max(1, full_width // width)
    small = np.ascontiguousarray(frame[::step, ::step, :3])
    image = QImage(small.data, small.shape[1], small.shape[0], small.strides[0], QImage.Format.Format_RGB888)
    return image.copy()  # detach from the numpy buffer, which is freed when this returns


def image_to_frame(image: QImage) -> Any:
    """A QImage (screen grab, clipboard) as an RGB uint8 frame."""
    converted = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height = converted.width(), converted.height()
    buffer = np.frombuffer(converted.constBits(), dtype=np.uint8, count=converted.sizeInBytes())
    rows = buffer.reshape(height, converted.bytesPerLine())
    return rows[:, : width * 3].reshape(height, width, 3).copy()


class CaptionWorker(StreamWorker):
    caption = Signal(object)  # CaptionEvent

    def __init__(self, factory: CaptionerFactory, recorder: TranscriptRecorder) -> None:
        super().__init__("captions")
        self._factory = factory
        self._recorder = recorder

    def _on_event(self, event: CaptionEvent) -> None:
        self._recorder.add(event)  # here, so the transcript file grows even while the GUI is busy
        self.caption.emit(event)

    def work(self, stop: threading.Event) -> None:
        captioner = self._factory(self._on_event, self.status.emit)
        if stop.is_set():
            return
        captioner.run(stop)
        if not stop.is_set():
            self.status.emit("the audio ended")


class CameraWorker(StreamWorker):
    preview = Signal(QImage)

    def __init__(self, spec: str, slot: FrameSlot, open_source: Callable[..., Any] | None = None) -> None:
        super().__init__("camera")
        self._spec = spec
        self._slot = slot
        self._open_source = open_source

    def work(self, stop: threading.Event) -> None:
        from assistant.vision.frames import EndOfFrames, open_frame_source

        opener = self._open_source or open_frame_source
        source = opener(self._spec, realtime=True, on_status=self.status.emit)
        source.open()
        self.status.emit(f"camera: watching {source.description}")
        last_preview = 0.0
        try:
            while not stop.is_set():
                try:
                    frame = source.latest(timeout=0.2)
                except EndOfFrames:
                    self.status.emit(f"camera: {source.description} ended")
                    return
                if frame is None:
                    continue
                self._slot.put(frame)
                now = time.monotonic()
                if now - last_preview >= PREVIEW_INTERVAL_S:
                    last_preview = now
                    self.preview.emit(frame_to_image(frame))
        finally:
            source.close()


class NarrationWorker(StreamWorker):
    description = Signal(object)  # assistant.vision.narrator.NarrationEvent

    def __init__(self, slot: FrameSlot, describe: Callable[[Any], str], settings: Any) -> None:
        super().__init__("narration")
        self._slot = slot
        self._describe = describe
        self._settings = settings  # assistant.vision.narrator.NarrationSettings

    def work(self, stop: threading.Event) -> None:
        from assistant.vision.narrator import Narrator, run_narration

        run_narration(
            self._slot, self._describe, self.description.emit, stop, narrator=Narrator(self._settings),
            poll_seconds=0.2,
        )  # fmt: skip


class RecognizerCache:
    """Loads the speech recognizer for spoken questions once, on first use, on whichever worker asks."""

    def __init__(self, load: Callable[[], Any]) -> None:
        self._load = load
        self._lock = threading.Lock()
        self._recognizer: Any = None

    def get(self) -> Any:
        with self._lock:
            if self._recognizer is None:
                self._recognizer = self._load()
            return self._recognizer


class VoiceQuestionWorker(StreamWorker):
    """Records from `source_spec` until stopped (key released), then emits the recognised question."""

    question = Signal(str)
    MAX_SECONDS = 20.0

    def __init__(self, source_spec: str, recognizers: RecognizerCache) -> None:
        super().__init__("voice-question")
        self._source_spec = source_spec
        self._recognizers = recognizers

    def work(self, stop: threading.Event) -> None:
        from assistant.audio.source import SAMPLE_RATE
        from assistant.audio.sources import open_audio_source
        from assistant.errors import EndOfAudio
        from assistant.speech.engines import words_text

        source = open_audio_source(self._source_spec)
        source.open()
        chunks: list[Any] = []
        try:
            self.status.emit("listening for your question")
            recorded = 0
            while not stop.is_set() and recorded < self.MAX_SECONDS * SAMPLE_RATE:
                try:
                    chunk = source.read(timeout=0.1)
                except EndOfAudio:
                    break
                chunks.append(chunk)
                recorded += len(chunk)
        finally:
            source.close()
        audio = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
        if len(audio) < SAMPLE_RATE // 4:
            self.question.emit("")
            return
        transcription = self._recognizers.get().transcribe_window(audio)
        self.question.emit(words_text(transcription.words) or transcription.text.strip())
