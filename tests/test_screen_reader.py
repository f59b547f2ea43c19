"""Results in the screen reader's own voice: a real speech-dispatcher (the service Orca speaks through),
started privately by each test, hears the description, whole caption sentences and a stop; a missing
or dying service falls back to the built-in voice and says so once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.session import Overrides, Result, ResultKind
from assistant.speech.types import CaptionEvent
from assistant.voice import Priority
from assistant.voice.screen_reader import ScreenReader, SpeechRoute, detect_screen_reader, speech_route
from assistant.voice.speechd import ScreenReaderSpeechError, SpeechDispatcher
from tests.helpers import speechd
from tests.helpers.polling import poll_until
from ui.controller import AppController
from ui.settings import Key, Settings

WAIT_S = 15.0


@pytest.fixture
def speech_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[speechd.SpeechDispatcherServer]:
    reason = speechd.available()
    if reason:
        pytest.fail(reason)  # scripts/setup.sh --test installs it: its absence is a broken set-up
    server = speechd.SpeechDispatcherServer(tmp_path / "speechd").start()
    monkeypatch.setenv("SPEECHD_ADDRESS", server.address)
    yield server
    server.stop()


@pytest.fixture
def reader_app(qtbot: Any, tmp_path: Path) -> Iterator[AppController]:
    settings = Settings(tmp_path / "settings.ini")
    settings.set(Key.VOICE_OUTPUT, "screen reader")
    settings.set(Key.ANNOUNCE_CAPTIONS, True)
    settings.set(Key.CAMERA, "")
    app = AppController(settings, Overrides(captions_at_start=False))
    app.start(load_models=False)
    app.output.start_speech()
    yield app
    app.shutdown()
    app.window.close()


def _statuses(app: AppController) -> list[str]:
    items = app.window.status_list
    return [items.item(row).text() for row in range(items.count())]


def test_description_captions_and_stop_reach_speech_dispatcher(
    qtbot: Any, speech_service: speechd.SpeechDispatcherServer, reader_app: AppController
) -> None:
    qtbot.waitUntil(lambda: reader_app.output.reader_voice is not None, timeout=int(WAIT_S * 1000))
    assert reader_app.output.route is SpeechRoute.SPEECH_DISPATCHER
    poll_until(lambda: any("Assistant ready" in line for line in speech_service.said()), WAIT_S, "greeting")

    description = "A red mug on a wooden table, on the left, near"
    reader_app.output.show(Result(description + ".", ResultKind.DESCRIPTION, "the camera picture"))
    poll_until(lambda: any(description in line for line in speech_service.said()), WAIT_S, "description")

    for text, start, end in [
        ("And so, my", 0.0, 0.8),
        ("fellow Americans,", 0.8, 1.6),
        ("ask not.", 1.6, 2.2),
    ]:
        reader_app.captions.show_caption(CaptionEvent("final", text, start, end, end))
    sentence = poll_until(
        lambda: next((line for line in speech_service.said() if "fellow" in line), None), WAIT_S, "caption"
    )
    assert "And so, my fellow Americans, ask not" in sentence  # one sentence, not three fragments
    assert not any(line.strip() in ("And so, my", "ask not.") for line in speech_service.said())

    long_text = " ".join(f"Sentence number {n} of a long description." for n in range(1, 9))
    reader_app.output.speak(long_text, Priority.NORMAL)
    poll_until(lambda: any("number 1 " in line for line in speech_service.said()), WAIT_S, "long text start")
    reader_app.general.stop_speech()
    poll_until(lambda: "CANCEL" in speech_service.log().upper(), WAIT_S, "cancel in the service's log")
    qtbot.wait(int(3 * speechd.SPEAKING_SECONDS * 1000))
    assert not any("number 8" in line for line in speech_service.said()), "stop cut the rest"


def test_without_speech_dispatcher_the_built_in_voice_speaks_and_says_why_once(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reader_app: AppController
) -> None:
    monkeypatch.setenv("SPEECHD_ADDRESS", f"unix_socket:{tmp_path / 'nobody.sock'}")
    reader_app.output.apply_settings()  # start_speech already ran with the environment of the fixture
    qtbot.waitUntil(
        lambda: any("using the built-in voice" in line for line in _statuses(reader_app)),
        timeout=int(WAIT_S * 1000),
    )
    fallbacks = [line for line in _statuses(reader_app) if "using the built-in voice" in line]
    assert len(fallbacks) == 1 and "speech-dispatcher is not running" in fallbacks[0]


def test_speech_dispatcher_dying_mid_sentence_falls_back_once(
    qtbot: Any, speech_service: speechd.SpeechDispatcherServer, reader_app: AppController
) -> None:
    qtbot.waitUntil(lambda: reader_app.output.reader_voice is not None, timeout=int(WAIT_S * 1000))
    speech_service.kill()
    for n in range(3):
        reader_app.output.speak(f"Message {n} after the service died.", Priority.NEXT)
    qtbot.waitUntil(
        lambda: any("using the built-in voice" in line for line in _statuses(reader_app)),
        timeout=int(WAIT_S * 1000),
    )
    qtbot.wait(300)
    assert sum("using the built-in voice" in line for line in _statuses(reader_app)) == 1
    assert reader_app.output.reader_voice is None


def test_the_client_refuses_clearly_when_nobody_listens(tmp_path: Path) -> None:
    client = SpeechDispatcher(tmp_path / "missing.sock")
    with pytest.raises(ScreenReaderSpeechError, match="speech-dispatcher is not running"):
        client.open()


def test_each_reader_is_reached_the_way_it_listens() -> None:
    assert speech_route(None) is SpeechRoute.SPEECH_DISPATCHER  # chosen by hand, none detected
    assert speech_route(ScreenReader("Orca", 43)) is SpeechRoute.SPEECH_DISPATCHER  # ignores announcements
    assert speech_route(ScreenReader("Orca", 47)) is SpeechRoute.ANNOUNCEMENTS  # speaks them itself
    assert speech_route(ScreenReader("Orca", 49, has_service=True)) is SpeechRoute.ORCA_SERVICE
    assert speech_route(ScreenReader("a screen reader")) is SpeechRoute.SPEECH_DISPATCHER


def test_no_screen_reader_is_detected_where_none_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    assert detect_screen_reader() is None
