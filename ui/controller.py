"""The app controller: one method per command in `ui/commands.py`, and the wiring of workers to widgets.

It owns the running streams and the job pool, the speech controller, and the latest results. Results
arrive as signals on the GUI thread, where state changes and announcements happen. Anything missing (no
camera, no microphone, no speech engine, no scene model) becomes a status line that names the fix; the
rest keeps working.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from assistant.speech.types import CaptionEvent
from ui.announce import Announcer
from ui.commands import CommandActions
from ui.main_window import MainWindow
from ui.overlay import CaptionOverlay
from ui.settings import Key, Settings
from ui.streams import (
    CameraWorker,
    CaptionWorker,
    NarrationWorker,
    RecognizerCache,
    VoiceQuestionWorker,
    image_to_frame,
)
from ui.workers import FrameSlot, JobRunner, LockedDescriber, StreamHandle, TranscriptRecorder, start_stream

log = logging.getLogger("ui.controller")
SHUTDOWN_BUDGET_S = 1.8


@dataclass
class Sources:
    """What this session runs on: from the command line, else from the settings."""

    camera: str | None = None
    audio: str | None = None
    engine: str | None = None
    model: str | None = None
    transcript: str | None = None
    captions: bool | None = None  # None: the setting decides


class _SpeechBridge(QObject):
    """Carries the speech controller's thread hooks to the GUI thread as signals."""

    error = Signal(str)


class AppController(QObject):
    description_ready = Signal(str)  # for tests and the benchmark: a description was shown

    def __init__(self, settings: Settings, sources: Sources | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.sources = sources or Sources()
        self.window = MainWindow()
        self.overlay = CaptionOverlay(settings)
        self.announcer = Announcer(self.window)
        self.jobs = JobRunner(self)
        self.actions = CommandActions(settings, self, self.window)
        self.actions.build_menus(self.window.menuBar())
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.actions.hold_filter)
        self.frames = FrameSlot()
        self.recorder = TranscriptRecorder()
        self.speech: Any = None  # assistant.voice.SpeechController once started
        self._speech_bridge = _SpeechBridge(self)
        self._speech_bridge.error.connect(self._on_speech_error)
        self.describer: LockedDescriber | None = None
        self._fallback: LockedDescriber | None = None
        self._text_reader: Any = None
        self._recognizers = RecognizerCache(self._load_question_recognizer)
        self.streams: dict[str, StreamHandle] = {}
        self.last_description = ""
        self.settings_dialog: Any = None
        self.help_dialog: Any = None
        self._closed = False
        self.window.question_asked.connect(self._on_question_asked)
        self.window.closing.connect(self.shutdown)
        self.window.set_preview_visible(bool(settings.get(Key.SHOW_PREVIEW)))
        self.window.set_caption_size(int(settings.get(Key.OVERLAY_SIZE)) // 2)

    # -- start-up: the window first, then everything slow in the background --------------------------

    def start(self, *, load_models: bool = True) -> None:
        self.status("starting; models load in the background, the window works now")
        if load_models:
            self._start_speech()
            self._load_describer()
        camera = (
            self.sources.camera if self.sources.camera is not None else str(self.settings.get(Key.CAMERA))
        )
        if camera:
            self._start_camera(camera)
        captions = self.sources.captions
        if captions is None:
            captions = self.sources.audio is not None or bool(self.settings.get(Key.CAPTIONS_AT_START))
        if captions:
            self.toggle_captions()
        if self.sources.transcript:
            self._start_transcript(self.sources.transcript)
        if self.settings.get(Key.OVERLAY_AT_START):
            self.overlay.show()

    def _start_speech(self) -> None:
        if self.settings.get(Key.VOICE_OUTPUT) != "voice":
            return
        rate, volume = int(self.settings.get(Key.RATE)), float(self.settings.get(Key.VOLUME))
        voice = str(self.settings.get(Key.VOICE)) or None

        def start() -> Any:
            from assistant.voice import SpeechController, load_speaker

            controller = SpeechController(
                lambda: load_speaker(rate=rate, volume=volume, voice=voice),
                on_error=lambda error: self._speech_bridge.error.emit(str(error)),
            )
            controller.start()
            return controller

        self.status("loading the voice")
        self.jobs.submit("speech", start, self._on_speech_ready, self._on_speech_failed)

    def _on_speech_ready(self, controller: Any) -> None:
        if self._closed:
            controller.close(timeout=0.2)
            return
        self.speech = controller
        self.status("voice ready")
        self.speak("Assistant ready. Press F1 for keyboard help.")

    def _on_speech_failed(self, message: str) -> None:
        self.status(
            f"no voice: {message} Results are shown as text; choose 'screen reader' under Settings, Speech "
            "to hear them through your screen reader."
        )

    def _on_speech_error(self, message: str) -> None:
        self.status(f"speech: {message}")

    def _load_describer(self) -> None:
        model = str(self.settings.get(Key.SCENE_MODEL))

        def load() -> Any:
            from assistant.vision.describe import load_describer

            return load_describer(model)

        self.status(f"loading the scene model {model}")
        self.jobs.submit("describer", load, self._on_describer_ready, self._on_describer_failed)

    def _on_describer_ready(self, describer: Any) -> None:
        self.describer = LockedDescriber(describer)
        self.status(f"scene model {self.describer.model_name or 'ready'} loaded")
        self.speak("Scene model ready.")

    def _on_describer_failed(self, message: str) -> None:
        self.status(f"{message} Until then, descriptions use quick cues (light, colour, faces, text).")

    def _scene(self) -> LockedDescriber:
        """The scene model when loaded; quick cues otherwise (never blocks the user)."""
        if self.describer is not None:
            return self.describer
        if self._fallback is None:
            from assistant.vision.describe import FallbackDescriber

            self._fallback = LockedDescriber(FallbackDescriber())
        return self._fallback

    def _start_camera(self, spec: str) -> None:
        worker = CameraWorker(spec, self.frames)
        worker.preview.connect(self.window.show_preview)
        worker.status.connect(self.status)
        worker.failed.connect(
            lambda message: self.status(
                f"no camera: {message} Describing the screen, the clipboard or a file still works."
            )
        )
        self._run_stream("camera", worker)

    def _run_stream(self, name: str, worker: Any) -> StreamHandle:
        handle = start_stream(worker)
        self.streams[name] = handle
        handle.ended.connect(lambda: self._on_stream_finished(name, handle))
        return handle

    def _on_stream_finished(self, name: str, handle: StreamHandle) -> None:
        if self.streams.get(name) is handle:
            del self.streams[name]

    # -- output --------------------------------------------------------------------------------------

    def status(self, message: str) -> None:
        log.info("status: %s", message)
        self.window.show_status(message)

    def speak(self, text: str, priority: str = "normal", assertive: bool = False) -> None:
        """Say `text` the way the user chose: our voice, their screen reader, or not at all."""
        output = self.settings.get(Key.VOICE_OUTPUT)
        if output == "screen reader":
            self.announcer.announce(text, assertive)
        elif output == "voice" and self.speech is not None:
            from assistant.voice import Priority

            self.speech.say(text, Priority(priority))

    def interrupt_speech(self) -> None:
        """Every user command starts here, so the assistant never talks over the user."""
        if self.speech is not None:
            self.speech.interrupt()

    def _show_result(self, text: str, priority: str = "next") -> None:
        self.last_description = text
        self.window.show_description(text)
        self.speak(text, priority)
        self.description_ready.emit(text)

    def _on_caption(self, event: CaptionEvent) -> None:
        self.window.show_caption(event)
        self.overlay.on_caption(event)
        if event.kind == "final" and self.settings.get(Key.ANNOUNCE_CAPTIONS):
            self.announcer.announce(event.text)

    # -- vision commands -----------------------------------------------------------------------------

    def _frame_or_explain(self) -> Any:
        frame = self.frames.peek()
        if frame is None:
            self._show_result(
                "No camera picture yet. Connect a camera, or start with --camera and a video file; "
                "describing the screen, the clipboard or an image file works without one."
            )
        return frame

    def _describe(self, frame: Any, detail: str, what: str) -> None:
        scene = self._scene()
        self.status(f"describing {what}")
        self.jobs.submit(
            f"describe {what}",
            lambda: scene.describe(frame, detail).text,
            self._show_result,
            self._on_job_failed,
        )

    def _on_job_failed(self, message: str) -> None:
        self.status(message)
        self.speak(message, "next")

    def describe_now(self) -> None:
        frame = self._frame_or_explain()
        if frame is not None:
            self._describe(frame, "brief", "the camera picture")

    def describe_detailed(self) -> None:
        frame = self._frame_or_explain()
        if frame is not None:
            self._describe(frame, "detailed", "the camera picture in detail")

    def ask_typed(self) -> None:
        self.window.focus_question()

    def _on_question_asked(self, question: str) -> None:
        frame = self._frame_or_explain()
        if frame is None:
            return
        scene = self._scene()
        self.status(f"asking: {question}")
        self.jobs.submit("ask", lambda: scene.ask(frame, question), self._show_result, self._on_job_failed)

    @property
    def voice_question_active(self) -> bool:
        handle = self.streams.get("voice-question")
        return handle is not None and not handle.stop_event.is_set()

    def start_voice_question(self) -> None:
        if self.voice_question_active:
            return
        spec = self.sources.audio or str(self.settings.get(Key.MICROPHONE))
        worker = VoiceQuestionWorker(spec, self._recognizers)
        worker.question.connect(self._on_voice_question)
        worker.status.connect(self.status)
        worker.failed.connect(self._on_job_failed)
        self._run_stream("voice-question", worker)

    def finish_voice_question(self) -> None:
        handle = self.streams.get("voice-question")
        if handle is not None:
            handle.request_stop()
            self.status("recognising your question")

    def _on_voice_question(self, question: str) -> None:
        if not question:
            self._show_result("I did not hear a question. Hold the key while you speak.")
            return
        self.window.question.setText(question)
        self._on_question_asked(question)

    def _load_question_recognizer(self) -> Any:
        from assistant.speech.engines import RecognizerOptions, load_recognizer

        return load_recognizer(
            self.sources.engine or str(self.settings.get(Key.SPEECH_ENGINE)),
            self.sources.model or str(self.settings.get(Key.SPEECH_MODEL)),
            RecognizerOptions(language="en"),
        )

    def read_text(self) -> None:
        frame = self._frame_or_explain()
        if frame is None:
            return

        def read() -> str:
            if self._text_reader is None:
                from assistant.vision.ocr import load_text_reader

                self._text_reader = load_text_reader()
            text = str(self._text_reader.read(frame).text).strip()
            return text or "No text found in the picture."

        self.status("reading text")
        self.jobs.submit("read text", read, self._show_result, self._on_job_failed)

    def toggle_narration(self) -> None:
        handle = self.streams.get("narration")
        if handle is not None and not handle.stop_event.is_set():
            handle.request_stop()
            self.status("narration off")
            self.speak("Narration off.", "now")
            return
        from assistant.vision.narrator import NarrationSettings

        settings = NarrationSettings(
            change_threshold=float(self.settings.get(Key.NARRATION_CHANGE)),
            stable_seconds=float(self.settings.get(Key.NARRATION_STABLE)),
            min_gap_seconds=float(self.settings.get(Key.NARRATION_GAP)),
        )
        worker = NarrationWorker(self.frames, lambda frame: str(self._scene().describe(frame).text), settings)
        worker.description.connect(self._on_narration)
        worker.failed.connect(self._on_job_failed)
        self._run_stream("narration", worker)
        self.status("narration on")
        self.speak("Narration on.", "now")

    def _on_narration(self, event: Any) -> None:
        if event.interrupt:
            self.interrupt_speech()  # what is left of the last description is about a scene now gone
        self._show_result(event.text, "normal")

    def _describe_image(self, image: QImage, what: str) -> None:
        if image.isNull():
            self._show_result(f"There is no picture on {what}.")
            return
        self._describe(image_to_frame(image), "brief", what)

    def describe_screen(self) -> None:
        screen = QGuiApplication.primaryScreen()
        if screen is None:
            self._show_result("No screen to capture.")
            return
        self._describe_image(screen.grabWindow(0).toImage(), "the screen")

    def describe_window(self) -> None:
        # Our shortcuts only fire while our own window is active, and Qt cannot see other programs'
        # windows: until there is a global shortcut, describe the screen and say so.
        self.status("describing the active window needs a system-wide shortcut; describing the whole screen")
        self.describe_screen()

    def describe_clipboard(self) -> None:
        clipboard = QGuiApplication.clipboard()
        self._describe_image(clipboard.image(), "the clipboard")

    def describe_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.window,
            "Describe an image file",
            "",
            "Images (*.png *.jpg *.jpeg *.bmp *.gif *.webp *.tif *.tiff)",
        )
        if path:
            self.describe_path(path)

    def describe_path(self, path: str) -> None:
        scene = self._scene()

        def describe() -> str:
            from assistant.vision.image import load_image

            return str(scene.describe(load_image(path), "brief").text)

        self.status(f"describing {path}")
        self.jobs.submit("describe file", describe, self._show_result, self._on_job_failed)

    # -- captions commands ---------------------------------------------------------------------------

    def toggle_captions(self) -> None:
        handle = self.streams.get("captions")
        if handle is not None and not handle.stop_event.is_set():
            handle.request_stop()
            self.status("captions off")
            return
        spec = self.sources.audio or str(self.settings.get(Key.MICROPHONE))
        engine = self.sources.engine or str(self.settings.get(Key.SPEECH_ENGINE))
        model = self.sources.model or str(self.settings.get(Key.SPEECH_MODEL))
        language = str(self.settings.get(Key.LANGUAGE))
        translate = bool(self.settings.get(Key.TRANSLATE))
        vocabulary = str(self.settings.get(Key.VOCABULARY)) or None

        def factory(on_event: Callable[[CaptionEvent], None], on_status: Callable[[str], None]) -> Any:
            from assistant.speech.live import build_live_captioner

            return build_live_captioner(
                spec, engine=engine, model=model, language=None if language in ("", "auto") else language,
                translate=translate, vocabulary=vocabulary, realtime=True,
                on_event=on_event, on_status=on_status,
            )  # fmt: skip

        self.start_captions_with(factory)

    def start_captions_with(self, factory: Callable[..., Any]) -> StreamHandle:
        """Run captions from `factory(on_event, on_status)` (anything with `run(stop)`)."""
        worker = CaptionWorker(factory, self.recorder)
        worker.caption.connect(self._on_caption)
        worker.status.connect(lambda message: self.status(f"captions: {message}"))
        worker.failed.connect(
            lambda message: self.status(f"no captions: {message} Choose another source in Settings, Devices.")
        )
        self.status("captions starting")
        return self._run_stream("captions", worker)

    def toggle_overlay(self) -> None:
        if self.overlay.isVisible():
            self.overlay.hide()
            self.status("caption overlay hidden")
        else:
            self.overlay.show()
            self.overlay.raise_()
            self.status("caption overlay shown; focus it and use the arrow keys to move it")

    def _change_text_size(self, delta: int) -> None:
        size = max(8, min(120, int(self.settings.get(Key.OVERLAY_SIZE)) + delta))
        self.settings.set(Key.OVERLAY_SIZE, size)
        self.overlay.apply_settings()
        self.window.set_caption_size(size // 2)
        self.status(f"caption text {size} points")

    def larger_text(self) -> None:
        self._change_text_size(2)

    def smaller_text(self) -> None:
        self._change_text_size(-2)

    def copy_caption(self) -> None:
        self._copy(self.window.captions.last_final, "caption")

    def copy_description(self) -> None:
        self._copy(self.last_description, "description")

    def _copy(self, text: str, what: str) -> None:
        if not text:
            self.status(f"no {what} to copy yet")
            self.speak(f"No {what} yet.", "next")
            return
        QGuiApplication.clipboard().setText(text)
        self.status(f"{what} copied")
        self.speak(f"{what.capitalize()} copied.", "next")

    def save_transcript(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self.window,
            "Save transcript",
            "captions.txt",
            "Text (*.txt);;Subtitles (*.srt *.vtt);;JSON (*.json)",
        )
        if path:
            self._start_transcript(path)

    def _start_transcript(self, path: str) -> None:
        self.jobs.submit(
            "transcript",
            lambda: self.recorder.start(path),
            lambda saved: self.status(f"saving captions to {saved} as they are finalised"),
            self._on_job_failed,
        )

    # -- speech and help -----------------------------------------------------------------------------

    def stop_speech(self) -> None:
        self.interrupt_speech()

    def repeat_last(self) -> None:
        if self.speech is not None and self.speech.repeat_last():
            return
        if self.last_description:
            self.speak(self.last_description, "next")

    def keyboard_help(self) -> None:
        lines = self.actions.help_lines()
        self.speak("Keyboard commands. " + " ".join(lines), "next")
        if self.help_dialog is None:
            self.help_dialog = QMessageBox(self.window)
            self.help_dialog.setWindowTitle("Keyboard help")
            self.help_dialog.setAccessibleName("Keyboard help")
        self.help_dialog.setText("\n".join(lines))
        self.help_dialog.show()

    def open_settings(self) -> None:
        from ui.settings_dialog import SettingsDialog

        self.settings_dialog = SettingsDialog(
            self.settings, self.actions, self.announcer, self._download_model, self.window
        )
        self.settings_dialog.accepted.connect(self._on_settings_accepted)
        self.settings_dialog.open()

    def _download_model(self, name: str) -> None:
        from assistant.models import download

        self.status(f"downloading {name}")
        self.speak(f"Downloading {name}.")
        dialog = self.settings_dialog

        def done(path: Any) -> None:
            self.status(f"{name} downloaded to {path}")
            if dialog is not None:
                dialog.download_finished(True)
            self._load_describer()

        def failed(message: str) -> None:
            self._on_job_failed(message)
            if dialog is not None:
                dialog.download_finished(False)

        self.jobs.submit("download", lambda: download(name, progress=False), done, failed)

    def _on_settings_accepted(self) -> None:
        self.overlay.apply_settings()
        self.window.set_preview_visible(bool(self.settings.get(Key.SHOW_PREVIEW)))
        if self.speech is not None:
            self.speech.set_rate(int(self.settings.get(Key.RATE)))
            self.speech.set_volume(float(self.settings.get(Key.VOLUME)))
        elif self.settings.get(Key.VOICE_OUTPUT) == "voice":
            self._start_speech()
        self.status("settings saved; new devices and models take effect when you restart that stream")

    def quit(self) -> None:
        self.window.close()

    # -- shutdown ------------------------------------------------------------------------------------

    def shutdown(self, budget: float = SHUTDOWN_BUDGET_S) -> bool:
        """Stop everything within `budget` seconds; True when no worker was left running."""
        if self._closed:
            return True
        self._closed = True
        deadline = time.monotonic() + budget
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self.actions.hold_filter)
        handles = list(self.streams.values())
        for handle in handles:
            handle.request_stop()  # all at once, so they wind down in parallel
        self.frames.end()
        clean = True
        for handle in handles:
            clean &= handle.stop(max(0.05, deadline - time.monotonic()))
        if self.speech is not None:
            clean &= bool(self.speech.close(timeout=max(0.05, min(0.5, deadline - time.monotonic()))))
        clean &= self.jobs.shutdown(max(0.0, deadline - time.monotonic()))
        self.recorder.close()
        self.settings.set_window_geometry(self.window.saveGeometry())
        self.settings.sync()
        self.overlay.close()
        return clean
