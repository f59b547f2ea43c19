"""Starting the window: QApplication set-up, the command-line options, and a fast first paint.

`run(args)` shows a usable window at once and loads models in the background (`AppController.start`);
`python -m ui.app` takes the same options as `assistant app`.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from ui.controller import AppController, Sources
from ui.diagnostics import install_diagnostics
from ui.settings import Settings

log = logging.getLogger("ui.app")


def make_application(argv: Sequence[str] | None = None) -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    if not os.environ.get("QT_QPA_PLATFORM") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        # Qt would abort with a misleading "xcb-cursor0 is needed" message; the real cause is this.
        from assistant.errors import AssistantError

        raise AssistantError(
            "no display to open the window on (DISPLAY is not set). Run it in a desktop session, or use "
            "`assistant captions` / `assistant describe` in the terminal."
        )
    app = QApplication(list(argv or sys.argv[:1]))
    app.setApplicationName("Assistant")
    app.setOrganizationName("assistant")
    app.setApplicationDisplayName("Assistant")
    return app


def sources_from(args: argparse.Namespace) -> Sources:
    return Sources(
        camera=getattr(args, "camera", None),
        audio=getattr(args, "input", None),
        engine=getattr(args, "engine", None),
        model=getattr(args, "model", None),
        transcript=getattr(args, "transcript", None),
        captions=False if getattr(args, "no_captions", False) else None,
    )


def run(args: argparse.Namespace) -> int:
    app = make_application()
    settings = Settings(getattr(args, "settings", None))
    controller = AppController(settings, sources_from(args))
    geometry = settings.window_geometry()
    if geometry is not None:
        controller.window.restoreGeometry(geometry)
    install_diagnostics(controller)  # only when ASSISTANT_TRACE or ASSISTANT_STALL_LOG is set
    controller.window.show()
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


def main(argv: Sequence[str] | None = None) -> int:
    from assistant.cli.app import add_app_arguments

    parser = argparse.ArgumentParser(prog="python -m ui.app", description="The assistant's window.")
    add_app_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
