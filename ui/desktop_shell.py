"""The assistant's place in the desktop session: system-wide keys, the instance socket that `assistant
send` and a second start talk to, the tray icon, starting hidden, and starting at login.

Built by the controller once the command table is bound; `start` runs with the rest of the slow start,
`serve` when `assistant app` claimed the instance socket, `show_at_start` instead of showing the window.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMainWindow

from assistant.desktop.autostart import autostart_enabled, set_autostart
from assistant.desktop.instance import InstanceServer
from ui.commands import CommandActions
from ui.global_keys import GlobalKeys
from ui.instance_bridge import InstanceBridge
from ui.output import Output
from ui.settings import Key, Settings
from ui.tray import Tray
from ui.workers import Streams

log = logging.getLogger("ui.desktop_shell")


class DesktopShell(QObject):
    def __init__(
        self,
        settings: Settings,
        actions: CommandActions,
        output: Output,
        streams: Streams,
        window: QMainWindow,
    ) -> None:
        super().__init__(window)
        self._settings = settings
        self._output = output
        self._window = window
        self.global_keys = GlobalKeys(actions, output, streams)
        self.tray = Tray(actions, window)
        self.instance = InstanceBridge(actions, output, streams, self.tray.show_window, self.tray.hide_window)
        # The autostart folder is the truth (the user may have removed the entry in the desktop's own
        # settings): the setting shows what is there.
        settings.set(Key.START_AT_LOGIN, autostart_enabled())

    def start(self) -> None:
        self.global_keys.start()
        if not self.tray.show() and self._settings.get(Key.START_HIDDEN):
            self._output.status("this desktop has no tray; the window starts minimised instead of hidden")

    def serve(self, server: InstanceServer) -> None:
        self.instance.serve(server)

    def show_at_start(self) -> None:
        """Show the window, or leave it hidden (in the tray; minimised where there is no tray)."""
        if not self._settings.get(Key.START_HIDDEN):
            self._window.show()
        elif not self.tray.available():
            self._window.showMinimized()

    def apply_settings(self) -> None:
        wanted = self._settings.get(Key.START_AT_LOGIN)
        if wanted != autostart_enabled():
            try:
                path = set_autostart(wanted)
            except OSError as error:
                self._output.status(f"could not change starting at login: {error}")
                return
            self._output.status(
                f"the assistant will start when you log in ({path})" if wanted
                else "the assistant will no longer start when you log in"
            )  # fmt: skip
