"""Live captioning: an audio source pumped through the streaming transcriber.

`LiveCaptioner.run(stop)` is a blocking loop meant for a worker thread (the command line runs it on the
main thread, the window on a QThread). It reads whatever audio has arrived, hands it to the
transcriber and passes caption events to a callback. A device that disappears is reported once and
reopened every second until it returns; the captions so far are finalised first, so nothing is lost.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from assistant.audio.pump import pump_audio
from assistant.audio.source import AudioArray, AudioSource
from assistant.speech.engines import RecognizerOptions, SpeechRecognizer, load_recognizer
from assistant.speech.streaming import StreamingSettings, StreamingTranscriber
from assistant.speech.types import CaptionEvent

log = logging.getLogger("assistant.speech.live")

EventCallback = Callable[[CaptionEvent], None]
StatusCallback = Callable[[str], None]
AudioCallback = Callable[[AudioArray], None]


class LiveCaptioner:
    """Runs one source through one transcriber until stopped or the source ends."""

    def __init__(
        self,
        source: AudioSource,
        transcriber: StreamingTranscriber,
        on_event: EventCallback,
        on_status: StatusCallback | None = None,
        reconnect_seconds: float = 1.0,
        on_audio: AudioCallback | None = None,
    ) -> None:
        """`on_audio`, when given, receives every chunk read from the source, on this loop's thread,
        before it is captioned: a fan-out of the one capture (sound alerts listen this way). Keep it
        cheap, such as `AudioTap.push` (which copies the chunk into a bounded buffer)."""
        self.source = source
        self._on_audio = on_audio
        self.transcriber = transcriber
        self._on_event = on_event
        self._on_status = on_status or (lambda message: log.info("captions: %s", message))
        self._reconnect_seconds = reconnect_seconds
        self._lag_reported = False

    def run(self, stop: threading.Event) -> None:
        """Caption until `stop` is set or a finite source ends. Raises `AssistantError` only when the
        source cannot be opened at all at the start."""
        pump_audio(
            self.source, stop, on_chunk=self._on_chunk, on_status=self._on_status,
            listening=f"listening to {self.source.description}", on_tick=self._on_tick,
            on_lost=self._on_source_lost, on_back=self._on_source_back,
            reconnect_seconds=self._reconnect_seconds,
        )  # fmt: skip
        self._emit(self.transcriber.finish())

    def _on_chunk(self, chunk: AudioArray) -> None:
        if self._on_audio is not None:
            self._on_audio(chunk)
        self.transcriber.insert_audio(chunk)

    def _on_tick(self) -> None:
        self._emit(self.transcriber.process())
        self._report_lag()

    def _on_source_lost(self) -> None:
        self._emit(self.transcriber.finish())  # what was said before the device went is final now

    def _on_source_back(self) -> None:
        self.transcriber.resume()
        self._lag_reported = False

    def _report_lag(self) -> None:
        lagging = self.transcriber.lag_seconds > self.transcriber.settings.max_lag
        if lagging and not self._lag_reported:
            self._on_status(
                f"recognition is {self.transcriber.lag_seconds:.1f} s behind; skipping interim captions "
                "to catch up (a smaller model or fewer other programs would help)"
            )
        elif not lagging and self._lag_reported:
            self._on_status("recognition has caught up")
        self._lag_reported = lagging

    def _emit(self, events: list[CaptionEvent]) -> None:
        for event in events:
            self._on_event(event)


def build_transcriber(
    recognizer: SpeechRecognizer, settings: StreamingSettings | None = None
) -> StreamingTranscriber:
    from assistant.audio.vad import StreamingVad, load_vad_session

    return StreamingTranscriber(recognizer, StreamingVad(load_vad_session()), settings)


def build_live_captioner(
    source_spec: str,
    *,
    engine: str = "faster-whisper",
    model: str = "tiny.en",
    language: str | None = "en",
    translate: bool = False,
    vocabulary: str | None = None,
    realtime: bool = False,
    threads: int = 2,
    on_event: EventCallback,
    on_status: StatusCallback | None = None,
    on_audio: AudioCallback | None = None,
) -> LiveCaptioner:
    """Load the model and make a captioner for `source_spec` (mic, system, a device, or a file).
    Slow (loads a model): call it off the GUI thread."""
    from assistant.audio.sources import open_audio_source

    source = open_audio_source(source_spec, realtime=realtime)
    if on_status is not None:
        on_status(f"loading speech model {model} ({engine})")
    options = RecognizerOptions(
        language=language, translate=translate, vocabulary=vocabulary or "", threads=threads
    )
    recognizer = load_recognizer(engine, model, options)
    return LiveCaptioner(source, build_transcriber(recognizer), on_event, on_status, on_audio=on_audio)
