"""The app's behaviour without Qt: configuration, model holders, and commands with typed results."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import ModelNotFoundError
from assistant.session import (
    NO_QUESTION,
    NO_TEXT,
    Config,
    Lazy,
    Overrides,
    ResultKind,
    Session,
    no_picture,
    result_json,
)
from assistant.vision.describe import load_describer
from assistant.vision.image import Frame
from assistant.voice import Priority
from tests.helpers import tiny_models


@pytest.fixture(scope="module")
def florence(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_models.build_florence2(tmp_path_factory.mktemp("models") / "florence2")


@pytest.fixture
def red_frame() -> Frame:
    frame = np.zeros((240, 320, 3), np.uint8)
    frame[:, :] = (200, 20, 30)
    return frame


def _not_installed() -> object:
    raise ModelNotFoundError("florence-2-base is missing: `assistant models download florence-2-base`.")


def test_the_command_line_wins_over_the_stored_settings_and_unset_options_leave_them() -> None:
    stored = Config(camera="2", audio="system", model="base.en", language="de", captions_at_start=True)
    config = stored.overridden_by(Overrides(audio="talk.wav", captions_at_start=False))
    assert (config.camera, config.audio, config.model, config.language) == ("2", "talk.wav", "base.en", "de")
    assert config.captions_at_start is False
    assert Config(language="auto").recognition_language is None
    assert config.recognizer_options().language == "de"


def test_a_lazy_model_loads_once_whichever_threads_ask_at_once() -> None:
    loads: list[int] = []

    def load() -> str:
        loads.append(1)
        time.sleep(0.05)  # long enough that the other threads arrive while it loads
        return "model"

    holder = Lazy(load)
    assert holder.loaded() is None
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(holder.get())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["model"] * 4 and len(loads) == 1 and holder.loaded() == "model"


def test_without_a_scene_model_descriptions_use_quick_cues_and_say_why(red_frame: Frame) -> None:
    session = Session(load_scene=_not_installed)  # type: ignore[arg-type]
    describer, reason = session.scene.load_or_fallback()
    assert describer.is_fallback and "assistant models download florence-2-base" in reason
    result = session.describe(red_frame, wait=True)
    assert result.kind is ResultKind.DESCRIPTION and result.fallback and result.model == "quick cues"
    assert result.text.startswith("No scene model installed; quick look:") and "red" in result.text.lower()
    assert result_json(result)["fallback"] is True


def test_the_window_answers_with_quick_cues_while_the_model_is_still_loading(
    red_frame: Frame, florence: Path
) -> None:
    release = threading.Event()

    def slow_load() -> object:
        release.wait(10)
        return load_describer(str(florence), quantize=False, threads=1, question_model=None)

    session = Session(load_scene=slow_load)  # type: ignore[arg-type]
    loader = threading.Thread(target=session.scene.load)
    loader.start()
    try:
        assert session.describe(red_frame).fallback  # does not wait for the load in progress
    finally:
        release.set()
        loader.join()
    loaded = session.describe(red_frame, "detailed")
    assert not loaded.fallback and loaded.model == florence.name
    assert isinstance(loaded.text, str)


def test_results_carry_where_they_came_from_and_how_urgently_to_say_them(red_frame: Frame) -> None:
    session = Session(load_scene=_not_installed)  # type: ignore[arg-type]
    asked = session.ask(red_frame, "What colour is this?", "the clipboard")
    assert asked.kind is ResultKind.ANSWER and asked.origin == "the clipboard"
    assert asked.priority is Priority.NEXT
    assert session.narrate(red_frame).priority is Priority.NORMAL  # narration never cuts off a command
    missing = no_picture()
    assert missing.kind is ResultKind.MESSAGE and missing.text.startswith("No camera picture yet")
    assert no_picture("the clipboard").text == "There is no picture on the clipboard."


def test_reading_a_picture_without_text_says_so(red_frame: Frame) -> None:
    assert Session().read(red_frame).text == NO_TEXT


def test_a_slip_of_the_finger_is_not_a_question() -> None:
    session = Session(load_question_recognizer=lambda: pytest.fail("no recognizer for no audio"))
    assert session.hear_question(np.zeros(1000, np.float32)) == ""
    assert "did not hear" in NO_QUESTION


def test_read_text_is_shown_exactly_and_said_in_words() -> None:
    from PIL import Image, ImageDraw, ImageFont

    picture = Image.new("RGB", (640, 200), "white")
    font = ImageFont.truetype("DejaVuSans.ttf", 48)
    ImageDraw.Draw(picture).text((30, 60), "Ibuprofen 200 mg", fill="black", font=font)
    result = Session().read(np.asarray(picture))
    assert "200 mg" in result.text  # shown as printed
    assert "200 milligrams" in result.said  # said as a person would say it
