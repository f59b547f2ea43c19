"""The app's continuous streams, each a `StreamWorker` run on its own QThread (see `ui/workers.py`).

- `CaptionWorker`: builds the live captioner (loads the model) and runs it; emits every CaptionEvent.
- `CameraWorker`: reads the newest frame, hands it to the `FrameMailbox` and emits a small preview image.
- `NarrationWorker`: `run_narration` over the `FrameMailbox`, emitting each description.
- `VoiceQuestionWorker`: records while the ask-by-voice key is held, then recognises the question.

Workers get everything they need through their constructors; results leave them only as signals.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtGui import QImage

from assistant.audio.recording import record_until
from assistant.audio.sources import open_audio_source
from assistant.session import Session
from assistant.speech.live import LiveCaptioner
from assistant.speech.transcripts import TranscriptRecorder
from assistant.speech.types import CaptionEvent
from assistant.vision.frames import EndOfFrames, FrameMailbox, FrameSource, open_frame_source
from assistant.vision.image import Frame
from assistant.vision.narrator import NarrationEvent, NarrationSettings, Narrator, run_narration
from ui.workers import StreamWorker

CaptionerFactory = Callable[[Callable[[CaptionEvent], None], Callable[[str], None]], LiveCaptioner]
FrameSourceOpener = Callable[..., FrameSource]

PREVIEW_WIDTH = 320
PREVIEW_INTERVAL_S = 0.1  # ten preview pictures a second are plenty for a sighted helper


def frame_to_image(frame: Frame, width: int = PREVIEW_WIDTH) -> QImage:
    """An RGB uint8 frame as a QImage about `width` pixels wide (safe off the GUI thread)."""
    height, full_width = frame.shape[:2]
    step = max(1, full_width // width)
    small = np.ascontiguousarray(frame[::step, ::step, :3])
    image = QImage(small.data, small.shape[1], small.shape[0], small.strides[0], QImage.Format.Format_RGB888)
    return image.copy()  # detach from the numpy buffer, which is freed when this returns


def image_to_frame(image: QImage) -> Frame:
    """A QImage (screen grab, clipboard) as an RGB uint8 frame."""
    converted = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height = converted.width(), converted.height()
    buffer = np.frombuffer(converted.constBits(), dtype=np.uint8, count=converted.sizeInBytes())
    rows = buffer.reshape(height, converted.bytesPerLine())
    frame: Frame = rows[:, : width * 3].reshape(height, width, 3).copy()
    return frame


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

    def __init__(self, spec: str, frames: FrameMailbox, open_source: FrameSourceOpener | None = None) -> None:
        super().__init__("camera")
        self._spec = spec
        self._frames = frames
        self._open_source = open_source

    def work(self, stop: threading.Event) -> None:
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
                self._frames.put(frame)
                now = time.monotonic()
                if now - last_preview >= PREVIEW_INTERVAL_S:
                    last_preview = now
                    self.preview.emit(frame_to_image(frame))
        finally:
            source.close()


class NarrationWorker(StreamWorker):
    description = Signal(object)  # NarrationEvent

    def __init__(
        self, frames: FrameMailbox, describe: Callable[[Frame], str], settings: NarrationSettings
    ) -> None:
        super().__init__("narration")
        self._frames = frames
        self._describe = describe
        self._settings = settings

    def work(self, stop: threading.Event) -> None:
        run_narration(
            self._frames, self._describe, self._on_description, stop, narrator=Narrator(self._settings),
            poll_seconds=0.2,
        )  # fmt: skip

    def _on_description(self, event: NarrationEvent) -> None:
        self.description.emit(event)


class VoiceQuestionWorker(StreamWorker):
    """Records from `source_spec` until stopped (key released), then emits the recognised question
    ("" when nothing was said)."""

    question = Signal(str)

    def __init__(self, source_spec: str, session: Session) -> None:
        super().__init__("voice-question")
        self._source_spec = source_spec
        self._session = session

    def work(self, stop: threading.Event) -> None:
        source = open_audio_source(self._source_spec)
        self.status.emit("listening for your question")
        audio = record_until(stop, source)
        self.question.emit(self._session.hear_question(audio))
