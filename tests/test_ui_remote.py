"""The model server in the window, offscreen: its settings, the consent that names the host, the key in
the keyring (never in the settings file), test connection and the model list in jobs, the status that says
a picture is being sent, the streamed sentences said before the result, and a failing server."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QMessageBox

from assistant.session import REMOTE_MARK, Overrides, Route
from tests.helpers.fault_proxy import Fault, FaultProxy
from tests.helpers.model_server import SCRIPT_SENTENCES, SCRIPT_TEXT, TransformersServer
from ui.controller import AppController
from ui.settings import ROUTE_KEYS, Key, Settings, stored_config
from ui.settings_dialog import SettingsDialog

WAIT_MS = 15_000
KEY = "sk-window-test-91c2"

pytestmark = pytest.mark.timeout(240)


def _server_on(settings: Settings, url: str) -> None:
    settings.set(Key.SERVER_ENABLED, True)
    settings.set(Key.SERVER_URL, url)
    settings.set(Key.SERVER_TIMEOUT, 2.0)
    settings.set_server_consent(url.removeprefix("http://"))


@pytest.fixture
def controller(qtbot: Any, settings: Settings) -> Iterator[AppController]:
    app = AppController(settings, Overrides(captions_at_start=False))
    app.start(load_models=False)
    app.window.show()
    yield app
    app.shutdown()
    app.window.close()


def _statuses(app: AppController) -> list[str]:
    return [app.window.status_list.item(row).text() for row in range(app.window.status_list.count())]


def test_the_server_is_used_only_when_on_and_agreed_for_that_host(settings: Settings) -> None:
    assert stored_config(settings).server_url == ""  # off by default
    settings.set(Key.SERVER_URL, "http://10.0.0.5:8000")
    settings.set(Key.SERVER_ENABLED, True)
    assert stored_config(settings).server_url == ""  # no consent yet
    settings.set_server_consent("10.0.0.5:8000")
    config = stored_config(settings)
    assert (config.server_url, config.server_timeout, config.server_image_size) == (
        "http://10.0.0.5:8000",
        8.0,
        768,
    )
    settings.set(Key.SERVER_URL, "http://10.0.0.9:8000")  # another host needs its own consent
    assert stored_config(settings).server_url == ""


def test_turning_the_server_on_names_the_host_asks_consent_and_keeps_the_key_in_the_keyring(
    qtbot: Any, settings: Settings, controller: AppController, keyring_here: None
) -> None:
    controller.general.open_settings()
    dialog = controller.general.settings_dialog
    assert isinstance(dialog, SettingsDialog)
    enabled, url = dialog.editors[Key.SERVER_ENABLED], dialog.editors[Key.SERVER_URL]
    assert isinstance(enabled, QCheckBox) and isinstance(url, QLineEdit)
    enabled.setChecked(True)
    url.setText("http://192.168.7.20:8000")
    dialog.server.key_edit.setText(KEY)

    # "No": nothing is sent anywhere, the server stays off, the other settings are saved.
    dialog.accept()
    box = dialog.server.consent_box
    assert box is not None and box.isVisible() and "192.168.7.20:8000" in box.text()
    box.button(QMessageBox.StandardButton.No).click()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT_MS)
    assert settings.get(Key.SERVER_ENABLED) is False and stored_config(settings).server_url == ""

    controller.general.open_settings()
    enabled.setChecked(True)
    dialog.server.key_edit.setText(KEY)
    dialog.accept()
    box = dialog.server.consent_box
    assert box is not None
    box.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT_MS)
    assert stored_config(settings).server_url == "http://192.168.7.20:8000"
    assert controller.session.config.server_url == "http://192.168.7.20:8000"

    from assistant.remote.keys import stored_key

    qtbot.waitUntil(lambda: stored_key("192.168.7.20:8000") == KEY, timeout=WAIT_MS)
    settings.sync()
    assert KEY not in Path(settings.file_name).read_text()
    assert dialog.server.key_edit.text() == ""


def test_test_connection_and_the_model_list_answer_without_blocking_the_window(
    qtbot: Any, controller: AppController, model_server: TransformersServer
) -> None:
    controller.general.open_settings()
    dialog = controller.general.settings_dialog
    assert dialog is not None
    url, model = dialog.editors[Key.SERVER_URL], dialog.editors[Key.SERVER_MODEL]
    assert isinstance(url, QLineEdit) and isinstance(model, QLineEdit)
    url.setText(model_server.url)
    started = time.monotonic()
    dialog.server.test_button.click()
    assert time.monotonic() - started < 0.2  # the request runs in a job
    host = model_server.url.removeprefix("http://")
    qtbot.waitUntil(lambda: dialog.server.message.text().startswith(f"Connected to {host}."), timeout=WAIT_MS)
    dialog.server.fetch_button.click()
    qtbot.waitUntil(lambda: model.text() == model_server.model, timeout=WAIT_MS)
    assert "The server offers 1" in dialog.server.message.text()
    dialog.reject()


def test_a_detailed_description_says_where_the_picture_goes_and_speaks_each_sentence_first(
    qtbot: Any, settings: Settings, fault_proxy: FaultProxy
) -> None:
    _server_on(settings, fault_proxy.url)
    fault_proxy.fault = Fault(delay_each=0.1)
    app = AppController(settings, Overrides(captions_at_start=False))
    app.start(load_models=False)
    try:
        host = fault_proxy.url.removeprefix("http://")
        ready = f"model server {host} ready"
        qtbot.waitUntil(lambda: any(ready in line for line in _statuses(app)), timeout=WAIT_MS)
        app.frames.put(np.full((240, 320, 3), 200, np.uint8))
        heard: list[str] = []
        shown: list[str] = []
        app.vision.streamed.connect(heard.append)
        app.description_ready.connect(lambda text: shown.append(text) or heard.append("<shown>"))
        app.vision.describe_detailed()
        assert _statuses(app)[0].endswith(f"sending the picture to {host}: describing the camera picture")
        qtbot.waitUntil(lambda: bool(shown), timeout=WAIT_MS)
        assert heard == [REMOTE_MARK + SCRIPT_SENTENCES[0], *SCRIPT_SENTENCES[1:], "<shown>"]
        assert shown == [REMOTE_MARK + SCRIPT_TEXT]
        assert app.window.description.toPlainText().startswith(REMOTE_MARK)
    finally:
        app.shutdown()


def test_a_failing_server_shows_why_and_the_on_device_answer_and_the_window_keeps_going(
    qtbot: Any, settings: Settings, fault_proxy: FaultProxy
) -> None:
    _server_on(settings, fault_proxy.url)
    fault_proxy.fault = Fault(delay_first=5.0)
    app = AppController(settings, Overrides(captions_at_start=False))
    app.start(load_models=False)
    try:
        app.frames.put(np.full((240, 320, 3), 200, np.uint8))
        shown: list[str] = []
        app.description_ready.connect(shown.append)
        # The event loop's longest pause while the server keeps the answer waiting.
        ticks: list[float] = []
        timer = QTimer()
        timer.timeout.connect(lambda: ticks.append(time.monotonic()))
        # A full collection of this test process's heap (every test before this one) is not the window's
        # doing: it is made now rather than fall due in the middle, and any that still does is named.
        gc.collect()
        with _garbage_collections() as collections:
            timer.start(10)
            app.vision.describe_detailed()
            qtbot.waitUntil(lambda: bool(shown), timeout=WAIT_MS)
            timer.stop()
        assert not shown[0].startswith(REMOTE_MARK)  # the quick cues answered (no scene model loaded)
        assert any("did not start answering within 2 s" in line for line in _statuses(app))
        longest_pause = max(later - earlier for earlier, later in zip(ticks, ticks[1:], strict=False))
        assert longest_pause < 0.25, (
            f"the window stalled for {longest_pause * 1000:.0f} ms; garbage collections meanwhile: "
            + (", ".join(f"{seconds * 1000:.0f} ms" for seconds in collections) or "none")
        )
    finally:
        app.shutdown()


@contextmanager
def _garbage_collections() -> Iterator[list[float]]:
    """How long each garbage collection took while the block ran (they stop every thread)."""
    durations: list[float] = []
    started = [0.0]

    def on_collection(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            durations.append(time.perf_counter() - started[0])

    gc.callbacks.append(on_collection)
    try:
        yield durations
    finally:
        gc.callbacks.remove(on_collection)


def test_commands_pinned_in_the_settings_are_answered_where_they_are_pinned(
    qtbot: Any, settings: Settings, fault_proxy: FaultProxy
) -> None:
    _server_on(settings, fault_proxy.url)
    app = AppController(settings, Overrides(captions_at_start=False))
    app.start(load_models=False)
    try:
        host = fault_proxy.url.removeprefix("http://")
        qtbot.waitUntil(
            lambda: any(f"model server {host} ready" in s for s in _statuses(app)), timeout=WAIT_MS
        )
        app.general.open_settings()
        dialog = app.general.settings_dialog
        assert dialog is not None
        combos = {key: dialog.editors[key] for key in ROUTE_KEYS.values()}
        for key, combo in combos.items():
            assert isinstance(combo, QComboBox) and combo.accessibleName() == key.label
            assert "on-device" in combo.accessibleDescription()
            assert [combo.itemText(i) for i in range(combo.count())] == ["auto", "server", "on-device"]
            assert combo.currentText() == "auto"
        combos[Key.ROUTE_DETAILED].setCurrentText("on-device")
        combos[Key.ROUTE_BRIEF].setCurrentText("server")
        dialog.accept()
        qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT_MS)
        routes = app.session.config.routes
        assert routes["describe-detailed"] is Route.DEVICE and routes["describe-brief"] is Route.SERVER
        assert routes["ask"] is Route.AUTO

        app.frames.put(np.full((240, 320, 3), 200, np.uint8))
        shown: list[str] = []
        app.description_ready.connect(shown.append)
        asked_before = fault_proxy.requests
        app.vision.describe_detailed()
        assert "sending the picture" not in _statuses(app)[0]
        qtbot.waitUntil(lambda: len(shown) == 1, timeout=WAIT_MS)
        assert not shown[0].startswith(REMOTE_MARK) and fault_proxy.requests == asked_before

        app.vision.describe_now()
        assert _statuses(app)[0].endswith(f"sending the picture to {host}: describing the camera picture")
        qtbot.waitUntil(lambda: len(shown) == 2, timeout=WAIT_MS)
        assert shown[1] == REMOTE_MARK + SCRIPT_TEXT and fault_proxy.requests > asked_before
    finally:
        app.shutdown()
