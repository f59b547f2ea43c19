"""The window's Find command, offscreen and by keyboard: the key opens the box, Enter starts the search on
the camera (a generated video), the find is shown and said like every result, the key again stops it;
and the bad inputs (an empty query, no camera, no model) each give one message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from assistant.session import Lazy, Overrides
from tests.fakes.scripted_scorer import ScriptedScorer
from tests.helpers.tiny_clip import build_siglip
from tests.helpers.video import make_scene_video
from ui.controller import AppController
from ui.settings import Key, Settings

WAIT_MS = 10_000
CHORD = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ASSISTANT_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    return tmp_path / "models"


@pytest.fixture
def controller(qtbot: Any, tmp_path: Path, models_dir: Path) -> Any:
    store = Settings(tmp_path / "settings.ini")
    store.set(Key.VOICE_OUTPUT, "off")
    store.set(Key.CAMERA, "")
    store.set(Key.CAPTIONS_AT_START, False)
    store.set(Key.FIND_TONE, False)
    app = AppController(store, Overrides(captions_at_start=False))
    app.start(load_models=False)
    app.window.show()
    _activate(qtbot, app.window)
    yield app
    app.shutdown()
    app.window.close()


def _activate(qtbot: Any, window: QWidget) -> None:
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=WAIT_MS)


def _start_camera(qtbot: Any, controller: Any, tmp_path: Path) -> None:
    frame = np.full((120, 160, 3), 120, dtype=np.uint8)
    video = make_scene_video(tmp_path / "camera.avi", [frame], seconds_each=30.0)
    controller.vision.start_camera(str(video))
    qtbot.waitUntil(lambda: controller.frames.peek() is not None, timeout=WAIT_MS)


def _type_query(qtbot: Any, controller: Any, text: str) -> None:
    qtbot.keyClick(controller.window, Qt.Key.Key_G, CHORD)
    box = controller.find.box
    qtbot.waitUntil(lambda: box.isVisible() and box.field.hasFocus(), timeout=WAIT_MS)
    qtbot.keyClicks(box.field, text)
    qtbot.keyClick(box.field, Qt.Key.Key_Return)


def _statuses(controller: Any) -> str:
    status = controller.window.status_list
    return "\n".join(status.item(row).text() for row in range(status.count()))


def test_find_by_keyboard_runs_the_real_model_and_the_key_again_stops_it(
    qtbot: Any, controller: Any, models_dir: Path, tmp_path: Path
) -> None:
    build_siglip(models_dir / "siglip-base")
    _start_camera(qtbot, controller, tmp_path)
    with qtbot.waitSignal(controller.find.find_event, timeout=WAIT_MS * 3) as blocker:
        _type_query(qtbot, controller, "my keys")
    assert blocker.args[0].query == "keys"
    assert controller.find.finding
    assert "finding keys" in _statuses(controller)
    _activate(qtbot, controller.window)
    qtbot.keyClick(controller.window, Qt.Key.Key_G, CHORD)
    qtbot.waitUntil(lambda: not controller.find.finding, timeout=WAIT_MS)
    assert "find off" in _statuses(controller)


def test_a_find_is_shown_and_said_like_every_result(qtbot: Any, controller: Any, tmp_path: Path) -> None:
    scorer = ScriptedScorer([0.8] * 3 + [0.05] * 200, columns=[(0.99, 0.2, 0.1)] * 203)
    controller.session.finder = Lazy(lambda: scorer)
    shown: list[str] = []
    controller.description_ready.connect(shown.append)
    _start_camera(qtbot, controller, tmp_path)
    _type_query(qtbot, controller, "keys")
    qtbot.waitUntil(lambda: len(shown) >= 2, timeout=WAIT_MS)
    assert shown[:2] == ["keys, on the left, far", "Lost keys."]
    history = controller.window.history
    assert any("keys, on the left, far" in history.item(row).text() for row in range(history.count()))
    controller.find.toggle_find()
    qtbot.waitUntil(lambda: not controller.find.finding, timeout=WAIT_MS)


def test_an_empty_query_says_what_to_type(qtbot: Any, controller: Any) -> None:
    with qtbot.waitSignal(controller.description_ready, timeout=WAIT_MS) as blocker:
        _type_query(qtbot, controller, "   ")
    assert 'assistant find "my keys"' in blocker.args[0]
    assert not controller.find.finding


def test_find_without_a_camera_says_so(qtbot: Any, controller: Any) -> None:
    with qtbot.waitSignal(controller.description_ready, timeout=WAIT_MS) as blocker:
        _type_query(qtbot, controller, "keys")
    assert "No camera picture" in blocker.args[0]


def test_find_without_the_model_names_the_download_command(
    qtbot: Any, controller: Any, tmp_path: Path
) -> None:
    _start_camera(qtbot, controller, tmp_path)
    _type_query(qtbot, controller, "keys")
    qtbot.waitUntil(lambda: "assistant models download siglip-base" in _statuses(controller), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not controller.find.finding, timeout=WAIT_MS)
