"""The commands about the user's desktop rather than the camera: describe or read the window that has
focus, and describe the screen around the mouse pointer.

They are meant for the system-wide keys and `assistant send`, pressed while another program has focus.
On X11 the active window is `_NET_ACTIVE_WINDOW` (`assistant.desktop.x11`), captured by Qt from the screen
(the root window cropped to the window, so what overlaps it is what the user has in front of them); the
result starts with the window's title, so the user hears which window it was ("Invoice.pdf — Document
Viewer: …"). Reading a window is said as it is read: its title and first line as soon as the OCR has
them, the rest after (`Session.read(screen=True)`); a newer command drops what is left of an older one's.
A Wayland desktop tells no program which window is active or lets it read the screen: there
the Screenshot portal gives the whole screen where the desktop offers it, and otherwise a message says so.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Mapping

from PySide6.QtCore import QObject, QRect, Signal
from PySide6.QtGui import QGuiApplication

from assistant.desktop.portal import SCREENSHOT, PortalError, portal_available, portal_screenshot
from assistant.desktop.session import DesktopKind, desktop_kind
from assistant.desktop.x11 import WindowInfo, X11Error, active_window, pointer_position
from assistant.session import Result, ResultKind, Session
from assistant.vision.image import Frame, load_image
from assistant.voice import Priority
from ui.output import Output
from ui.stream_workers import image_to_frame
from ui.workers import JobRunner

log = logging.getLogger("ui.desktop_commands")

POINTER_REGION = (480, 320)
"""Width and height of the screen area described around the mouse pointer."""
ACTIVE_WINDOW = "the active window"
AROUND_POINTER = "the area around the mouse pointer"

WHOLE_SCREEN = "The whole screen (Wayland does not say which window)"

Look = Callable[[Frame, str, str], Result]
"""What to do with a picture: (frame, origin, the title the result will be said with) -> result."""
Said = Callable[[str], None]


def titled(result: Result, title: str) -> Result:
    """`result` said with the window it came from first: "Invoice.pdf — Document Viewer: No text found."."""
    if not title:
        return result
    said = f"{title}: {result.said}" if result.said else ""
    return dataclasses.replace(result, text=f"{title}: {result.text}", said=said, origin=title)


class DesktopCommands(QObject):
    streamed = Signal(str)  # a sentence of a result was said as it was read (for tests and the trace)
    _sentence = Signal(int, str)  # (command number, sentence), from a job's thread

    def __init__(
        self,
        session: Session,
        output: Output,
        jobs: JobRunner,
        parent: QObject,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(parent)
        self._session = session
        self._output = output
        self._jobs = jobs
        self._environ = os.environ if environ is None else environ
        self._command = 0
        self._sentence.connect(self._on_sentence)

    def load_text_reader(self) -> None:
        """Load the OCR models in the background, so the first "read the active window" (pressed from
        another program, where the user waits with nothing else to hear) does not wait for them."""
        self._jobs.submit("text reader", self._session.text_reader.get, None, self._on_text_reader_failed)

    def _on_text_reader_failed(self, message: str) -> None:
        self._output.status(f"reading text will not work: {message}")

    # -- the commands ---------------------------------------------------------------------------------

    def describe_window(self) -> None:
        session = self._session
        self._look_at_window(
            "describing",
            lambda frame, origin, _title: session.describe(frame, "brief", origin),
            "describe-brief",
        )

    def read_window(self) -> None:
        session, streamer = self._session, self._streamer()

        def read(frame: Frame, origin: str, title: str) -> Result:
            return session.read(frame, origin, on_sentence=streamer(title), screen=True)

        self._look_at_window("reading", read, "read")

    def describe_pointer(self) -> None:
        session = self._session
        if self._wayland():
            self._show_message(
                f"On this Wayland desktop {AROUND_POINTER} cannot be told apart from the rest."
            )
            return
        try:
            x, y = pointer_position(self._display())
        except X11Error as error:
            self._output.failed(str(error))
            return
        width, height = POINTER_REGION
        frame = self._grab(QRect(x - width // 2, y - height // 2, width, height))
        if frame is None:
            return
        self._submit(
            f"describing {AROUND_POINTER}",
            lambda: titled(session.describe(frame, "brief", AROUND_POINTER), "Around the mouse pointer"),
            "describe-brief",
        )

    # -- looking at a window --------------------------------------------------------------------------

    def _look_at_window(self, verb: str, look: Look, command: str) -> None:
        if self._wayland():
            self._look_at_wayland_screen(verb, look, command)
            return
        try:
            window = active_window(self._display())
        except X11Error as error:
            self._output.failed(str(error))
            return
        if window is None or window.width <= 0 or window.height <= 0:
            self._show_message("No window has the focus.")
            return
        frame = self._grab(QRect(window.x, window.y, window.width, window.height))
        if frame is not None:
            self._submit(
                f"{verb} {_name(window)}",
                lambda: titled(look(frame, _name(window), window.title), window.title),
                command,
            )

    def _look_at_wayland_screen(self, verb: str, look: Look, command: str) -> None:
        def from_portal() -> Result:
            if not portal_available(SCREENSHOT, self._environ):
                return Result(
                    "This Wayland desktop lets no program see the screen (it offers no screenshot portal), "
                    "so the active window cannot be described or read. Describing the camera picture, "
                    "the clipboard or a file still works.",
                    ResultKind.MESSAGE,
                    ACTIVE_WINDOW,
                )
            try:
                frame = load_image(portal_screenshot())
            except PortalError as error:
                return Result(str(error), ResultKind.MESSAGE, ACTIVE_WINDOW)
            # The desktop does not say which window is active: the whole screen, and the user is told.
            return titled(look(frame, "the screen", WHOLE_SCREEN), WHOLE_SCREEN)

        self._submit(f"{verb} the screen through the desktop's screenshot portal", from_portal, command)

    # -- helpers --------------------------------------------------------------------------------------

    def _streamer(self) -> Callable[[str], Said]:
        """A new command's `on_sentence`, given the title its result is said with: the first sentence
        starts with that title (as `titled` does for a result said whole), and sentences are said only
        while the command is the newest."""
        self._command += 1
        command = self._command

        def for_title(title: str) -> Said:
            first = [True]

            def said(sentence: str) -> None:
                if first[0] and title:
                    sentence = f"{title}: {sentence}"
                first[0] = False
                self._sentence.emit(command, sentence)

            return said

        return for_title

    def _on_sentence(self, command: int, sentence: str) -> None:
        if command == self._command:
            self._output.speak(sentence, Priority.NEXT)
            self.streamed.emit(sentence)

    def _grab(self, area: QRect) -> Frame | None:
        """The screen inside `area` (clipped to the screen), or None (said) when there is no picture."""
        screen = QGuiApplication.primaryScreen()
        if screen is None:
            self._show_message("There is no screen to look at.")
            return None
        area = area.intersected(screen.geometry())
        image = screen.grabWindow(0, area.x(), area.y(), area.width(), area.height()).toImage()
        if image.isNull() or image.width() == 0:
            self._show_message("The screen could not be captured.")
            return None
        return image_to_frame(image)

    def _submit(self, what: str, work: Callable[[], Result], command: str) -> None:
        """Run `work` as a job; `command` ("describe-brief", "read") names how the model server may be
        asked, so the status says where the picture goes when it is."""
        host = self._session.server_host_for(command)
        self._output.status(f"sending the picture to {host}: {what}" if host else what)
        self._jobs.submit(what, work, self._output.show, self._output.failed)

    def _show_message(self, text: str) -> None:
        self._output.show(Result(text, ResultKind.MESSAGE, ACTIVE_WINDOW))

    def _display(self) -> str | None:
        return self._environ.get("DISPLAY") or None

    def _wayland(self) -> bool:
        return desktop_kind(self._environ) is DesktopKind.WAYLAND


def _name(window: WindowInfo) -> str:
    return window.title or ACTIVE_WINDOW
