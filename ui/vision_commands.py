"""The vision commands of the window: describe, ask, read, narrate, and the camera that feeds them.

Each command takes a picture (the camera's newest frame, the screen, the clipboard, a file) on the GUI
thread, then hands the slow part to `Session` in a one-off job; the result comes back to `Output`.
When a model server answers, the status says the picture is being sent and to which host, and each
sentence of its streamed answer comes back as a queued signal and is said at once (a newer command
drops the rest of an older one's).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QFileDialog

from assistant.session import CAMERA_PICTURE, NO_QUESTION, Result, ResultKind, Session, no_picture
from assistant.vision.describe import Detail
from assistant.vision.frames import FrameMailbox
from assistant.vision.image import Frame, load_image
from assistant.vision.narrator import NarrationEvent
from assistant.voice import Priority
from ui.main_window import MainWindow
from ui.output import Output
from ui.stream_workers import CameraWorker, NarrationWorker, VoiceQuestionWorker, image_to_frame
from ui.workers import JobRunner, Streams


class VisionCommands(QObject):
    streamed = Signal(str)  # a server's sentence was said (for tests and the trace)
    _sentence = Signal(int, str)  # (command number, sentence), from a job's thread

    def __init__(
        self,
        session: Session,
        output: Output,
        jobs: JobRunner,
        streams: Streams,
        frames: FrameMailbox,
        window: MainWindow,
    ) -> None:
        super().__init__(window)
        self._session = session
        self._output = output
        self._jobs = jobs
        self._streams = streams
        self._frames = frames
        self._window = window
        self._command = 0
        window.question_asked.connect(self._on_question_asked)
        self._sentence.connect(self._on_sentence)

    # -- the camera -----------------------------------------------------------------------------------

    def start_camera(self, spec: str) -> None:
        worker = CameraWorker(spec, self._frames)
        worker.preview.connect(self._window.show_preview)
        worker.status.connect(self._output.status)
        worker.failed.connect(
            lambda message: self._output.status(
                f"no camera: {message} Describing the screen, the clipboard or a file still works."
            )
        )
        self._streams.start("camera", worker)

    # -- one-off looks --------------------------------------------------------------------------------

    def _run(self, what: str, look: Callable[[], Result], command: str = "") -> None:
        """Run `look` as a job. `command` ("describe-detailed", "ask", "read") names a look the model
        server may answer: the status then says where the picture goes."""
        host = self._session.server_host_for(command) if command else None
        self._output.status(f"sending the picture to {host}: {what}" if host else what)
        self._jobs.submit(what, look, self._output.show, self._output.failed)

    def _streamer(self) -> Callable[[str], None]:
        """The `on_sentence` of a new command; its sentences are said only while it is the newest."""
        self._command += 1
        command = self._command
        return lambda sentence: self._sentence.emit(command, sentence)

    def _on_sentence(self, command: int, sentence: str) -> None:
        if command == self._command:
            self._output.speak(sentence, Priority.NEXT)
            self.streamed.emit(sentence)

    def _camera_frame(self) -> Frame | None:
        frame = self._frames.peek()
        if frame is None:
            self._output.show(no_picture())
        return frame

    def _describe(self, frame: Frame, detail: Detail, origin: str) -> None:
        session, said = self._session, self._streamer()
        self._run(
            f"describing {origin}",
            lambda: session.describe(frame, detail, origin, on_sentence=said),
            f"describe-{detail}",
        )

    def describe_now(self) -> None:
        frame = self._camera_frame()
        if frame is not None:
            self._describe(frame, "brief", CAMERA_PICTURE)

    def describe_detailed(self) -> None:
        frame = self._camera_frame()
        if frame is not None:
            self._describe(frame, "detailed", CAMERA_PICTURE)

    def read_text(self) -> None:
        frame = self._camera_frame()
        if frame is not None:
            session, said = self._session, self._streamer()
            self._run("reading text", lambda: session.read(frame, on_sentence=said), "read")

    def ask_typed(self) -> None:
        self._window.focus_question()

    def _on_question_asked(self, question: str) -> None:
        frame = self._camera_frame()
        if frame is not None:
            session, said = self._session, self._streamer()
            self._run(f"asking: {question}", lambda: session.ask(frame, question, on_sentence=said), "ask")

    def _describe_image(self, image: QImage, origin: str) -> None:
        if image.isNull():
            self._output.show(no_picture(origin))
            return
        self._describe(image_to_frame(image), "brief", origin)

    def describe_screen(self) -> None:
        screen = QGuiApplication.primaryScreen()
        if screen is None:
            self._output.show(no_picture("the screen"))
            return
        self._describe_image(screen.grabWindow(0).toImage(), "the screen")

    def describe_clipboard(self) -> None:
        self._describe_image(QGuiApplication.clipboard().image(), "the clipboard")

    def describe_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self._window,
            "Describe an image file",
            "",
            "Images (*.png *.jpg *.jpeg *.bmp *.gif *.webp *.tif *.tiff)",
        )
        if path:
            self.describe_path(path)

    def describe_path(self, path: str) -> None:
        session = self._session
        self._run(
            f"describing {path}", lambda: session.describe(load_image(path), "brief", path), "describe-brief"
        )

    # -- streams --------------------------------------------------------------------------------------

    def toggle_narration(self) -> None:
        if self._streams.request_stop("narration"):
            self._output.toggled("narration off")
            return
        session = self._session
        worker = NarrationWorker(
            self._frames, lambda frame: session.narrate(frame).text, session.config.narration
        )
        worker.description.connect(self._on_narration)
        worker.failed.connect(self._output.failed)
        self._streams.start("narration", worker)
        self._output.toggled("narration on")

    def _on_narration(self, event: NarrationEvent) -> None:
        if event.interrupt:
            self._output.interrupt()  # what is left of the last description is about a scene now gone
        self._output.show(Result(event.text, ResultKind.DESCRIPTION, CAMERA_PICTURE, Priority.NORMAL))

    @property
    def voice_question_active(self) -> bool:
        return self._streams.running("voice-question")

    def start_voice_question(self) -> None:
        """Start listening for a spoken question; from a menu, where a key cannot be held, a second
        choice stops listening instead."""
        if self.voice_question_active:
            self.finish_voice_question()
            return
        worker = VoiceQuestionWorker(self._session.config.audio, self._session)
        worker.question.connect(self._on_voice_question)
        worker.status.connect(self._output.status)
        worker.failed.connect(self._output.failed)
        self._streams.start("voice-question", worker)

    def finish_voice_question(self) -> None:
        if self._streams.request_stop("voice-question"):
            self._output.status("recognising your question")

    def _on_voice_question(self, question: str) -> None:
        if not question:
            self._output.show(Result(NO_QUESTION, ResultKind.MESSAGE, "your question"))
            return
        self._window.question.setText(question)
        self._on_question_asked(question)
