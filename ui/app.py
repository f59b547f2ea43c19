"""Starting the window: QApplication set-up, the command-line options, and a fast first paint.

`run(overrides, settings_path)` shows a usable window at once and loads models in the background
(`AppController.start`). `assistant app` (and plain `assistant`) is the one way in.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Sequence

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from assistant.desktop.instance import InstanceServer
from assistant.errors import AssistantError
from assistant.session import Overrides
from ui.controller import AppController
from ui.diagnostics import install_diagnostics
from ui.settings import Settings
from ui.tray import app_icon


def make_application(argv: Sequence[str] | None = None) -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    if not os.environ.get("QT_QPA_PLATFORM") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        # Qt would abort with a misleading "xcb-cursor0 is needed" message; the real cause is this.
        raise AssistantError(
            "no display to open the window on (DISPLAY is not set). Run it in a desktop session, or use "
            "`assistant captions` / `assistant describe` in the terminal."
        )
    app = QApplication(list(argv or sys.argv[:1]))
    app.setApplicationName("Assistant")
    app.setOrganizationName("assistant")
    app.setApplicationDisplayName("Assistant")
    return app


def run(
    overrides: Overrides, settings_path: str | None = None, instance: InstanceServer | None = None
) -> int:
    """Open the window and run until it closes; the exit code. `instance`: this session's instance socket,
    claimed by `assistant app`, served so `assistant send` and a second start reach this window."""
    app = make_application()
    app.setWindowIcon(app_icon())
    # The window may be hidden in the tray: closing a dialog then must not end the app; closing the
    # window (or Quit) does.
    app.setQuitOnLastWindowClosed(False)
    settings = Settings(settings_path)
    controller = AppController(settings, overrides)
    controller.window.closing.connect(app.quit)
    geometry = settings.window_geometry()
    if geometry is not None:
        controller.window.restoreGeometry(geometry)
    install_diagnostics(controller)  # only when ASSISTANT_TRACE or ASSISTANT_STALL_LOG is set
    if instance is not None:
        controller.shell.serve(instance)
    controller.shell.show_at_start()
    # Start the slow parts after the first paint, so the window is usable at once.
    QTimer.singleShot(0, controller.start)
    # Ctrl+C in the terminal, and SIGTERM (logging out, a service manager), close the window cleanly:
    # Qt would swallow the first, and the second would kill the app without saving its settings.
    signal.signal(signal.SIGINT, lambda *_: controller.window.close())
    signal.signal(signal.SIGTERM, lambda *_: controller.window.close())
    heartbeat = QTimer()
    heartbeat.start(200)  # lets Python run its signal handlers while Qt's loop is idle
    heartbeat.timeout.connect(lambda: None)
    code = app.exec()
    controller.shutdown()
    return int(code)
