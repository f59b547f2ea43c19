"""The settings dialog's "Sound alerts" page: per sound, alerts on or off and a sensitivity.

The sounds are the smoke and carbon-monoxide alarms, the user's taught sounds (their names only, from
the sound library's small index files) and the household sounds the classifier can tell. Each row is a
check box ("Smoke alarm") and a sensitivity box (0 to 1; higher alerts on fainter or less certain
sounds: `assistant.sounds.alerts.required_confidence` turns it into the detector's bar). Switching off
the smoke or CO alarm opens a question; only a "Yes" keeps it off, because a deaf user who turned it off
by accident would never hear the alarm. The choices are stored as `Key.sound_alerts_on` and
`Key.sound_sensitivity` when the dialog is saved (`save`), and `AlertCommands.apply_settings` hands them
to the detectors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QMessageBox,
    QScrollArea,
    QWidget,
)

from assistant.sounds.classifier import WATCHED_LABELS
from assistant.sounds.taught import SoundLibrary
from assistant.sounds.types import CO_ALARM, CRITICAL_SOUNDS, SMOKE_ALARM
from ui.settings import Key, Settings

Tell = Callable[[str, bool], None]


def sound_title(sound: str) -> str:
    return sound[:1].upper() + sound[1:]


def known_sounds(library: SoundLibrary | None = None) -> list[str]:
    """The sounds the page offers: the two alarms, the taught sounds, then the classifier's labels."""
    names = [SMOKE_ALARM, CO_ALARM, *(library or SoundLibrary()).listed_names(), *WATCHED_LABELS]
    return list(dict.fromkeys(names))


def turn_off_text(sound: str) -> str:
    return (
        f"Turn off alerts for the {sound}?\n\nYou will not be told when the {sound} goes off. Only do "
        "this if another alarm you can see or feel covers it (a flashing light, a bed shaker)."
    )


class SoundAlertsPanel(QObject):
    """The rows of the "Sound alerts" page (see the module docstring)."""

    def __init__(
        self,
        form: QFormLayout,
        settings: Settings,
        tell: Tell | None,
        dialog: QWidget,
        sounds: Callable[[], Sequence[str]] = known_sounds,
    ) -> None:
        super().__init__(dialog)
        self._settings = settings
        self._tell = tell
        self._dialog = dialog
        self._sounds = sounds
        self.switches: dict[str, QCheckBox] = {}
        self.sensitivities: dict[str, QDoubleSpinBox] = {}
        self.confirm_box: QMessageBox | None = None
        self._confirmed_off: set[str] = set()
        intro = QLabel(
            "Which sounds you are alerted to, and how readily. Higher sensitivity alerts on fainter or less "
            "certain sounds, with more false alerts."
        )
        intro.setWordWrap(True)
        form.addRow(intro)
        self._rows = QWidget()
        self._rows.setObjectName("sound_alert_rows")
        self._rows_form = QFormLayout(self._rows)
        scroll = QScrollArea()
        scroll.setObjectName("sound_alerts_scroll")
        scroll.setAccessibleName("Sounds")
        scroll.setWidgetResizable(True)
        scroll.setWidget(self._rows)
        form.addRow(scroll)
        self.message = QLabel()
        self.message.setObjectName("sound_alerts_message")
        self.message.setWordWrap(True)
        form.addRow(self.message)

    # -- rows -----------------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Show the stored choices (and any sound taught since the dialog was last open)."""
        sounds = list(self._sounds())
        if sounds != list(self.switches):
            self._build(sounds)
        self._confirmed_off.clear()
        for sound, switch in self.switches.items():
            on = self._settings.get(Key.sound_alerts_on(sound))
            switch.setChecked(on)
            if not on and sound in CRITICAL_SOUNDS:
                self._confirmed_off.add(sound)  # the user confirmed it when they stored it
            self.sensitivities[sound].setValue(self._settings.get(Key.sound_sensitivity(sound)))
        self.message.clear()

    def _build(self, sounds: Sequence[str]) -> None:
        while self._rows_form.rowCount():
            self._rows_form.removeRow(0)
        self.switches.clear()
        self.sensitivities.clear()
        for sound in sounds:
            title = sound_title(sound)
            switch = QCheckBox(title)
            switch.setObjectName(f"sound_alert_on_{sound}")
            switch.setAccessibleName(f"Alerts for {sound}")
            if sound in CRITICAL_SOUNDS:
                switch.setAccessibleDescription("Asks before it is switched off")
            switch.clicked.connect(lambda checked, name=sound: self._on_switch_clicked(name, checked))
            spin = QDoubleSpinBox()
            spin.setObjectName(f"sound_alert_sensitivity_{sound}")
            spin.setRange(0.0, 1.0)
            spin.setSingleStep(0.1)
            spin.setDecimals(1)
            spin.setAccessibleName(f"{title} sensitivity")
            spin.setAccessibleDescription("0 to 1: higher alerts on fainter or less certain sounds")
            self._rows_form.addRow(switch, spin)
            self.switches[sound] = switch
            self.sensitivities[sound] = spin

    # -- turning an alarm off -------------------------------------------------------------------------

    def _on_switch_clicked(self, sound: str, checked: bool) -> None:
        if checked:
            self._confirmed_off.discard(sound)
            return
        if sound in CRITICAL_SOUNDS and sound not in self._confirmed_off:
            self._ask_turn_off(sound)

    def _ask_turn_off(self, sound: str) -> None:
        box = QMessageBox(self._dialog)
        box.setObjectName("sound_alert_turn_off")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(f"Turn off {sound} alerts?")
        box.setText(turn_off_text(sound))
        box.setAccessibleName(f"Turn off {sound} alerts?")
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        self.confirm_box = box

        def answered(_result: int) -> None:
            self.confirm_box = None
            box.deleteLater()
            if box.standardButton(box.clickedButton()) == QMessageBox.StandardButton.Yes:
                self._confirmed_off.add(sound)
                self._say(f"Alerts for the {sound} will be off when you press OK.", True)
            else:
                self.switches[sound].setChecked(True)
                self._say(f"Alerts for the {sound} stay on.", False)

        box.finished.connect(answered)
        box.open()

    def _say(self, text: str, assertive: bool) -> None:
        self.message.setText(text)
        if self._tell is not None:
            self._tell(text, assertive)

    # -- saving ---------------------------------------------------------------------------------------

    def save(self) -> None:
        """Store every row; an alarm switched off without a "Yes" stays on."""
        for sound, switch in self.switches.items():
            on = switch.isChecked() or (sound in CRITICAL_SOUNDS and sound not in self._confirmed_off)
            on_key = Key.sound_alerts_on(sound)
            if on == on_key.default:
                self._settings.reset(on_key)
            else:
                self._settings.set(on_key, on)
            sensitivity_key = Key.sound_sensitivity(sound)
            value = round(self.sensitivities[sound].value(), 3)
            if abs(value - sensitivity_key.default) < 1e-9:
                self._settings.reset(sensitivity_key)
            else:
                self._settings.set(sensitivity_key, value)
