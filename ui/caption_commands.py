"""The caption commands of the window: captions on and off, the overlay, text size, copy and save."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog

from assistant.audio.source import AudioArray
from assistant.audio.tap import AudioTap
from assistant.session import Session
from assistant.speech.caption_lines import PAUSE_SECONDS, UNFINISHED_PAUSE_SECONDS, SpokenCaptions
from assistant.speech.live import LiveCaptioner, build_live_captioner
from assistant.speech.transcripts import TranscriptRecorder
from assistant.speech.types import CaptionEvent
from assistant.voice import Priority
from ui.main_window import MainWindow
from ui.output import Output
from ui.overlay import CaptionOverlay
from ui.settings import Key, Settings
from ui.stream_workers import CaptionerFactory, CaptionWorker
from ui.workers import JobRunner, StreamHandle, Streams


class CaptionCommands(QObject):
    _transcript_problem = Signal(str)  # from the caption thread, where a failed write is found
    running_changed = Signal(bool)  # captions started or ended (sound alerts follow their capture)

    def __init__(
        self,
        session: Session,
        settings: Settings,
        output: Output,
        jobs: JobRunner,
        streams: Streams,
        window: MainWindow,
        overlay: CaptionOverlay,
    ) -> None:
        super().__init__(window)
        self._session = session
        self._settings = settings
        self._output = output
        self._jobs = jobs
        self._streams = streams
        self._window = window
        self._overlay = overlay
        self.recorder = TranscriptRecorder(on_problem=self._transcript_problem.emit)
        self._transcript_problem.connect(self._output.failed)
        self._spoken = SpokenCaptions()
        self._pause = QTimer(self)
        self._pause.setSingleShot(True)
        self._pause.setInterval(int(PAUSE_SECONDS * 1000))
        self._pause.timeout.connect(self._on_pause)
        self._pause_waited_longer = False
        overlay.escaped.connect(self._on_overlay_escaped)
        self._taps: list[AudioTap] = []  # other listeners of the captions' capture (sound alerts)
        self._taps_lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._streams.running("captions")

    def share_audio(self) -> AudioTap:
        """A source that hears what the captions hear, from the same capture, until captions end."""
        tap = AudioTap("the captions' audio")
        with self._taps_lock:
            self._taps.append(tap)
        return tap

    def _fan_out(self, chunk: AudioArray) -> None:
        """On the caption thread: every chunk the captions read, to every tap (a copy each; cheap)."""
        with self._taps_lock:
            for tap in self._taps:
                tap.push(chunk)

    def _end_taps(self) -> None:
        with self._taps_lock:
            taps, self._taps = self._taps, []
        for tap in taps:
            tap.end()

    def toggle_captions(self) -> None:
        if self._streams.request_stop("captions"):
            self._output.toggled("captions off")
            return
        config = self._session.config

        def factory(
            on_event: Callable[[CaptionEvent], None], on_status: Callable[[str], None]
        ) -> LiveCaptioner:
            return build_live_captioner(
                config.audio, engine=config.engine, model=config.model, language=config.recognition_language,
                translate=config.translate, vocabulary=config.vocabulary or None, threads=config.threads,
                realtime=True, on_event=on_event, on_status=on_status, on_audio=self._fan_out,
            )  # fmt: skip

        self.start_captions_with(factory)

    def start_captions_with(self, factory: CaptionerFactory) -> StreamHandle:
        """Run captions from `factory(on_event, on_status)`."""
        worker = CaptionWorker(factory, self.recorder)
        worker.caption.connect(self.show_caption)
        worker.status.connect(lambda message: self._output.status(f"captions: {message}"))
        worker.failed.connect(
            lambda message: self._output.status(
                f"no captions: {message} Choose another source in Settings, Devices."
            )
        )
        self._output.toggled("captions starting")
        handle = self._streams.start("captions", worker)
        handle.ended.connect(self._on_captions_ended)
        self.running_changed.emit(True)
        return handle

    def _on_captions_ended(self) -> None:
        self._end_taps()
        self.running_changed.emit(False)

    def show_caption(self, event: CaptionEvent) -> None:
        """Where every caption event lands: the window, the overlay, and the screen reader if asked
        (whole sentences, or what came before a pause: never a fragment every second)."""
        self._window.show_caption(event)
        self._overlay.on_caption(event)
        if not self._settings.get(Key.ANNOUNCE_CAPTIONS):
            return
        if event.kind == "final":
            for text in self._spoken.add(event):
                self._output.speak(text, Priority.NORMAL)
            self._start_pause(PAUSE_SECONDS)
        elif self._pause.isActive():
            # A partial means the speaker has not paused: on a slow machine finals can come more than
            # a pause apart within one sentence, and the sentence must not be said in pieces.
            self._pause.start()

    def _start_pause(self, seconds: float, waiting_longer: bool = False) -> None:
        self._pause_waited_longer = waiting_longer
        self._pause.setInterval(int(seconds * 1000))
        self._pause.start()

    def _on_pause(self) -> None:
        if self._spoken.waiting_for_sentence_end() and not self._pause_waited_longer:
            # The sentence is not over: wait a little longer for its end before saying a fragment.
            self._start_pause(UNFINISHED_PAUSE_SECONDS - PAUSE_SECONDS, waiting_longer=True)
            return
        self._output.speak(self._spoken.flush(), Priority.NORMAL)

    def toggle_overlay(self) -> None:
        if self._overlay.isVisible():
            self._overlay.hide()
            self._output.toggled("caption overlay hidden")
        else:
            self._overlay.show()
            self._overlay.raise_()
            self._output.toggled("caption overlay shown")

    def focus_overlay(self) -> None:
        self._overlay.take_focus()
        self._output.status("caption overlay focused: arrow keys move it, Escape goes back")

    def _on_overlay_escaped(self) -> None:
        self._window.activateWindow()
        self._window.raise_()

    def _change_text_size(self, delta: int) -> None:
        size = max(8, min(120, self._settings.get(Key.OVERLAY_SIZE) + delta))
        self._settings.set(Key.OVERLAY_SIZE, size)
        self._overlay.apply_settings()
        self._window.set_caption_size(size // 2)
        self._output.status(f"caption text {size} points")

    def larger_text(self) -> None:
        self._change_text_size(2)

    def smaller_text(self) -> None:
        self._change_text_size(-2)

    def copy_caption(self) -> None:
        copy_to_clipboard(self._output, self._window.captions.last_line, "caption")

    def save_transcript(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self._window,
            "Save transcript",
            "captions.txt",
            "Text (*.txt);;Subtitles (*.srt *.vtt);;JSON (*.json)",
        )
        if path:
            self.start_transcript(path)

    def start_transcript(self, path: str) -> None:
        """Save the captions so far to `path` and keep adding to it (the file is written in a job)."""
        recorder = self.recorder

        def start() -> Path:
            return recorder.start(path)

        self._jobs.submit(
            "transcript",
            start,
            lambda saved: self._output.status(f"saving captions to {saved} as they are finalised"),
            self._output.failed,
        )


def copy_to_clipboard(output: Output, text: str, what: str) -> None:
    if not text:
        output.status(f"no {what} to copy yet")
        output.speak(f"No {what} yet.", Priority.NEXT)
        return
    QGuiApplication.clipboard().setText(text)
    output.status(f"{what} copied")
    output.speak(f"{what.capitalize()} copied.", Priority.NEXT)
