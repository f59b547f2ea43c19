"""Find: the real SigLIP/CLIP code path on tiny random models, the decision logic on scripted scores, the
guidance tone and the spoken finds through the speech controller, and the bad inputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.errors import ModelNotFoundError
from assistant.session import Config, Session
from assistant.vision.describe import SceneObject
from assistant.vision.finder import (
    SCENES,
    EmptyQueryError,
    Finder,
    FinderSettings,
    FindEvent,
    Where,
    clean_query,
    crop_columns,
    where_from_columns,
)
from assistant.voice.controller import Priority, SpeechController
from assistant.voice.tone import GuidanceTone, beep, interval_for, pitch_for
from tests.fakes.held_speaker import HeldSpeaker
from tests.fakes.scripted_scorer import ScriptedScorer
from tests.helpers.tiny_clip import build_clip, build_siglip

FRAME = np.zeros((120, 160, 3), dtype=np.uint8)


@pytest.fixture
def models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ASSISTANT_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    return tmp_path / "models"


def _run(finder: Finder, count: int, start: float = 0.0, step: float = 0.1) -> list[FindEvent]:
    events: list[FindEvent] = []
    for index in range(count):
        events.extend(finder.feed(FRAME, start + index * step))
    return events


def _finds(events: list[FindEvent]) -> list[str]:
    return [event.type for event in events if event.type != "score"]


# -- the real model path ------------------------------------------------------------------------------


@pytest.mark.parametrize("build", [build_siglip, build_clip], ids=["siglip", "clip"])
def test_a_tiny_image_text_model_loads_through_the_model_store_and_scores_frames(
    models_dir: Path, build: Any
) -> None:
    build(models_dir / "siglip-base")  # what `assistant models download siglip-base` leaves there
    session = Session(Config(threads=1))
    scorer = session.finder.get()
    assert scorer.model_name == "siglip-base"
    query = scorer.prepare("my keys")
    assert query.text == "keys"
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
    whole = scorer.score(frame, query)
    placed = scorer.score(frame, query, with_position=True)
    assert 0.0 < whole.match < 1.0 and whole.columns == ()
    assert len(placed.columns) == 3 and all(0.0 < value < 1.0 for value in placed.columns)
    assert placed.match == pytest.approx(whole.match, abs=5e-3)  # int8 activations are scaled per batch
    scene, probability = scorer.scene(frame)
    assert scene in SCENES and 0.0 < probability <= 1.0
    # The whole pipeline on the real model: events come out, with the query as said.
    events = _run(Finder(scorer, query), 4)
    assert events and all(event.query == "keys" for event in events)


def test_the_text_side_is_computed_once_per_request(models_dir: Path) -> None:
    build_siglip(models_dir / "siglip-base")
    scorer = Session(Config(threads=1)).finder.get()
    calls: list[int] = []
    encode = scorer.encode_texts

    def counted(texts: Any) -> Any:
        calls.append(len(texts))
        return encode(texts)

    scorer.encode_texts = counted  # type: ignore[method-assign]
    query = scorer.prepare("a cup")
    prepared = len(calls)
    _run(Finder(scorer, query), 5)
    assert len(calls) == prepared == 2  # the query's templates, then the background prompts: once each


def test_a_background_prompt_that_names_the_query_is_left_out(models_dir: Path) -> None:
    build_siglip(models_dir / "siglip-base")
    scorer = Session(Config(threads=1)).finder.get()
    assert scorer.prepare("the table").embeddings.shape[0] == scorer.prepare("keys").embeddings.shape[0] - 1


def test_a_missing_model_names_the_download_command(models_dir: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="assistant models download siglip-base"):
        Session(Config()).finder.get()


@pytest.mark.parametrize("query", ["", "   ", "my", "the ?"])
def test_an_empty_query_is_refused_with_an_example(query: str) -> None:
    with pytest.raises(EmptyQueryError, match='assistant find "my keys"'):
        clean_query(query)


# -- the decision ---------------------------------------------------------------------------------------


def test_a_match_is_announced_only_after_it_holds_for_a_few_frames() -> None:
    scorer = ScriptedScorer([0.1, 0.1, 0.1, 0.9, 0.1, 0.1, 0.8, 0.85, 0.9, 0.9])
    events = _run(Finder(scorer, scorer.prepare("keys")), 10)
    found = [event for event in events if event.type == "found"]
    assert len(found) == 1 and found[0].t == pytest.approx(0.8)  # the single-frame hit at 0.3 s is not one
    assert found[0].query == "keys"


def test_a_scene_that_looks_like_the_query_everywhere_raises_its_own_baseline() -> None:
    # Every frame beats the background prompts a little, but nothing stands out from the recent frames.
    settings = FinderSettings(win_probability=0.5, margin=0.15)
    scorer = ScriptedScorer([0.3, 0.45, 0.4, 0.42, 0.55, 0.56, 0.55, 0.56, 0.55, 0.5])
    assert "found" not in _finds(_run(Finder(scorer, scorer.prepare("keys"), settings), 10))
    # The same level after a low baseline is a real change.
    scorer = ScriptedScorer([0.1, 0.1, 0.1, 0.1, 0.7, 0.7, 0.7])
    assert _finds(_run(Finder(scorer, scorer.prepare("keys"), settings), 7)) == ["found"]


def test_an_object_in_view_from_the_start_is_found() -> None:
    scorer = ScriptedScorer([0.9] * 4)
    assert _finds(_run(Finder(scorer, scorer.prepare("keys")), 4)) == ["found"]


def test_lost_only_after_several_misses_and_found_again_later() -> None:
    matches = [0.1] * 3 + [0.9] * 3 + [0.1, 0.9] + [0.1] * 4 + [0.9] * 3
    scorer = ScriptedScorer(matches)
    events = _run(Finder(scorer, scorer.prepare("keys")), len(matches))
    assert _finds(events) == ["found", "lost", "found"]
    lost = next(event for event in events if event.type == "lost")
    assert lost.spoken() == "Lost keys." and lost.where is None


def test_the_position_comes_from_the_crops_and_costs_extra_only_while_confirming() -> None:
    scorer = ScriptedScorer([0.1, 0.1, 0.1, 0.8, 0.8, 0.8, 0.8], columns=[(0.99, 0.3, 0.1)] * 7)
    events = _run(Finder(scorer, scorer.prepare("my keys")), 7)
    found = next(event for event in events if event.type == "found")
    assert found.where == Where("left", "far")
    assert found.spoken() == "keys, on the left, far"
    assert found.as_dict()["where"] == "left, far"
    assert scorer.calls == [False, False, False, False, False, True, False]  # on the confirming frame


def test_near_and_far_from_how_the_whole_frame_compares_with_its_best_third() -> None:
    assert where_from_columns(0.9, (0.2, 0.85, 0.3)) == Where("centre", "near")
    assert where_from_columns(0.5, (0.2, 0.3, 0.9)) == Where("right", "far")
    assert where_from_columns(0.6, (0.2, 0.65, 0.3)).distance == "middle"
    assert [crop.shape[1] for crop in crop_columns(FRAME)] == [80, 80, 80]


def test_florence_grounding_refines_the_position_when_installed() -> None:
    located: list[str] = []

    def locate(frame: Any, phrase: str) -> list[SceneObject]:
        located.append(phrase)
        return [SceneObject(phrase, (100, 10, 150, 100), "right", "near")]

    scorer = ScriptedScorer([0.9] * 3, columns=[(0.95, 0.3, 0.1)] * 3)
    events = _run(Finder(scorer, scorer.prepare("my keys"), locate=locate), 3)
    assert located == ["keys"]
    assert next(e for e in events if e.type == "found").spoken() == "keys, on the right, near"


def test_score_events_are_throttled_and_rise_with_the_match() -> None:
    scorer = ScriptedScorer([0.05 * step for step in range(20)])
    events = _run(Finder(scorer, scorer.prepare("keys"), FinderSettings(score_interval=0.5)), 20)
    scores = [event for event in events if event.type == "score"]
    assert [round(event.t, 1) for event in scores] == [0.0, 0.5, 1.0, 1.5]
    assert scores[0].as_dict().keys() == {"type", "query", "where", "score", "t"}


# -- guidance tone and speech ------------------------------------------------------------------------------


def test_the_tone_beeps_faster_and_higher_as_the_match_grows() -> None:
    played: list[int] = []
    tone = GuidanceTone(lambda: False, lambda audio, rate: played.append(len(audio)))
    times = [index * 0.1 for index in range(40)]
    for t in times[:20]:
        tone.update(0.0, t)
    slow = len(tone.beeps)
    for t in times[20:]:
        tone.update(1.0, t)
    fast = len(tone.beeps) - slow
    assert fast > 3 * slow
    assert tone.beeps[-1][1] > tone.beeps[0][1]
    assert pitch_for(1.0) > pitch_for(0.5) > pitch_for(0.0) and interval_for(1.0) < interval_for(0.0)
    audio = beep(880.0)
    assert audio.dtype == np.float32 and np.abs(audio).max() <= 0.3 + 1e-6 and abs(audio[0]) < 1e-3
    assert played and played[0] == len(audio)


def test_the_tone_is_off_by_the_setting() -> None:
    tone = GuidanceTone(lambda: False, lambda audio, rate: None, enabled=False)
    assert not any(tone.update(1.0, t) for t in (0.0, 1.0, 2.0))


def test_the_tone_never_plays_over_speech_and_the_find_is_spoken() -> None:
    speaker = HeldSpeaker()
    played: list[float] = []
    with SpeechController(lambda: speaker) as speech:
        tone = GuidanceTone(lambda: speech.is_speaking, lambda audio, rate: played.append(len(audio)))
        scorer = ScriptedScorer([0.1, 0.1, 0.1, 0.9, 0.9, 0.9], columns=[(0.2, 0.9, 0.2)] * 6)
        finder = Finder(scorer, scorer.prepare("my keys"), FinderSettings(score_interval=0.0))
        for index in range(6):
            for event in finder.feed(FRAME, index * 1.0):
                if event.type == "found":
                    speech.say(event.spoken(), Priority.NOW)
                elif event.type == "score":
                    tone.update(event.level, event.t)
        assert speaker.speaking.wait(5)
        assert speaker.spoken == ["keys, in the centre, near"]
        beeps_before = len(played)
        assert not tone.update(1.0, 100.0)  # due, but the voice is speaking
        assert len(played) == beeps_before
        speaker.release.set()
        assert speech.wait_until_idle(5)
        assert tone.update(1.0, 101.0)


# -- the kind of place ---------------------------------------------------------------------------------


def test_a_description_carries_the_scene_when_the_finder_model_is_installed(models_dir: Path) -> None:
    from assistant.session import result_json

    frame = np.random.default_rng(2).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    assert "scene" not in result_json(Session(Config(threads=1)).describe(frame, wait=True))
    build_siglip(models_dir / "siglip-base")
    result = Session(Config(threads=1)).describe(frame, wait=True)
    assert result.scene in SCENES and 0.0 < result.scene_probability <= 1.0
    data = result_json(result)
    assert data["scene"] == result.scene and "scene_probability" in data


def test_narration_opens_with_the_place_only_when_the_finder_is_sure(
    models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_siglip(models_dir / "siglip-base")
    session = Session(Config(threads=1))
    scorer = session.finder.get()
    # The tiny model's random weights are never sure of anything: its scene scores are set here.
    monkeypatch.setattr(scorer, "scene", lambda frame: ("kitchen", 0.8))
    assert session.narrate(FRAME).text.startswith("In a kitchen: ")
    monkeypatch.setattr(scorer, "scene", lambda frame: ("kitchen", 0.1))
    assert not session.narrate(FRAME).text.startswith("In a")
