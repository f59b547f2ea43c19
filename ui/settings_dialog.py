"""The settings dialog, built from the `Key` table (one page per area) plus a shortcut editor page.

Every control is labelled (the label is its buddy and its accessible name). Choices are written to
`Settings` when the user presses OK; shortcut changes apply at once (so the user can try the new key)
and a conflict is refused with a message that is shown and announced; Cancel puts every choice and key
back as they were when the dialog opened. The dialog is built once and refreshed each time it opens.
The models page downloads the scene model in a background job.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QKeySequenceEdit,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ui.commands import CommandActions, ShortcutConflictError
from ui.server_settings import ServerPanel
from ui.settings import KEYS, Area, Key, KeySpec, Settings
from ui.sound_alert_settings import SoundAlertsPanel
from ui.workers import JobRunner

Tell = Callable[[str, bool], None]
"""Tells the user's screen reader something: (text, assertive)."""


def editor_for(spec: KeySpec[Any]) -> QWidget:
    widget: QWidget
    if isinstance(spec.default, bool):
        widget = QCheckBox(spec.label)
    elif spec.choices:
        combo = QComboBox()
        combo.addItems(list(spec.choices))
        widget = combo
    elif isinstance(spec.default, int):
        spin = QSpinBox()
        spin.setRange(int(spec.minimum), int(spec.maximum or 10_000))
        spin.setSingleStep(int(spec.step))
        widget = spin
    elif isinstance(spec.default, float):
        double = QDoubleSpinBox()
        double.setRange(spec.minimum, spec.maximum or 1_000.0)
        double.setSingleStep(spec.step)
        double.setDecimals(2)
        widget = double
    else:
        widget = QLineEdit()
    widget.setObjectName(spec.name.replace("/", "_"))
    widget.setAccessibleName(spec.label)
    if spec.description:
        widget.setAccessibleDescription(spec.description)
        widget.setToolTip(spec.description)
    return widget


def read_editor(widget: QWidget) -> Any:
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    if isinstance(widget, QComboBox):
        return widget.currentText()
    if isinstance(widget, (QSpinBox, QDoubleSpinBox)):
        return widget.value()
    assert isinstance(widget, QLineEdit)
    return widget.text().strip()


def write_editor(widget: QWidget, value: Any) -> None:
    if isinstance(widget, QCheckBox):
        widget.setChecked(bool(value))
    elif isinstance(widget, QComboBox):
        widget.setCurrentText(str(value))
    elif isinstance(widget, QSpinBox):
        widget.setValue(int(value))
    elif isinstance(widget, QDoubleSpinBox):
        widget.setValue(float(value))
    elif isinstance(widget, QLineEdit):
        widget.setText(str(value))


WHICH_KEYS = ("in the assistant's window", "from any program (system-wide)")


class ShortcutEditor(QWidget):
    """Pick a command, press its new key, Assign. Conflicts are refused with a spoken message. "Which key"
    chooses between the command's window key and its system-wide key; below the buttons, what this desktop
    does with system-wide keys (and which another program holds) is written out."""

    def __init__(self, actions: CommandActions, tell: Tell | None) -> None:
        super().__init__()
        self._actions = actions
        self._tell = tell
        self.commands = QListWidget()
        self.commands.setObjectName("shortcut_commands")
        self.commands.setAccessibleName("Commands and their keys")
        self.key_edit = QKeySequenceEdit()
        self.key_edit.setObjectName("shortcut_key")
        self.key_edit.setAccessibleName("New key for the selected command")
        self.key_edit.setMaximumSequenceLength(1)
        for field in self.key_edit.findChildren(QLineEdit):  # the field a screen reader actually lands on
            field.setAccessibleName("New key for the selected command: press it")
        self.assign = QPushButton("A&ssign key")
        self.assign.setAccessibleName("Assign key")
        self.clear = QPushButton("&Remove key")
        self.clear.setAccessibleName("Remove key")
        self.reset = QPushButton("Restore &defaults")
        self.reset.setAccessibleName("Restore default keys")
        self.message = QLabel()
        self.message.setObjectName("shortcut_message")
        self.message.setWordWrap(True)
        self.which = QComboBox()
        self.which.setObjectName("shortcut_which")
        self.which.addItems(list(WHICH_KEYS))
        self.which.setAccessibleName("Which key to change")
        self.global_state = QLabel()
        self.global_state.setObjectName("global_keys_state")
        self.global_state.setWordWrap(True)
        buttons = QHBoxLayout()
        for button in (self.assign, self.clear, self.reset):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        label = QLabel("&Commands")
        label.setAccessibleName("Commands")
        label.setBuddy(self.commands)
        layout.addWidget(label)
        layout.addWidget(self.commands, 1)
        which_label = QLabel("&Which key")
        which_label.setAccessibleName("Which key")
        which_label.setBuddy(self.which)
        layout.addWidget(which_label)
        layout.addWidget(self.which)
        key_label = QLabel("&New key (press it)")
        key_label.setAccessibleName("New key (press it)")
        key_label.setBuddy(self.key_edit)
        layout.addWidget(key_label)
        layout.addWidget(self.key_edit)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addWidget(self.global_state)
        actions.global_state_changed.connect(self.refresh)
        self.assign.clicked.connect(self._on_assign_clicked)
        self.clear.clicked.connect(lambda: self._set(QKeySequence()))
        self.reset.clicked.connect(self._on_reset_clicked)
        self.refresh()
        self.commands.setCurrentRow(0)

    def refresh(self) -> None:
        row = self.commands.currentRow()
        self.commands.clear()
        native = QKeySequence.SequenceFormat.NativeText
        for item in self._actions.commands:
            keys = self._actions.shortcut(item.id).toString(native) or "no key"
            if item.global_key:
                anywhere = self._actions.global_shortcut(item.id).toString(native) or "no key"
                keys += f"; from any program: {anywhere}"
                refused = self._actions.global_refused.get(item.id)
                if refused:
                    keys += f" (does not work: {refused})"
            self.commands.addItem(f"{item.plain_title}: {keys}")
        self.commands.setCurrentRow(max(0, row))
        self.global_state.setText(self._actions.global_state)

    def _say(self, text: str, assertive: bool = False) -> None:
        self.message.setText(text)
        if self._tell is not None:
            self._tell(text, assertive)

    def _set(self, sequence: QKeySequence) -> bool:
        item = self._actions.commands[max(0, self.commands.currentRow())]
        system_wide = self.which.currentIndex() == 1
        try:
            if system_wide:
                self._actions.set_global_shortcut(item.id, sequence)
            else:
                self._actions.set_shortcut(item.id, sequence)
        except ShortcutConflictError as error:
            self._say(f"Not changed: {error}", assertive=True)
            return False
        self.refresh()
        keys = sequence.toString(QKeySequence.SequenceFormat.NativeText) or "no key"
        self._say(f"{item.plain_title} is now {keys}{' from any program' if system_wide else ''}.")
        return True

    def _on_assign_clicked(self) -> None:
        sequence = self.key_edit.keySequence()
        if sequence.isEmpty():
            self._say("Press the new key in the key box first.")
            return
        self._set(sequence)

    def _on_reset_clicked(self) -> None:
        self._actions.reset_shortcuts()
        self.refresh()
        self._say("All keys are back to their defaults.")


class SettingsDialog(QDialog):
    def __init__(
        self,
        settings: Settings,
        actions: CommandActions,
        tell: Tell | None = None,
        download: Callable[[str], None] | None = None,
        parent: QWidget | None = None,
        jobs: JobRunner | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("settings_dialog")
        self.setWindowTitle("Settings")
        self.setAccessibleName("Settings")
        self._settings = settings
        self.editors: dict[KeySpec[Any], QWidget] = {}
        self._actions = actions
        self._keys_when_opened = dict(actions.sequences)
        self._global_keys_when_opened = dict(actions.global_sequences)
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Settings pages")
        # Every page tab fits: no "Scroll Right" button in the Tab order.
        self.tabs.setUsesScrollButtons(False)
        for area in Area:
            page = QWidget()
            form = QFormLayout(page)
            for key in KEYS:
                if key.area is not area:
                    continue
                editor = editor_for(key)
                self.editors[key] = editor
                if isinstance(editor, QComboBox) and tell is not None:
                    # A closed combo box changed with the arrow keys is silent in Orca: say the choice.
                    editor.activated.connect(
                        lambda index, combo=editor, label=key.label: tell(
                            f"{label}: {combo.itemText(index)}", False
                        )
                    )
                if isinstance(editor, QCheckBox):
                    form.addRow(editor)
                else:
                    form.addRow(f"{key.label}:", editor)
            if area is Area.MODELS:
                self._add_download_row(form, download)
            if area is Area.SERVER:
                self.server = ServerPanel(form, self.editors, settings, jobs, tell, self)
            if area is Area.SOUND_ALERTS:
                self.sound_alerts = SoundAlertsPanel(form, settings, tell, self)
            self.tabs.addTab(page, area.value)
        self.shortcuts = ShortcutEditor(actions, tell)
        self.tabs.addTab(self.shortcuts, "Shortcuts")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        for button in self.buttons.buttons():
            button.setAccessibleName(button.text().replace("&", ""))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.buttons)
        self.refresh()

    def refresh(self) -> None:
        """Show the stored choices and remember the keys, so that Cancel can put them back."""
        for key, editor in self.editors.items():
            write_editor(editor, self._settings.get(key))
        self._keys_when_opened = dict(self._actions.sequences)
        self._global_keys_when_opened = dict(self._actions.global_sequences)
        self.shortcuts.refresh()
        self.server.refresh()
        self.sound_alerts.refresh()

    def _add_download_row(self, form: QFormLayout, download: Callable[[str], None] | None) -> None:
        self.download_button = QPushButton("&Download the scene model")
        self.download_button.setAccessibleName("Download the scene model")
        self.download_button.setEnabled(download is not None)
        self.download_progress = QProgressBar()
        self.download_progress.setAccessibleName("Download progress")
        self.download_progress.setRange(0, 1)
        self.download_progress.setValue(0)
        form.addRow(self.download_button)
        form.addRow("Progress:", self.download_progress)
        if download is not None:

            def start() -> None:
                self.download_progress.setRange(0, 0)  # busy: the store reports no byte counts to us
                download(read_editor(self.editors[Key.SCENE_MODEL]))

            self.download_button.clicked.connect(start)

    def download_finished(self, ok: bool) -> None:
        self.download_progress.setRange(0, 1)
        self.download_progress.setValue(1 if ok else 0)

    def accept(self) -> None:
        if not self.server.ready_to_save(self.accept):
            return  # an address to fix, or the question about sending pictures is open
        for key, editor in self.editors.items():
            self._settings.set(key, read_editor(editor))
        self.sound_alerts.save()
        self._settings.sync()
        super().accept()

    def reject(self) -> None:
        self._actions.restore_shortcuts(self._keys_when_opened, self._global_keys_when_opened)
        super().reject()
