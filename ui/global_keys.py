"""System-wide keys in the window: the grabber for this desktop, run as a stream, and what the user is
told about keys that cannot be had.

- X11 (Qt on xcb, not inside a Wayland session): `assistant.desktop.x11.GlobalKeyListener`.
- Wayland with the GlobalShortcuts portal: `assistant.desktop.portal.PortalShortcutListener`.
- Wayland without it: no grabber; the status and the settings say to bind `assistant send …` in the
  desktop's keyboard settings.
- No desktop (Qt's offscreen platform, as in most tests): none, said in the settings only.

A key another program holds is named in a status line (spoken politely) and beside the command in the
shortcut editor (`CommandActions.global_refused`); the others work. A key press arrives as a signal on
the GUI thread and runs the command as its window key would (`CommandActions.press_global`). While the
shortcut editor's key field has the focus the keys are let go, so that pressing one of them there types
it into the field (and is refused as taken) instead of running its command.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Protocol

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtWidgets import QApplication, QKeySequenceEdit, QWidget

from assistant.desktop.commands import send_hint
from assistant.desktop.portal import GLOBAL_SHORTCUTS, PortalShortcutListener, portal_available
from assistant.desktop.session import DesktopKind, desktop_kind
from assistant.desktop.x11 import GlobalKeyListener, GrabOutcome, KeyEvent
from ui.commands import CommandActions
from ui.output import Output
from ui.workers import Streams, StreamWorker

log = logging.getLogger("ui.global_keys")
STREAM = "global-keys"


class KeyListener(Protocol):
    """`GlobalKeyListener` (X11) or `PortalShortcutListener` (Wayland)."""

    def set_keys(self, keys: Mapping[str, str]) -> None: ...

    def run(
        self,
        stop: threading.Event,
        on_key: Callable[[KeyEvent], None],
        on_grab: Callable[[list[GrabOutcome]], None],
        stop_poll_s: float = 0.1,
    ) -> None: ...


class GlobalKeyWorker(StreamWorker):
    pressed = Signal(str, float)  # command id, wall time the key was read
    released = Signal(str, float)
    grabbed = Signal(object)  # list[GrabOutcome]

    def __init__(self, listener: KeyListener) -> None:
        super().__init__(STREAM)
        self._listener = listener

    def work(self, stop: threading.Event) -> None:
        self._listener.run(stop, self._on_key, self.grabbed.emit)

    def _on_key(self, event: KeyEvent) -> None:
        (self.pressed if event.pressed else self.released).emit(event.command_id, event.wall)


class GlobalKeys(QObject):
    """Keeps the desktop's system-wide keys in step with the command table's."""

    key_pressed = Signal(str, float)  # after the command ran: its id and when the key was read

    def __init__(
        self,
        actions: CommandActions,
        output: Output,
        streams: Streams,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(actions)
        self._actions = actions
        self._output = output
        self._streams = streams
        self._environ = os.environ if environ is None else environ
        self.listener: KeyListener | None = None
        self.kind = DesktopKind.NONE
        self._paused = False
        actions.global_keys_changed.connect(self._on_keys_changed)
        app = QGuiApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._on_focus_changed)

    def start(self, kind: DesktopKind | None = None) -> None:
        """Grab the keys; `kind` forces the desktop kind (tests), else it follows Qt's platform."""
        self.kind = self._desktop() if kind is None else kind
        if self.kind is DesktopKind.X11:
            self.listener = GlobalKeyListener(self._environ.get("DISPLAY") or None)
        elif self.kind is DesktopKind.WAYLAND and portal_available(GLOBAL_SHORTCUTS, self._environ):
            self.listener = PortalShortcutListener(
                lambda command_id: self._actions.command(command_id).plain_title
            )
        elif self.kind is DesktopKind.WAYLAND:
            self._set_state(
                "This Wayland desktop gives programs no system-wide keys (it offers no GlobalShortcuts "
                f"portal): {send_hint()}.",
                announce=True,
            )
            return
        else:
            self._set_state("System-wide keys work only in a desktop session; the window's keys work here.")
            return
        self._set_state("System-wide keys: being set up.")
        worker = GlobalKeyWorker(self.listener)
        worker.pressed.connect(self._on_pressed)
        worker.released.connect(self._on_released)
        worker.grabbed.connect(self._on_grabbed)
        worker.failed.connect(self._on_failed)
        self.listener.set_keys(self._actions.global_keys())
        self._streams.start(STREAM, worker)

    def _desktop(self) -> DesktopKind:
        platform = QGuiApplication.platformName()
        session = desktop_kind(self._environ)
        if platform == "wayland" or (platform == "xcb" and session is DesktopKind.WAYLAND):
            return DesktopKind.WAYLAND
        if platform == "xcb":
            return DesktopKind.X11
        return DesktopKind.NONE

    def _set_state(self, text: str, announce: bool = False) -> None:
        self._actions.global_state = text
        self._actions.global_state_changed.emit()
        if announce:
            self._output.status(text)

    def _on_keys_changed(self) -> None:
        if self.listener is not None and not self._paused:
            self.listener.set_keys(self._actions.global_keys())

    def _on_focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        typing_a_key = new is not None and (
            isinstance(new, QKeySequenceEdit) or isinstance(new.parentWidget(), QKeySequenceEdit)
        )
        if typing_a_key == self._paused or self.listener is None:
            return
        self._paused = typing_a_key
        self.listener.set_keys({} if typing_a_key else self._actions.global_keys())

    def _on_pressed(self, command_id: str, wall: float) -> None:
        log.info("global keys: %s pressed (%.0f ms ago)", command_id, (time.time() - wall) * 1000)
        self._actions.press_global(command_id)
        self.key_pressed.emit(command_id, wall)

    def _on_released(self, command_id: str, _wall: float) -> None:
        self._actions.release_global(command_id)

    def _on_grabbed(self, outcomes: list[GrabOutcome]) -> None:
        if self._paused:
            self._set_state("System-wide keys are off while the key field has the focus.")
            return
        refused = {outcome.command_id: outcome.reason for outcome in outcomes if not outcome.ok}
        self._actions.global_refused = refused
        working = sum(outcome.ok for outcome in outcomes)
        where = "on this desktop" if self.kind is DesktopKind.WAYLAND else "from any program"
        state = f"System-wide keys: {working} of {len(outcomes)} work {where}."
        for command_id, reason in refused.items():
            title = self._actions.command(command_id).plain_title
            keys = self._actions.global_shortcut(command_id).toString(QKeySequence.SequenceFormat.NativeText)
            message = (
                f"The system-wide key {keys} for “{title}” does not work: {reason}. Choose another key "
                "under Settings, Shortcuts."
            )
            state += " " + message
            self._output.status(message)
        self._set_state(state)

    def _on_failed(self, message: str) -> None:
        self._set_state(f"System-wide keys stopped: {message}. {send_hint().capitalize()}.", announce=True)
