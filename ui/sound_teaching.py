"""Teaching a sound from the microphone, in the window: "Teach a sound…" opens a small dialog where the
user types a name (their doorbell, kettle, intercom), records 1-5 examples of about 3 s each, and saves.

Each recording is a job off the GUI thread (`assistant.sounds.taught.record_example`); it hears what
the captions hear, from their own capture, when captions run (an `AudioTap`: one microphone, not a
second stream), and the chosen microphone otherwise. Saving checks the examples and stores the sound in
a job too (`learn_sound`, `SoundLibrary.add`); then the alerts listen for it. Every step is written in
the dialog's status line and told to the screen reader; a bad name, a silent or featureless example
and a missing microphone each get one clear message.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from assistant.audio.source import AudioArray, AudioSource
from assistant.sounds.taught import (
    MAX_EXAMPLES,
    RECORD_SECONDS,
    SoundLibrary,
    TaughtSoundError,
    check_name,
    learn_sound,
    make_template,
    record_example,
)
from ui.workers import JobRunner

Tell = Callable[[str, bool], None]
"""Tells the user's screen reader something: (text, assertive)."""

HOW_TO_REPLACE = 'type another name, or forget it first with `assistant sounds forget "NAME"`'


class TeachSoundDialog(QDialog):
    """The name field, "Record an example", "Save the sound" and a status line (see the module)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("teach_sound_dialog")
        self.setWindowTitle("Teach a sound")
        self.setAccessibleName("Teach a sound")
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("teach_sound_name")
        self.name_edit.setAccessibleName("Name of the sound")
        self.name_edit.setAccessibleDescription("for example: doorbell, kettle, intercom")
        self.record_button = QPushButton(f"&Record an example ({RECORD_SECONDS:.0f} s)")
        self.record_button.setAccessibleName("Record an example")
        self.record_button.setAccessibleDescription(
            f"Records {RECORD_SECONDS:.0f} seconds: start it, then make the sound. Up to {MAX_EXAMPLES}."
        )
        self.save_button = QPushButton("&Save the sound")
        self.save_button.setAccessibleName("Save the sound")
        self.save_button.setEnabled(False)
        self.status = QLabel(
            f"Type a name, press Record an example, then make the sound. 1 to {MAX_EXAMPLES} examples; "
            "3 are better than 1."
        )
        self.status.setObjectName("teach_sound_status")
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        for button in self.buttons.buttons():
            button.setAccessibleName(button.text().replace("&", ""))
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        label = QLabel("&Name of the sound:")
        label.setBuddy(self.name_edit)
        form.addRow(label, self.name_edit)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.record_button)
        layout.addWidget(self.save_button)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)


class SoundTeacher(QObject):
    """Runs the dialog: recordings and the save as jobs, their results back on the GUI thread."""

    taught = Signal(str)  # the name of a sound just saved

    def __init__(
        self,
        parent: QWidget,
        open_source: Callable[[], AudioSource],
        tell: Tell | None = None,
        library: Callable[[], SoundLibrary] = SoundLibrary,
    ) -> None:
        super().__init__(parent)
        self._parent = parent
        self._open_source = open_source
        self._tell = tell
        self._library = library
        self._jobs = JobRunner(self, max_threads=1)
        self._stop = threading.Event()
        self.examples: list[AudioArray] = []
        self.busy = False
        self.dialog: TeachSoundDialog | None = None

    def open(self) -> None:
        if self.dialog is None:
            self.dialog = TeachSoundDialog(self._parent)
            self.dialog.record_button.clicked.connect(self._on_record_clicked)
            self.dialog.save_button.clicked.connect(self._on_save_clicked)
            self.dialog.finished.connect(self._on_dialog_finished)
        self.examples = []
        self._update_buttons()
        self.dialog.open()
        self.dialog.name_edit.setFocus()
        self._say("Teach a sound. Type its name, then record an example.", True)

    def close(self) -> None:
        """The app is closing: stop a recording and wait a moment for it."""
        self._stop.set()
        self._jobs.shutdown(0.5)

    # -- recording ------------------------------------------------------------------------------------

    def _name(self) -> str | None:
        assert self.dialog is not None
        try:
            return check_name(self.dialog.name_edit.text())
        except TaughtSoundError as error:
            self._say(str(error), True)
            self.dialog.name_edit.setFocus()
            return None

    def _on_record_clicked(self) -> None:
        name = self._name()
        if name is None or self.busy:
            return
        if len(self.examples) >= MAX_EXAMPLES:
            self._say(f"{MAX_EXAMPLES} examples is the most: save the sound.", True)
            return
        library = self._library()
        source = self._open_source()  # here, on the GUI thread: a captions tap is joined now
        self._stop.clear()

        label = f"Example {len(self.examples) + 1}"

        def record() -> AudioArray:
            library.ensure_free(name, HOW_TO_REPLACE.replace("NAME", name))
            audio = record_example(source, RECORD_SECONDS, self._stop)
            make_template(audio, label)  # a silent or toneless example is refused now, not at saving
            return audio

        self.busy = True
        self._update_buttons()
        self._say(f"Recording example {len(self.examples) + 1}: make the sound now.", True)
        self._jobs.submit("record a sound", record, self._on_recorded, self._on_failed)

    def _on_recorded(self, audio: AudioArray) -> None:
        self.busy = False
        self.examples.append(audio)
        count = len(self.examples)
        more = "Record another or save the sound." if count < MAX_EXAMPLES else "Save the sound."
        self._say(f"Example {count} of up to {MAX_EXAMPLES} recorded. {more}", True)
        self._update_buttons()

    def _on_failed(self, message: str) -> None:
        self.busy = False
        self._say(message, True)
        self._update_buttons()

    # -- saving ---------------------------------------------------------------------------------------

    def _on_save_clicked(self) -> None:
        name = self._name()
        if name is None or self.busy or not self.examples:
            return
        examples = list(self.examples)
        library = self._library()

        def save() -> str:
            library.ensure_free(name, HOW_TO_REPLACE.replace("NAME", name))
            sound = learn_sound(name, examples)
            library.add(sound)
            return sound.name

        self.busy = True
        self._update_buttons()
        self._say(f"Saving {name}…", False)
        self._jobs.submit("teach a sound", save, self._on_saved, self._on_failed)

    def _on_saved(self, name: str) -> None:
        self.busy = False
        count = len(self.examples)
        self.examples = []
        self._update_buttons()
        plural = "s" if count > 1 else ""
        self._say(f"Taught '{name}' from {count} example{plural}. Sound alerts listen for it now.", True)
        self.taught.emit(name)

    def _on_dialog_finished(self, _result: int) -> None:
        self._stop.set()  # closing the dialog stops a recording
        self.examples = []

    def _update_buttons(self) -> None:
        if self.dialog is None:
            return
        self.dialog.record_button.setEnabled(not self.busy and len(self.examples) < MAX_EXAMPLES)
        self.dialog.save_button.setEnabled(not self.busy and bool(self.examples))

    def _say(self, text: str, assertive: bool) -> None:
        if self.dialog is not None:
            self.dialog.status.setText(text)
        if self._tell is not None:
            self._tell(text, assertive)
