"""Scene description: tiny random Florence-2, SmolVLM and BLIP models loaded through the real code path.

Random weights write garbage, so these tests check structure (prompts, token limits, routing, parsing,
errors), not wording. The models are built once per session into a temporary folder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.errors import ModelNotFoundError
from assistant.vision.describe import (
    BlipDescriber,
    DescriberOptions,
    Description,
    FallbackDescriber,
    FlorenceDescriber,
    RoutedDescriber,
    SceneObject,
    SmolVLMDescriber,
    UnsupportedRequestError,
    answer_where,
    hedge,
    load_describer,
    load_model_describer,
    position_words,
    tidy,
    where_question,
    where_things_are,
)
from assistant.vision.image import Frame
from tests.helpers import tiny_models

SMALL = DescriberOptions(
    brief_tokens=4, detailed_tokens=6, answer_tokens=5, object_tokens=8, brief_image_size=32
)


@pytest.fixture(scope="session")
def tiny_model_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return tiny_models.build_all(tmp_path_factory.mktemp("tiny-vlms"))


@pytest.fixture(scope="session")
def frame() -> Frame:
    rng = np.random.default_rng(1)
    return rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)


def _load(path: Path, options: DescriberOptions = SMALL) -> object:
    return load_model_describer(path, path.name, options)


# ------------------------------------------------------------------------------------- loading


@pytest.mark.parametrize(
    ("architecture", "expected"),
    [("florence2", FlorenceDescriber), ("smolvlm", SmolVLMDescriber), ("blip", BlipDescriber)],
)
def test_load_describer_picks_the_describer_for_the_model_folder(
    tiny_model_dirs: dict[str, Path], architecture: str, expected: type, frame: Frame
) -> None:
    describer = load_describer(
        str(tiny_model_dirs[architecture]), quantize=False, threads=1, question_model=None
    )
    assert isinstance(describer, expected)
    description = describer.describe(frame)
    assert isinstance(description, Description)
    assert description.text
    assert description.model_name == architecture


def test_int8_quantised_model_still_describes(tiny_model_dirs: dict[str, Path], frame: Frame) -> None:
    import torch

    describer = load_describer(str(tiny_model_dirs["blip"]), quantize=True, threads=1, question_model=None)
    assert isinstance(describer, BlipDescriber)
    assert any(isinstance(m, torch.ao.nn.quantized.dynamic.Linear) for m in describer.model.modules())
    assert describer.describe(frame).text


# ---------------------------------------------------------------------------------- prompt formats


def test_florence_task_prompt_is_image_tokens_then_the_task_sentence(
    tiny_model_dirs: dict[str, Path], frame: Frame
) -> None:
    describer = _load(tiny_model_dirs["florence2"])
    assert isinstance(describer, FlorenceDescriber)
    tokenizer = describer.tokenizer
    prompt = describer.processor.task_prompts_without_inputs["<CAPTION>"]
    ids = tokenizer(tokenizer.bos_token + prompt + tokenizer.eos_token, add_special_tokens=False)["input_ids"]
    inputs = describer.task_inputs(frame, "<CAPTION>")
    # 64 px input: a 2x2 grid plus one pooled token; then <s> + the prompt + </s> (encoder output length).
    assert inputs["attention_mask"].shape[1] == 5 + len(ids)
    assert describer.task_inputs(frame, "<CAPTION>", image_size=32)["attention_mask"].shape[1] == 2 + len(ids)


def test_smolvlm_prompt_uses_the_chat_template_with_the_question(
    tiny_model_dirs: dict[str, Path], frame: Frame
) -> None:
    describer = _load(tiny_model_dirs["smolvlm"])
    assert isinstance(describer, SmolVLMDescriber)
    prompt = describer.prompt("What colour is the cup?")
    assert prompt == "<|im_start|>User:<image>What colour is the cup?<end_of_utterance>\nAssistant:"
    inputs = describer.question_inputs(frame, "What colour is the cup?")
    image_tokens = describer.tokenizer.convert_tokens_to_ids("<image>")
    # Embeddings carry the 4 image features where the 4 expanded <image> tokens were.
    ids = describer.tokenizer(
        prompt.replace(
            "<image>", "<fake_token_around_image><global-img>" + "<image>" * 4 + "<fake_token_around_image>"
        ),
        add_special_tokens=False,
    )["input_ids"]
    assert ids.count(image_tokens) == 4
    assert inputs["inputs_embeds"].shape[1] == len(ids)


def test_smolvlm_answers_a_question_with_a_string(tiny_model_dirs: dict[str, Path], frame: Frame) -> None:
    describer = _load(tiny_model_dirs["smolvlm"])
    answer = describer.ask(frame, "How many people are there?")  # type: ignore[attr-defined]
    assert isinstance(answer, str) and answer


def test_follow_up_question_reuses_the_image_encoding(tiny_model_dirs: dict[str, Path], frame: Frame) -> None:
    describer = _load(tiny_model_dirs["smolvlm"])
    assert isinstance(describer, SmolVLMDescriber)
    describer.ask(frame, "What is this?")
    describer.ask(frame, "What colour is it?")
    assert describer.cache.hits == 1
    describer.ask(frame[::-1].copy(), "What is this?")  # another frame: encoded afresh
    assert describer.cache.hits == 1


# ------------------------------------------------------------------------------------ token limits


@pytest.mark.parametrize("architecture", ["florence2", "smolvlm", "blip"])
def test_max_new_tokens_is_honoured(
    tiny_model_dirs: dict[str, Path], architecture: str, frame: Frame
) -> None:
    # Florence-2's detailed description also runs object detection: cap that at the same length.
    forced = DescriberOptions(
        brief_tokens=3, detailed_tokens=7, object_tokens=7, min_new_tokens=7, brief_image_size=32
    )
    describer = _load(tiny_model_dirs[architecture], forced)
    describer.describe(frame, "brief")  # type: ignore[attr-defined]
    assert describer.last_generated.generated_count <= 3  # type: ignore[attr-defined]
    describer.describe(frame, "detailed")  # type: ignore[attr-defined]
    generated = describer.last_generated  # type: ignore[attr-defined]
    # min_new_tokens forbids stopping early, so exactly the cap is generated.
    assert generated.generated_count == 7
    assert generated.token_count <= 7
    assert 0.0 <= generated.confidence <= 1.0


# ------------------------------------------------------------------------------------------ objects


@pytest.mark.parametrize(
    ("box", "expected"),
    [
        ((0, 0, 80, 80), ("left", "far")),  # 2 % of a 640x480 frame
        ((280, 200, 360, 280), ("centre", "far")),
        ((500, 100, 640, 300), ("right", "middle")),  # 9 % of the frame
        ((0, 0, 640, 480), ("centre", "near")),
        ((150, 0, 400, 300), ("centre", "near")),  # centre x 275 = 0.43
        ((0, 0, 300, 480), ("left", "near")),
    ],
)
def test_box_position_words(box: tuple[int, int, int, int], expected: tuple[str, str]) -> None:
    assert position_words(box, 640, 480) == expected


def test_scene_object_phrase_is_plain() -> None:
    assert SceneObject("cup", (0, 0, 10, 10), "left", "near").phrase() == "cup on the left, near"
    assert SceneObject("dog", (0, 0, 10, 10), "centre", "middle").phrase() == "dog in the centre"


def test_florence_object_detection_output_is_parsed_into_positions(tiny_model_dirs: dict[str, Path]) -> None:
    describer = _load(tiny_model_dirs["florence2"])
    assert isinstance(describer, FlorenceDescriber)
    # What Florence-2's <OD> task writes: a label, then x0 y0 x1 y1 as bins of 1/1000 of the frame.
    text = "</s><s>cup<loc_0><loc_0><loc_300><loc_400>person<loc_600><loc_100><loc_999><loc_999></s>"
    found = describer.parse_objects(text, 640, 480)
    assert [o.label for o in found] == ["cup", "person"]
    assert (found[0].horizontal, found[1].horizontal) == ("left", "right")
    assert found[1].distance == "near"
    assert all(0 <= o.box[0] < o.box[2] <= 640 and 0 <= o.box[1] < o.box[3] <= 480 for o in found)


def test_florence_objects_runs_the_detection_path(tiny_model_dirs: dict[str, Path], frame: Frame) -> None:
    describer = _load(tiny_model_dirs["florence2"])
    found = describer.objects(frame)  # type: ignore[attr-defined]
    assert isinstance(found, list)
    assert all(isinstance(o, SceneObject) for o in found)


def test_detailed_descriptions_say_where_things_are_counted() -> None:
    objects = [
        SceneObject("person", (0, 0, 200, 400), "left", "near"),
        SceneObject("cup", (500, 300, 540, 340), "right", "far"),
        SceneObject("person", (250, 50, 350, 300), "centre", "middle"),
    ]
    assert where_things_are(objects) == (
        "Two people: on the left, near and in the centre; a cup on the right, far."
    )
    assert where_things_are([]) == ""


def test_where_questions_are_recognised_and_answered_from_boxes() -> None:
    assert where_question("Where are my keys?") == "keys"
    assert where_question("where's the door") == "door"
    assert where_question("Where did I leave my glasses?") == "glasses"
    assert where_question("What colour is the shirt?") is None
    cup = SceneObject("cup", (0, 0, 10, 10), "left", "near")
    assert answer_where("cup", [cup]) == "Cup: on the left, near."
    assert answer_where("keys", []) == "I cannot see keys in the picture."


def test_florence_answers_where_questions_through_phrase_grounding(
    tiny_model_dirs: dict[str, Path], frame: Frame
) -> None:
    describer = _load(tiny_model_dirs["florence2"])
    assert isinstance(describer, FlorenceDescriber)
    found = describer.locate(frame, "keys")  # the real grounding task, random weights
    assert all(isinstance(o, SceneObject) for o in found)
    answer = describer.ask(frame, "Where are my keys?")
    assert answer == answer_where("keys", found)
    with pytest.raises(UnsupportedRequestError):
        describer.ask(frame, "What is this?")  # other questions still need a question model


def test_captioner_refuses_questions_and_objects_with_the_fix(
    tiny_model_dirs: dict[str, Path], frame: Frame
) -> None:
    describer = _load(tiny_model_dirs["blip"])
    with pytest.raises(UnsupportedRequestError, match="assistant models download smolvlm-256m"):
        describer.ask(frame, "What is this?")  # type: ignore[attr-defined]
    with pytest.raises(UnsupportedRequestError, match="florence-2-base"):
        describer.objects(frame)  # type: ignore[attr-defined]


def test_routed_describer_sends_brief_to_the_fast_model_and_questions_to_the_vlm(
    tiny_model_dirs: dict[str, Path], frame: Frame
) -> None:
    fast = _load(tiny_model_dirs["blip"])
    full = _load(tiny_model_dirs["florence2"])
    loads: list[str] = []

    def load_questions() -> SmolVLMDescriber:
        loads.append("smolvlm")
        loaded = _load(tiny_model_dirs["smolvlm"])
        assert isinstance(loaded, SmolVLMDescriber)
        return loaded

    routed = RoutedDescriber(fast, full, load_questions)  # type: ignore[arg-type]
    assert routed.describe(frame, "brief").model_name == "blip"
    assert routed.describe(frame, "detailed").model_name == "florence2"
    assert loads == []
    assert isinstance(routed.ask(frame, "What is this?"), str)
    routed.ask(frame, "And now?")
    assert loads == ["smolvlm"]


# ------------------------------------------------------------------------------------- text policy


def test_texts_are_tidied_and_hedged_without_new_claims() -> None:
    assert tidy("  arafed a man   riding a horse ") == "A man riding a horse."
    assert hedge("A cat on a sofa.") == "It may be a cat on a sofa."
    assert hedge("The image shows a kitchen.") == "Not certain: The image shows a kitchen."


def test_unsure_model_text_is_hedged(tiny_model_dirs: dict[str, Path], frame: Frame) -> None:
    certain = _load(tiny_model_dirs["blip"], DescriberOptions(brief_tokens=4, hedge_below=0.0))
    unsure = _load(tiny_model_dirs["blip"], DescriberOptions(brief_tokens=4, hedge_below=1.01))
    plain, hedged = certain.describe(frame), unsure.describe(frame)  # type: ignore[attr-defined]
    assert not plain.hedged and hedged.hedged
    assert hedged.text.startswith(("It may be", "Not certain:"))


# ------------------------------------------------------------------------------ missing models


def test_missing_model_error_names_the_model_and_the_download_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSISTANT_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(ModelNotFoundError) as raised:
        load_describer("florence-2-base", quantize=False, threads=1)
    assert "florence-2-base" in str(raised.value)
    assert "assistant models download florence-2-base" in str(raised.value)


def test_missing_model_folder_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="No model at"):
        load_describer(str(tmp_path / "nothing-here"), quantize=False, threads=1)


def test_fallback_describer_says_no_model_and_gives_the_quick_look(frame: Frame) -> None:
    from assistant.vision.cues import QuickCues

    fallback = FallbackDescriber(QuickCues())
    description = fallback.describe(frame)
    assert description.text.startswith("No scene model installed; quick look: ")
    assert "in the centre" in description.text
    assert fallback.ask(frame, "What is this?").startswith("No scene model installed")
