"""The tray icon: the main commands, showing and hiding the window, and quitting, from a menu a screen
reader can read (every item is a named action; the menu itself is named "Assistant").

Where the desktop has no tray (many Wayland desktops without an extension, a bare window manager), the
icon is not shown and "hide" minimises the window instead, so it can always be found again in the task
bar or with Alt+Tab. The menu's commands are the window's own actions, so they run exactly as their keys.
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QMainWindow, QMenu, QSystemTrayIcon

from assistant.desktop.autostart import ICON
from ui.commands import CommandActions

TRAY_COMMANDS = (
    "describe_window", "read_window", "describe_pointer", "describe_screen", "describe_clipboard",
    "toggle_captions", "toggle_overlay", "stop_speech", "repeat_last",
)  # fmt: skip


def app_icon() -> QIcon:
    return QIcon(str(ICON))


class Tray(QObject):
    def __init__(self, actions: CommandActions, window: QMainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.menu = QMenu(window)
        self.menu.setObjectName("tray_menu")
        self.menu.setTitle("Assistant")
        self.menu.setAccessibleName("Assistant")
        for command_id in TRAY_COMMANDS:
            self.menu.addAction(actions.actions[command_id])
        self.menu.addSeparator()
        self.window_action = QAction("&Hide the window", self.menu)
        self.window_action.setObjectName("action_show_hide_window")
        self.window_action.triggered.connect(self.toggle_window)
        self.menu.addAction(self.window_action)
        self.menu.addAction(actions.actions["open_settings"])
        self.menu.addAction(actions.actions["quit"])
        self.menu.aboutToShow.connect(self._on_menu_about_to_show)
        self.icon = QSystemTrayIcon(app_icon(), self)
        self.icon.setToolTip("Assistant")
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._on_icon_activated)

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def show(self) -> bool:
        """Show the icon where the desktop has a tray; False where it has none."""
        if not self.available():
            return False
        self.icon.show()
        return True

    def show_window(self) -> None:
        self._window.showNormal()
        self._window.raise_()
        self._window.activateWindow()

    def hide_window(self) -> None:
        if self.icon.isVisible():
            self._window.hide()
        else:
            self._window.showMinimized()

    def toggle_window(self) -> None:
        if self._window.isVisible() and not self._window.isMinimized():
            self.hide_window()
        else:
            self.show_window()

    def _on_menu_about_to_show(self) -> None:
        shown = self._window.isVisible() and not self._window.isMinimized()
        self.window_action.setText("&Hide the window" if shown else "&Show the window")

    def _on_icon_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.toggle_window()
