"""The window's general commands: speech, keyboard help, settings and quit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMessageBox

from assistant.models import download
from assistant.voice import Priority
from ui.caption_commands import copy_to_clipboard
from ui.commands import CommandActions
from ui.main_window import MainWindow
from ui.output import Output
from ui.settings import Settings
from ui.settings_dialog import SettingsDialog
from ui.workers import JobRunner


class AppCommands(QObject):
    def __init__(
        self,
        settings: Settings,
        output: Output,
        jobs: JobRunner,
        window: MainWindow,
        on_settings_changed: Callable[[], None],
        on_model_downloaded: Callable[[], None],
    ) -> None:
        super().__init__(window)
        self._settings = settings
        self._output = output
        self._jobs = jobs
        self._window = window
        self._on_settings_changed = on_settings_changed
        self._on_model_downloaded = on_model_downloaded
        self.actions: CommandActions | None = None  # set once the command table is bound
        self.help_dialog: QMessageBox | None = None
        self.settings_dialog: SettingsDialog | None = None

    def stop_speech(self) -> None:
        self._output.interrupt()

    def repeat_last(self) -> None:
        self._output.repeat_last()

    def copy_description(self) -> None:
        copy_to_clipboard(self._output, self._output.last_result, "description")

    def keyboard_help(self) -> None:
        assert self.actions is not None
        lines = self.actions.help_lines()
        self._output.speak("Keyboard commands. " + " ".join(lines), Priority.NEXT)
        if self.help_dialog is None:
            self.help_dialog = QMessageBox(self._window)
            self.help_dialog.setWindowTitle("Keyboard help")
            self.help_dialog.setAccessibleName("Keyboard help")
        self.help_dialog.setText("\n".join(lines))
        self.help_dialog.show()

    def open_settings(self) -> None:
        assert self.actions is not None
        if self.settings_dialog is None:
            self.settings_dialog = SettingsDialog(
                self._settings,
                self.actions,
                self._output.note,
                self._download_model,
                self._window,
                jobs=self._jobs,
            )
            self.settings_dialog.accepted.connect(self._on_settings_changed)
        else:
            self.settings_dialog.refresh()
        self.settings_dialog.open()
        self._output.note("Settings dialog. Control Tab moves between its pages.", assertive=True)

    def _download_model(self, name: str) -> None:
        self._output.status(f"downloading {name}")
        self._output.speak(f"Downloading {name}.")
        dialog = self.settings_dialog

        def done(path: Path) -> None:
            self._output.status(f"{name} downloaded to {path}")
            if dialog is not None:
                dialog.download_finished(True)
            self._on_model_downloaded()

        def failed(message: str) -> None:
            self._output.failed(message)
            if dialog is not None:
                dialog.download_finished(False)

        self._jobs.submit("download", lambda: download(name, progress=False), done, failed)

    def quit(self) -> None:
        self._window.close()
