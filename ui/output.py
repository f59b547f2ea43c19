"""Where results and messages go: the window, the status list, and the voice or the screen reader.

`Output` is the one place that decides how the user hears something (the built-in voice, their screen
reader, or nothing, by the "Speak results with" setting) and owns the speech controller, which starts in
the background. Everything here runs on the GUI thread.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from assistant.session import Result
from assistant.voice import Priority, SpeechController, load_speaker
from ui.announce import Announcer
from ui.main_window import MainWindow
from ui.settings import Key, Settings
from ui.workers import JobRunner

log = logging.getLogger("ui.output")


class Output(QObject):
    description_ready = Signal(str)  # a result was shown (for tests, the trace and the benchmark)
    _speech_error = Signal(str)  # from the speech controller's thread to the GUI thread

    def __init__(self, settings: Settings, window: MainWindow, announcer: Announcer, jobs: JobRunner) -> None:
        super().__init__(window)
        self._settings = settings
        self._window = window
        self._announcer = announcer
        self._jobs = jobs
        self.speech: SpeechController | None = None
        self.last_result = ""
        self.closed = False
        self._speech_error.connect(lambda message: self.status(f"speech: {message}"))

    # -- the voice ------------------------------------------------------------------------------------

    def start_speech(self) -> None:
        """Start the built-in voice in the background, when the user chose it."""
        if self._settings.get(Key.VOICE_OUTPUT) != "voice" or self.speech is not None:
            return
        rate, volume = self._settings.get(Key.RATE), self._settings.get(Key.VOLUME)
        voice = self._settings.get(Key.VOICE) or None

        def start() -> SpeechController:
            controller = SpeechController(
                lambda: load_speaker(rate=rate, volume=volume, voice=voice),
                on_error=lambda error: self._speech_error.emit(str(error)),
            )
            controller.start()
            return controller

        self.status("loading the voice")
        self._jobs.submit("speech", start, self._on_speech_ready, self._on_speech_failed)

    def _on_speech_ready(self, controller: SpeechController) -> None:
        if self.closed:
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

    def apply_settings(self) -> None:
        if self.speech is not None:
            self.speech.set_rate(self._settings.get(Key.RATE))
            self.speech.set_volume(self._settings.get(Key.VOLUME))
        else:
            self.start_speech()

    def close(self, timeout: float) -> bool:
        self.closed = True
        return self.speech is None or bool(self.speech.close(timeout=timeout))

    # -- saying and showing ---------------------------------------------------------------------------

    def status(self, message: str) -> None:
        log.info("status: %s", message)
        self._window.show_status(message)

    def speak(self, text: str, priority: Priority = Priority.NORMAL, assertive: bool = False) -> None:
        """Say `text` the way the user chose: our voice, their screen reader, or not at all."""
        output = self._settings.get(Key.VOICE_OUTPUT)
        if output == "screen reader":
            self._announcer.announce(text, assertive)
        elif output == "voice" and self.speech is not None:
            self.speech.say(text, priority)

    def interrupt(self) -> None:
        """Every user command starts here, so the assistant never talks over the user."""
        if self.speech is not None:
            self.speech.interrupt()

    def show(self, result: Result) -> None:
        """A command's result: in the description view and its history, and said."""
        self.last_result = result.text
        self._window.show_description(result.text)
        self.speak(result.text, result.priority)
        self.description_ready.emit(result.text)

    def failed(self, message: str) -> None:
        """A job failed with a message the user can act on."""
        self.status(message)
        self.speak(message, Priority.NEXT)

    def repeat_last(self) -> None:
        if self.speech is not None and self.speech.repeat_last():
            return
        if self.last_result:
            self.speak(self.last_result, Priority.NEXT)
