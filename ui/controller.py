"""The window's composition root: it builds the widgets, the session and the command classes, binds the
command table to them, starts what the configuration asks for, and stops everything at the end.

What the commands do lives in the command classes (`ui/vision_commands.py`, `ui/caption_commands.py`,
`ui/app_commands.py`), which hand the slow work to the Qt-free `assistant.session.Session`; how results
reach the user lives in `ui/output.py`. Anything missing (no camera, no microphone, no speech engine, no
scene model) becomes a status line that names the fix; the rest keeps working.
"""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication, QDialog

from assistant.session import Overrides, Session
from assistant.vision.frames import FrameMailbox
from ui.alert_commands import AlertCommands
from ui.announce import Announcer
from ui.app_commands import AppCommands
from ui.caption_commands import CaptionCommands
from ui.command_table import COMMANDS, MENUS
from ui.commands import CommandActions
from ui.desktop_commands import DesktopCommands
from ui.desktop_shell import DesktopShell
from ui.find_commands import FindCommands
from ui.main_window import MainWindow
from ui.model_startup import ModelStartup
from ui.output import Output
from ui.overlay import CaptionOverlay
from ui.settings import Key, Settings, stored_config
from ui.vision_commands import VisionCommands
from ui.workers import JobRunner, Streams

log = logging.getLogger("ui.controller")
SHUTDOWN_BUDGET_S = 1.8


class AppController(QObject):
    """One window and everything it runs. `overrides` are the command line's choices, which win over the
    stored settings for this run."""

    def __init__(self, settings: Settings, overrides: Overrides | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.overrides = overrides or Overrides()
        self.session = Session(stored_config(settings).overridden_by(self.overrides))
        self.window = MainWindow()
        self.overlay = CaptionOverlay(settings)
        self.announcer = Announcer(self.window)
        self.jobs = JobRunner(self)
        self.streams = Streams(self)
        self.frames = FrameMailbox()
        self.output = Output(settings, self.window, self.announcer, self.jobs)
        self.description_ready = self.output.description_ready
        self.models = ModelStartup(self.session, self.output, self.jobs, self)
        self.vision = VisionCommands(
            self.session, self.output, self.jobs, self.streams, self.frames, self.window
        )
        self.captions = CaptionCommands(
            self.session, settings, self.output, self.jobs, self.streams, self.window, self.overlay
        )
        self.general = AppCommands(
            settings, self.output, self.jobs, self.window,
            on_settings_changed=self._on_settings_changed, on_model_downloaded=self._on_model_downloaded,
        )  # fmt: skip
        self.desktop = DesktopCommands(self.session, self.output, self.jobs, self.window)
        self.find = FindCommands(self.session, settings, self.output, self.streams, self.frames, self.window)
        self.alerts = AlertCommands(
            self.session, settings, self.output, self.streams, self.window, self.captions
        )
        self.command_objects = (
            self.vision, self.captions, self.general, self.desktop, self.find, self.alerts
        )  # fmt: skip
        self.actions = CommandActions(
            settings, COMMANDS, list(self.command_objects), self.output.interrupt, self.window, MENUS
        )
        self.general.actions = self.actions
        self.actions.build_menus(self.window.menuBar())
        self.shell = DesktopShell(settings, self.actions, self.output, self.streams, self.window)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.actions.hold_filter)
        self._closed = False
        self._closed_clean = True
        self.window.closing.connect(self.shutdown)
        self.window.set_preview_visible(settings.get(Key.SHOW_PREVIEW))
        self.window.set_caption_size(settings.get(Key.OVERLAY_SIZE) // 2)

    def start(self, *, load_models: bool = True) -> None:
        """The window works at once; everything slow starts here, in the background."""
        self.output.status("starting; models load in the background, the window works now")
        if load_models:
            self.output.start_speech()
            self.models.load_scene_model()
            self.desktop.load_text_reader()
        config = self.session.config
        self.models.prepare_server()
        if config.camera:
            self.vision.start_camera(config.camera)
        if config.captions_at_start:
            self.captions.toggle_captions()
            if self.settings.get(Key.ALERTS_WITH_CAPTIONS):
                self.alerts.toggle_alerts()  # on the captions' own capture: no second microphone
        if config.transcript:
            self.captions.start_transcript(config.transcript)
        if self.settings.get(Key.OVERLAY_AT_START):
            self.overlay.show()
        self.shell.start()

    def _on_settings_changed(self) -> None:
        self.session.config = stored_config(self.settings).overridden_by(self.overrides)
        self.models.prepare_server()
        self.overlay.apply_settings()
        self.window.set_preview_visible(self.settings.get(Key.SHOW_PREVIEW))
        self.output.apply_settings()
        self.shell.apply_settings()
        self.alerts.apply_settings()
        self.output.status("settings saved; new devices and models take effect when you restart that stream")

    def _on_model_downloaded(self) -> None:
        self.session.reload_scene()
        self.models.load_scene_model()

    def shutdown(self, budget: float = SHUTDOWN_BUDGET_S) -> bool:
        """Stop everything within `budget` seconds; True when no worker was left running."""
        if self._closed:  # the window's close ran it already; the app asks again once its loop has ended
            return self._closed_clean
        self._closed = True
        deadline = time.monotonic() + budget
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self.actions.hold_filter)
        for action in self.actions.actions.values():
            action.setEnabled(False)  # application-wide keys of a closed window must not fire, nor clash
        for dialog in self.window.findChildren(QDialog):
            dialog.close()  # help and settings are windows of their own: they do not close with ours
        self.frames.end()
        self.alerts.close()
        clean = self.streams.stop_all(deadline)
        clean &= self.output.close(timeout=max(0.05, min(0.5, deadline - time.monotonic())))
        clean &= self.jobs.shutdown(max(0.0, deadline - time.monotonic()))
        self.captions.recorder.close()
        self.settings.set_window_geometry(self.window.saveGeometry())
        self.settings.sync()
        self.overlay.close()
        self._closed_clean = clean
        return clean
