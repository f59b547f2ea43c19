"""The window's Find command: type what to find (or hold the Find by voice key and say it), hear a rising
tone while looking and "keys, on the left, near" when it is in view. The search stops by itself once the
thing has stayed in view for `HOLD_SECONDS`; "Lost keys." is said if it leaves before then, and the
Find key stops the search at any time (Escape closes the box).

The search itself is `assistant.vision.finder` (`Finder`, `run_find`) on the camera's `FrameMailbox`, run
by a `FindWorker` on its own QThread; its events come back as signals, and the state is spoken and shown
through `Output` like every result. The finder model loads inside the worker, so a missing model is one
message naming `assistant models download siglip-base`.
"""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from assistant.audio.recording import record_until
from assistant.audio.sources import open_audio_source
from assistant.errors import AssistantError
from assistant.session import CAMERA_PICTURE, Result, ResultKind, Session
from assistant.vision.finder import HOLD_SECONDS, EmptyQueryError, Finder, FindEvent, clean_query, run_find
from assistant.vision.frames import FrameMailbox
from assistant.voice import Priority
from assistant.voice.tone import GuidanceTone
from ui.main_window import MainWindow
from ui.output import Output
from ui.settings import Key, Settings
from ui.workers import Streams, StreamWorker

STREAM = "find"
VOICE_STREAM = "find-voice"
NOTHING_HEARD = "I did not hear what to find. Hold the Find by voice key, say it, then let go."


class FindWorker(StreamWorker):
    """Loads the finder model (first time only), prepares the query's text side, then scores the camera's
    newest frame until stopped."""

    happened = Signal(object)  # FindEvent
    held = Signal(str)  # the query: it stayed in view for HOLD_SECONDS and the search ended by itself

    def __init__(self, session: Session, frames: FrameMailbox, query: str) -> None:
        super().__init__(STREAM)
        self._session = session
        self._frames = frames
        self._query = query

    def work(self, stop: threading.Event) -> None:
        scorer = self._session.finder.get()
        prepared = scorer.prepare(self._query)
        if stop.is_set():
            return
        self.status.emit(f"finding {prepared.text}")
        locate = None
        describer = self._session.scene.current()
        if not describer.is_fallback:
            locate = describer.locate  # Florence-2's grounding, when it is the scene model
        started = time.monotonic()
        finder = Finder(scorer, prepared, locate=locate)
        run_find(
            self._frames, finder, self.happened.emit, stop, lambda: time.monotonic() - started,
            stop_after_found=HOLD_SECONDS,
        )  # fmt: skip
        if finder.found and not stop.is_set():
            self.held.emit(prepared.text)


class SpokenQueryWorker(StreamWorker):
    """Records what to find until stopped (the key released), then emits the recognised words ("" when
    nothing was said): the same recording and recogniser as a question asked by voice."""

    heard = Signal(str)

    def __init__(self, source_spec: str, session: Session) -> None:
        super().__init__(VOICE_STREAM)
        self._source_spec = source_spec
        self._session = session

    def work(self, stop: threading.Event) -> None:
        source = open_audio_source(self._source_spec)
        self.status.emit("listening: say what to find")
        audio = record_until(stop, source)
        self.heard.emit(self._session.hear_question(audio))


class FindBox(QDialog):
    """A small non-modal box: what to find, Enter to start, Escape to close."""

    submitted = Signal(str)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setWindowTitle("Find")
        self.setAccessibleName("Find")
        self.setAccessibleDescription(
            "Type what to find in the camera picture, then press Enter. To say it instead, close this box "
            "and hold the Find by voice key."
        )
        label = QLabel("&What to find:")
        self.field = QLineEdit()
        self.field.setAccessibleName("What to find")
        self.field.setPlaceholderText("my keys")
        label.setBuddy(self.field)
        self.start_button = QPushButton("Find")
        self.start_button.setAccessibleName("Start finding")
        self.start_button.setDefault(True)
        layout = QHBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(self.field)
        layout.addWidget(self.start_button)
        self.start_button.clicked.connect(self._on_start_clicked)
        self.field.returnPressed.connect(self._on_start_clicked)

    def _on_start_clicked(self) -> None:
        text = self.field.text()
        self.hide()
        self.submitted.emit(text)

    def ask(self) -> None:
        self.field.selectAll()
        self.show()
        self.raise_()
        self.activateWindow()
        self.field.setFocus(Qt.FocusReason.ShortcutFocusReason)


class FindCommands(QObject):
    find_event = Signal(object)  # every FindEvent the window handled (for tests and the trace)

    def __init__(
        self,
        session: Session,
        settings: Settings,
        output: Output,
        streams: Streams,
        frames: FrameMailbox,
        window: MainWindow,
    ) -> None:
        super().__init__(window)
        self._session = session
        self._settings = settings
        self._output = output
        self._streams = streams
        self._frames = frames
        self.box = FindBox(window)
        self.box.submitted.connect(self.start_finding)
        self.tone = GuidanceTone(self._is_speaking)
        self._found = False

    @property
    def finding(self) -> bool:
        return self._streams.running(STREAM)

    def toggle_find(self) -> None:
        """The Find key: ask what to find, or stop the search in progress."""
        if self._streams.request_stop(STREAM):
            self._output.toggled("find off")
            return
        self.box.ask()

    @property
    def listening(self) -> bool:
        return self._streams.running(VOICE_STREAM)

    def start_voice_find(self) -> None:
        """The Find by voice key went down: listen for what to find. From a menu, where a key cannot be
        held, a second choice stops listening instead."""
        if self.listening:
            self.finish_voice_find()
            return
        self.box.hide()
        worker = SpokenQueryWorker(self._session.config.audio, self._session)
        worker.heard.connect(self._on_query_heard)
        worker.status.connect(self._output.status)
        worker.failed.connect(self._output.failed)
        self._streams.start(VOICE_STREAM, worker)

    def finish_voice_find(self) -> None:
        if self._streams.request_stop(VOICE_STREAM):
            self._output.status("recognising what to find")

    def _on_query_heard(self, words: str) -> None:
        if not words.strip(" .?!"):
            self._output.show(Result(NOTHING_HEARD, ResultKind.MESSAGE, "what to find"))
            return
        self.box.field.setText(words)
        self.start_finding(words)

    def start_finding(self, query: str) -> None:
        try:
            text = clean_query(query)
        except EmptyQueryError as error:
            self._output.show(Result(str(error), ResultKind.MESSAGE, CAMERA_PICTURE))
            return
        if self._frames.peek() is None:
            self._output.show(
                Result(
                    "No camera picture to search. Connect a camera, or start with --camera and a video file.",
                    ResultKind.MESSAGE,
                    CAMERA_PICTURE,
                )
            )
            return
        self._streams.request_stop(STREAM)
        self.tone.enabled = self._settings.get(Key.FIND_TONE)
        self._found = False
        worker = FindWorker(self._session, self._frames, text)
        worker.happened.connect(self._on_find_event)
        worker.held.connect(self._on_find_held)
        worker.status.connect(self._output.status)
        worker.failed.connect(self._output.failed)
        self._streams.start(STREAM, worker)
        self._output.toggled(f"finding {text}; press the Find key again to stop")

    def _on_find_event(self, event: FindEvent) -> None:
        self.find_event.emit(event)
        if event.type == "score":
            if not self._found:  # the tone guides towards it; once it is in view, speech has said where
                self.tone.update(event.level, event.t)
            return
        self._found = event.type == "found"
        self._output.show(Result(event.spoken(), ResultKind.DESCRIPTION, CAMERA_PICTURE, Priority.NOW))

    def _on_find_held(self, query: str) -> None:
        # NORMAL, not NOW: "keys, on the left, near" may still be being said, and is the part that matters.
        self._output.status(f"find off: {query} stayed in view", announce=False)
        self._output.speak("Finding stopped.", Priority.NORMAL)

    def _is_speaking(self) -> bool:
        speech = self._output.speech
        try:
            return bool(speech is not None and speech.is_speaking)
        except AssistantError:
            return False
