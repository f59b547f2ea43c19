"""Per-sound alert choices: on/off and sensitivity stored under typed keys, shown on the settings dialog's
"Sound alerts" page with named controls, handed to the detectors (sensitivity moves the detector's bar),
and a smoke or CO alarm switched off only after the user says yes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from assistant.session import Overrides
from assistant.sounds.alerts import AlertDetectors, AlertSettings, required_confidence
from assistant.sounds.taught import SoundLibrary, TaughtSound
from assistant.sounds.types import CO_ALARM, SMOKE_ALARM, AlertEvent
from tests.helpers.alert_mix import chime, mix_at, noise, t3_alarm
from ui.controller import AppController
from ui.settings import Area, Key, Settings
from ui.settings_dialog import SettingsDialog


@pytest.fixture
def app(settings: Settings) -> Iterator[AppController]:
    controller = AppController(settings, Overrides(captions_at_start=False))
    controller.start(load_models=False)
    yield controller
    controller.shutdown()
    controller.window.close()


@pytest.fixture
def library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SoundLibrary:
    folder = tmp_path / "sounds"
    monkeypatch.setenv("ASSISTANT_SOUNDS_DIR", str(folder))
    library = SoundLibrary(folder)
    rng = np.random.default_rng(1)
    library.add(TaughtSound("front door", tuple(chime(rng) for _ in range(2))))
    return library


def _alerts(settings: AlertSettings, audio: np.ndarray) -> list[AlertEvent]:
    detectors = AlertDetectors(settings=settings)
    events: list[AlertEvent] = []
    for begin in range(0, len(audio), 1600):
        events += detectors.process(audio[begin : begin + 1600])
    return [event for event in events + detectors.finish() if event.kind == "alert"]


def test_per_sound_choices_are_stored_under_typed_keys_and_read_back_for_the_detectors(
    settings: Settings, tmp_path: Path
) -> None:
    assert settings.alert_settings() == AlertSettings()  # nothing chosen: every default
    settings.set(Key.sound_alerts_on("Dog"), False)
    settings.set(Key.sound_alerts_on("Speech"), True)  # off by default, turned on
    settings.set(Key.sound_sensitivity("Water tap, faucet"), 0.9)
    settings.set(Key.sound_sensitivity("hall/intercom"), 0.2)  # a taught name with a slash
    settings.sync()
    stored = Settings(tmp_path / "settings.ini").alert_settings()
    assert not stored.is_enabled("Dog") and stored.is_enabled("Speech") and stored.is_enabled("Cat")
    assert stored.sensitivity_of("Water tap, faucet") == pytest.approx(0.9)
    assert stored.sensitivity_of("hall/intercom") == pytest.approx(0.2)
    assert stored.sensitivity_of(SMOKE_ALARM) == 0.5
    assert Key.sound_alerts_on("Speech").default is False and Key.sound_alerts_on("Dog").default is True


def test_sensitivity_moves_the_alarm_detectors_bar_on_a_faint_alarm_in_noise() -> None:
    rng = np.random.default_rng(5)
    faint = mix_at(noise(rng, 20.0, "white"), t3_alarm(3100.0, rng, cycles=4), 2.0, -10.0)
    keen = _alerts(AlertSettings().with_sensitivity(SMOKE_ALARM, 1.0), faint)
    default = _alerts(AlertSettings(), faint)
    dull = _alerts(AlertSettings().with_sensitivity(SMOKE_ALARM, 0.0), faint)
    assert [event.sound for event in keen] == [SMOKE_ALARM] == [event.sound for event in default]
    assert keen[0].at <= default[0].at  # the more sensitive setting alerts no later
    assert keen[0].confidence < required_confidence(0.5) <= default[0].confidence
    assert dull == []  # the least sensitive waits for an alarm that stands out of the noise


def test_an_alarm_switched_off_is_not_alerted_on() -> None:
    rng = np.random.default_rng(6)
    alarm = np.concatenate([np.zeros(8000, np.float32), 0.3 * t3_alarm(3100.0, rng, cycles=3)])
    off = AlertSettings().with_enabled(SMOKE_ALARM, False, confirmed=True)
    assert [event.sound for event in _alerts(AlertSettings(), alarm)] == [SMOKE_ALARM]
    assert _alerts(off, alarm) == []


def _open_sound_alerts_page(qtbot: Any, app: AppController) -> SettingsDialog:
    app.general.open_settings()
    dialog = app.general.settings_dialog
    assert dialog is not None
    qtbot.waitExposed(dialog)
    page = next(i for i in range(dialog.tabs.count()) if dialog.tabs.tabText(i) == Area.SOUND_ALERTS.value)
    dialog.tabs.setCurrentIndex(page)
    return dialog


def _answer(qtbot: Any, dialog: SettingsDialog, button: QMessageBox.StandardButton) -> None:
    qtbot.waitUntil(lambda: dialog.sound_alerts.confirm_box is not None, timeout=2_000)
    box = dialog.sound_alerts.confirm_box
    assert box is not None and "smoke alarm" in box.text()
    box.button(button).click()
    qtbot.waitUntil(lambda: dialog.sound_alerts.confirm_box is None, timeout=2_000)


def test_the_sound_alerts_page_names_every_control_asks_before_an_alarm_goes_off_and_reaches_the_alerts(
    qtbot: Any, app: AppController, settings: Settings, library: SoundLibrary
) -> None:
    dialog = _open_sound_alerts_page(qtbot, app)
    panel = dialog.sound_alerts
    assert list(panel.switches)[:3] == [SMOKE_ALARM, CO_ALARM, "front door"]  # taught sounds listed
    assert "Dog" in panel.switches and not panel.switches["Speech"].isChecked()
    for sound, switch in panel.switches.items():
        assert switch.accessibleName() == f"Alerts for {sound}"
        assert panel.sensitivities[sound].accessibleName().endswith("sensitivity")

    smoke = panel.switches[SMOKE_ALARM]
    smoke.click()  # off: a question, and "No" puts it back on
    _answer(qtbot, dialog, QMessageBox.StandardButton.No)
    assert smoke.isChecked()
    smoke.click()
    _answer(qtbot, dialog, QMessageBox.StandardButton.Yes)
    assert not smoke.isChecked()
    panel.switches["Dog"].click()
    panel.sensitivities["front door"].setValue(0.8)
    dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()

    stored = settings.alert_settings()
    assert not stored.is_enabled(SMOKE_ALARM) and not stored.is_enabled("Dog")
    assert stored.is_enabled(CO_ALARM) and stored.sensitivity_of("front door") == pytest.approx(0.8)
    # The running app took them: the detectors it starts next are built with these choices.
    assert not app.alerts.alert_settings.is_enabled(SMOKE_ALARM)
    assert app.alerts.alert_settings.sensitivity_of("front door") == pytest.approx(0.8)


def test_an_alarm_unticked_without_a_yes_stays_on_when_the_dialog_is_saved(
    qtbot: Any, app: AppController, settings: Settings, library: SoundLibrary
) -> None:
    dialog = _open_sound_alerts_page(qtbot, app)
    dialog.sound_alerts.switches[SMOKE_ALARM].click()
    qtbot.waitUntil(lambda: dialog.sound_alerts.confirm_box is not None, timeout=2_000)
    dialog.sound_alerts.save()  # saved while the question is still open, unanswered
    assert settings.alert_settings().is_enabled(SMOKE_ALARM)
    _answer(qtbot, dialog, QMessageBox.StandardButton.No)
