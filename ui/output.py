"""Where results and messages go: the window, the status list, and the voice the user listens to.

`Output` is the one place that decides how the user hears something, by the "Speak results with"
setting:
- **automatic** (the default): the user's screen reader when one is running, else the built-in voice;
- **screen reader**: the screen reader's own voice (`assistant.voice.screen_reader` picks Orca's service,
  Qt accessibility announcements, or speech-dispatcher, by what that reader handles);
- **voice**: the built-in voice (eSpeak NG through `SpeechController`);
- **off**: text only.
Results interrupt or go before captions; status changes and toggles are announced politely to a screen
reader (the built-in voice says toggles only). A screen-reader service that is missing or dies falls back
to the built-in voice, said once. Everything here runs on the GUI thread; slow starts run as jobs.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from assistant.session import Result
from assistant.voice import Priority, SpeechController, load_speaker
from assistant.voice.screen_reader import (
    BackgroundVoice,
    ScreenReader,
    ScreenReaderVoice,
    SpeechRoute,
    detect_screen_reader,
    open_screen_reader_voice,
    speech_route,
)
from ui.announce import Announcer
from ui.main_window import MainWindow
from ui.settings import Key, Settings
from ui.workers import JobRunner

log = logging.getLogger("ui.output")
GREETING = "Assistant ready. Press F1 for keyboard help."
"""Said once the voice is there, as a message: a screen reader's own speech at the time does not drop it."""


class Output(QObject):
    description_ready = Signal(str)  # a result was shown (for tests, the trace and the benchmark)
    spoken = Signal(str)  # text handed to a voice or the screen reader (for tests and the trace)
    _reader_voice_failed = Signal(str)  # from the screen-reader voice's thread to the GUI thread
    _speech_error = Signal(str)  # from the speech controller's thread to the GUI thread

    def __init__(self, settings: Settings, window: MainWindow, announcer: Announcer, jobs: JobRunner) -> None:
        super().__init__(window)
        self._settings = settings
        self._window = window
        self._announcer = announcer
        self._jobs = jobs
        self.speech: SpeechController | None = None
        self.route: SpeechRoute | None = None  # None: not the screen reader
        self.reader_voice: BackgroundVoice | None = None
        self.last_result = ""
        self.closed = False
        self._mode = ""
        self._speech_error.connect(lambda message: self.status(f"speech: {message}"))
        self._reader_voice_failed.connect(self._on_reader_voice_failed)

    # -- choosing the voice ---------------------------------------------------------------------------

    def start_speech(self) -> None:
        """Find the voice the user chose (or the screen reader, automatically) in the background."""
        mode = self._settings.get(Key.VOICE_OUTPUT)
        if mode == self._mode:
            return
        self._mode = mode
        self._close_voices()
        if mode == "off":
            return
        if mode == "voice":
            self._start_builtin_voice()
            return
        self._jobs.submit("screen reader", detect_screen_reader, self._on_screen_reader_found)

    def _on_screen_reader_found(self, reader: ScreenReader | None) -> None:
        mode = self._settings.get(Key.VOICE_OUTPUT)
        if self.closed or mode not in ("automatic", "screen reader"):
            return
        if reader is None and mode == "automatic":
            self._start_builtin_voice()
            return
        route = speech_route(reader)
        self.route = route
        found = f"{reader.name} is running" if reader is not None else "no screen reader found"
        self.status(f"{found}; speaking through {route.value}")
        if route in (SpeechRoute.SPEECH_DISPATCHER, SpeechRoute.ORCA_SERVICE):
            self._jobs.submit(
                "screen reader voice", lambda: open_screen_reader_voice(route), self._on_reader_voice_open,
                lambda message: self._on_reader_voice_failed(message),
            )  # fmt: skip
        else:
            self.speak(GREETING, Priority.NEXT)

    def _on_reader_voice_open(self, voice: ScreenReaderVoice | None) -> None:
        if self.closed or voice is None:
            return
        self.reader_voice = BackgroundVoice(voice, lambda error: self._reader_voice_failed.emit(str(error)))
        self.speak(GREETING, Priority.NEXT)

    def _on_reader_voice_failed(self, message: str) -> None:
        if self.closed:
            return
        if self.reader_voice is not None:
            self.reader_voice.close(0.1)
            self.reader_voice = None
        # Announcements still go out (a reader that handles them hears them); the voice fills in.
        self.route = SpeechRoute.ANNOUNCEMENTS
        self.status(f"{message}; using the built-in voice instead")
        self._start_builtin_voice(then_say=f"{message}. Using the built-in voice.")

    def _start_builtin_voice(self, then_say: str = GREETING) -> None:
        if self.speech is not None:
            self.speak(then_say, Priority.NEXT)
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

        def ready(controller: SpeechController) -> None:
            if self.closed:
                controller.close(timeout=0.2)
                return
            self.speech = controller
            self.status("voice ready")
            self.speak(then_say, Priority.NEXT)

        self.status("loading the voice")
        self._jobs.submit("speech", start, ready, self._on_speech_failed)

    def _on_speech_failed(self, message: str) -> None:
        self.status(
            f"no voice: {message} Results are shown as text; choose 'screen reader' under Settings, Speech "
            "to hear them through your screen reader."
        )

    def apply_settings(self) -> None:
        """After the settings changed: the new output choice at once, and the voice's rate and volume."""
        if self.speech is not None:
            self.speech.set_rate(self._settings.get(Key.RATE))
            self.speech.set_volume(self._settings.get(Key.VOLUME))
        self.start_speech()

    def _close_voices(self) -> None:
        if self.reader_voice is not None:
            self.reader_voice.close(0.2)
            self.reader_voice = None
        if self.speech is not None:
            self.speech.close(timeout=0.2)
            self.speech = None
        self.route = None

    def close(self, timeout: float) -> bool:
        self.closed = True
        clean = True
        if self.reader_voice is not None:
            clean &= self.reader_voice.close(timeout / 2)
        if self.speech is not None:
            clean &= bool(self.speech.close(timeout=timeout / 2))
        return clean

    # -- saying and showing ---------------------------------------------------------------------------

    def status(self, message: str, *, announce: bool = True) -> None:
        """A status line; a screen reader also hears it, politely (it never cuts off a result)."""
        log.info("status: %s", message)
        self._window.show_status(message)
        if announce and self.route is not None:
            self._announcer.announce(message)
            if self.reader_voice is not None:
                self.reader_voice.notify(message)

    def note(self, text: str, assertive: bool = False) -> None:
        """Something only a screen reader needs to hear (a dialog opened, a choice changed)."""
        if self.route is None:
            return
        if self.route is not SpeechRoute.ORCA_SERVICE:
            self._announcer.announce(text, assertive)
        if self.reader_voice is not None:
            if assertive:
                self.reader_voice.say(text, Priority.NEXT)
            else:
                self.reader_voice.notify(text)

    def toggled(self, message: str) -> None:
        """A toggle the user pressed (captions off, overlay shown): a status line, and said."""
        self.status(message, announce=False)
        self.speak(message[:1].upper() + message[1:] + ".", Priority.NOW)

    def speak(self, text: str, priority: Priority = Priority.NORMAL) -> None:
        """Say `text` with the voice the user listens to. NOW and NEXT interrupt or go before NORMAL
        (captions, narration) on every route."""
        if not text.strip():
            return
        if self.route is not None:
            if self.route is not SpeechRoute.ORCA_SERVICE:
                self._announcer.announce(text, assertive=priority is not Priority.NORMAL)
            if self.reader_voice is not None:
                self.reader_voice.say(text, priority)
            elif self.speech is not None:
                self.speech.say(text, priority)
        elif self.speech is not None:
            self.speech.say(text, priority)
        else:
            return
        self.spoken.emit(text)

    def interrupt(self) -> None:
        """Every user command starts here, so the assistant never talks over the user."""
        if self.reader_voice is not None:
            self.reader_voice.interrupt()
        if self.speech is not None:
            self.speech.interrupt()

    def show(self, result: Result) -> None:
        """A command's result: in the description view and its history, and said. Why the model server
        did not answer (`Result.notice`) comes first; a server's answer that was said sentence by
        sentence as it streamed in (`Result.spoken`) is not said again."""
        self.last_result = result.text
        if result.notice:
            self.status(result.notice, announce=False)
            self.speak(result.notice, Priority.NEXT)
        self._window.show_description(result.text)
        if not result.spoken:
            self.speak(result.said or result.text, result.priority)
        self.description_ready.emit(result.text)

    def failed(self, message: str) -> None:
        """A job failed with a message the user can act on."""
        self.status(message, announce=False)
        self.speak(message, Priority.NEXT)

    def repeat_last(self) -> None:
        if self.reader_voice is not None and self.reader_voice.repeat_last():
            return
        if self.route is None and self.speech is not None and self.speech.repeat_last():
            return
        if self.last_result:
            self.speak(self.last_result, Priority.NEXT)

