"""Starting the window: QApplication set-up, the command-line options, and a fast first paint.

`run(overrides, settings_path)` shows a usable window at once and loads models in the background
(`AppController.start`). `assistant app` (and plain `assistant`) is the one way in.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QLibraryInfo, QTimer
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
    _check_platform()
    app = QApplication(list(argv or sys.argv[:1]))
    app.setApplicationName("Assistant")
    app.setOrganizationName("assistant")
    app.setApplicationDisplayName("Assistant")
    return app


def _installed_platforms() -> set[str]:
    folder = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms"
    names = {path.name.split(".")[0] for path in folder.glob("*") if path.is_file()}
    return {name.removeprefix("libq") for name in names}


def _x_display_opens(name: str) -> bool | None:
    """Whether Xlib can open the X display `name`; None when Xlib itself is not there to ask."""
    library = ctypes.util.find_library("X11")
    if library is None:
        return None
    xlib = ctypes.CDLL(library)
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    handle = xlib.XOpenDisplay(name.encode())
    if not handle:
        return False
    xlib.XCloseDisplay(handle)
    return True


def _check_platform() -> None:
    """Say why the window cannot open before Qt finds out: Qt aborts the process (SIGABRT, "Reinstalling
    the application may fix this problem") for a platform plugin it lacks or an X display it cannot open."""
    requested = [part.split(":")[0].strip() for part in os.environ.get("QT_QPA_PLATFORM", "").split(";")]
    requested = [name for name in requested if name]
    if requested:
        installed = _installed_platforms()
        if installed and not any(name in installed for name in requested):
            raise AssistantError(
                f"QT_QPA_PLATFORM={os.environ['QT_QPA_PLATFORM']} names no display system Qt has here "
                f"(it has {', '.join(sorted(installed))}). Unset QT_QPA_PLATFORM, or set it to one of those."
            )
    x11 = requested[:1] == ["xcb"] or (not requested and not os.environ.get("WAYLAND_DISPLAY"))
    display = os.environ.get("DISPLAY", "")
    if x11 and display and _x_display_opens(display) is False:
        raise AssistantError(
            f"cannot open the display {display} (DISPLAY={display}): the X server is gone or refuses us. "
            "Run it in a desktop session, or use `assistant captions` / `assistant describe` in the terminal."
        )


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
    if not controller.shutdown():
        _leave_now(int(code), instance)
    return int(code)


def _leave_now(code: int, instance: InstanceServer | None) -> None:
    """End the process at once, everything the user keeps being saved already (finished captions are on
    disk as they come, settings were synced).

    WORKAROUND: a worker still inside a model call (a long final decode when the window closes mid-
    sentence) cannot be interrupted, and Python tearing down its QThread aborts the whole process
    ("QThread: Destroyed while thread is still running", SIGABRT). Waiting for it would hang the quit."""
    logging.getLogger(__name__).warning("app: a worker was still busy at exit; leaving without it")
    if instance is not None:
        instance.close()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
