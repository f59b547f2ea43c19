"""Sound alerts reach a real desktop notification daemon: Debian's dunst on a private D-Bus session bus
under its own Xvfb, started here. The notification must arrive whether the assistant's window is shown or
hidden (a deaf user who minimised it still has to learn that the smoke alarm is going off)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.desktop.notify import notify
from assistant.session import Overrides
from assistant.sounds.types import SMOKE_ALARM, AlertEvent
from tests.helpers.alert_mix import t3_alarm
from tests.helpers.notifications import (
    NotificationDaemon,
    NotificationDaemonUnavailableError,
    notification_daemon,
)
from tests.helpers.speech import write_wav
from ui.controller import AppController
from ui.settings import Settings

WAIT_MS = 20_000  # a T3 alarm is recognised within about 5 s of audio, played in real time


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NotificationDaemon]:
    try:
        with notification_daemon(tmp_path_factory.mktemp("dunst")) as running:
            yield running
    except NotificationDaemonUnavailableError as error:
        pytest.fail(str(error))


@pytest.fixture
def session_bus(daemon: NotificationDaemon, monkeypatch: pytest.MonkeyPatch) -> NotificationDaemon:
    """The assistant's session bus is the daemon's private one (never the developer's own desktop)."""
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", daemon.bus_address)
    return daemon


def test_the_core_notifier_is_received_by_the_daemon_as_critical(session_bus: NotificationDaemon) -> None:
    notification_id = notify("Carbon monoxide alarm", "Heard at 03:12:00.", urgency="critical")
    assert isinstance(notification_id, int) and notification_id > 0
    got = session_bus.wait_for(lambda n: n.summary == "Carbon monoxide alarm", timeout=10)
    assert (got.app_name, got.urgency, got.body) == ("Assistant", "CRITICAL", "Heard at 03:12:00.")


def test_no_notification_service_is_said_in_the_log_and_not_raised(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path / 'no-bus'}")
    assert notify("Smoke alarm", "Heard now.", urgency="critical") is None


def _app(settings: Settings, audio: str) -> AppController:
    app = AppController(settings, Overrides(captions_at_start=False, audio=audio))
    app.start(load_models=False)
    return app


def test_a_smoke_alarm_heard_with_the_window_hidden_pops_up_a_critical_notification(
    qtbot: Any, session_bus: NotificationDaemon, settings: Settings, tmp_path: Path
) -> None:
    rng = np.random.default_rng(11)
    alarm = np.concatenate([np.zeros(4000, np.float32), 0.3 * t3_alarm(3100.0, rng, cycles=2)])
    app = _app(settings, str(write_wav(tmp_path / "alarm.wav", alarm)))
    try:
        assert not app.window.isVisible()  # never shown: minimised to the tray, or closed to it
        app.alerts.toggle_alerts()
        qtbot.waitUntil(lambda: bool(app.alerts.notifications_shown), timeout=WAIT_MS)
        got = session_bus.wait_for(lambda n: n.summary == "Smoke alarm", timeout=5)
        assert got.urgency == "CRITICAL" and got.body.startswith("Heard at ")
        assert session_bus.displayed() >= 1  # critical: it stays on the screen until dismissed
    finally:
        app.shutdown()
        app.window.close()


def test_an_alert_raised_in_the_shown_window_is_also_a_notification(
    qtbot: Any, session_bus: NotificationDaemon, settings: Settings, tmp_path: Path
) -> None:
    app = _app(settings, "")
    app.window.show()
    qtbot.waitExposed(app.window)
    before = len(session_bus.received())
    try:
        # The alert command path from the worker's signal on: banner, history, then the notification.
        app.alerts._on_alert(AlertEvent("doorbell", start=1.0, at=2.0, confidence=0.8, detector="taught"))
        assert app.window.alert_banner.isVisible()
        qtbot.waitUntil(lambda: bool(app.alerts.notifications_shown), timeout=WAIT_MS)
        got = session_bus.wait_for(lambda n: n.summary == "Doorbell", timeout=5)
        assert got.urgency == "NORMAL"  # only smoke and CO alarms are critical
        assert len(session_bus.received()) == before + 1
        assert SMOKE_ALARM not in got.summary.lower()
    finally:
        app.shutdown()
        app.window.close()
