"""Describing a scene: a short sentence, a detailed description, answers to questions, and objects.

`SceneDescriber` is the protocol the narrator, the command line and the window use. Implementations:

- `FlorenceDescriber` (Florence-2): captions, detailed captions and object detection in one 0.23 B model.
  The default (`DEFAULT_MODEL`): the smallest download (465 MB, MIT) that covers describe, detail and
  objects, and with the image at 384 px for brief descriptions it is the only one near the 1 s target on
  two cores (see `bench/describe_latency.py`). It cannot answer free questions.
- `SmolVLMDescriber` (SmolVLM): answers questions and describes; no boxes, so no objects.
- `BlipDescriber` (BLIP base captioning): one-line captions only.
- `RoutedDescriber`: brief descriptions from one describer, detail and objects from another, questions
  from a third that is loaded on first use (`load_describer` builds Florence-2 + SmolVLM this way when
  SmolVLM is installed).
- `FallbackDescriber`: no scene model installed; says so and gives the quick cues instead.

Texts are short and plain. When the model is unsure (the generated tokens' mean probability is under
`DescriberOptions.hedge_below`) the text is hedged ("It may be a cat on a sofa.") and `hedged` is set;
nothing is ever added that the model did not say.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from assistant.errors import AssistantError, ModelNotFoundError
from assistant.vision import vlm_runtime as runtime
from assistant.vision.cues import horizontal_position
from assistant.vision.image import Frame

log = logging.getLogger(__name__)

Detail = Literal["brief", "detailed"]
Box = tuple[int, int, int, int]
"""(x0, y0, x1, y1) in frame pixels."""

DEFAULT_MODEL = "florence-2-base"
QUESTION_MODEL = "smolvlm-256m"
SUPPORTED_ARCHITECTURES = ("florence2", "smolvlm", "blip")

NEAR_AREA_FRACTION = 0.2
"""An object whose box covers at least this fraction of the frame is near (it fills much of the view)."""
FAR_AREA_FRACTION = 0.03
"""An object whose box covers less than this fraction of the frame is far."""

_HEDGE_FIRST_WORDS = {"a", "an", "some", "one", "two", "three", "four", "several", "many", "people", "the"}
_PICTURE_WORDS = (
    "the image",
    "the picture",
    "the photo",
    "this image",
    "this picture",
    "in this",
    "in the image",
)
# BLIP's captioner was trained on alt-texts that often began with a garbled "arafed" (from "a rafed"...);
# the word means nothing, and reading it aloud confuses people.
_BLIP_ARTEFACTS = re.compile(r"\b(?:arafed|araffe|arafly|arafe|araf)\b\s*", re.IGNORECASE)


class UnsupportedRequestError(AssistantError):
    """The scene model cannot do what was asked (BLIP answering questions, SmolVLM finding boxes)."""


@dataclass(frozen=True)
class SceneObject:
    """Something the model found, where it is in the picture, and how near it looks."""

    label: str
    box: Box
    horizontal: Literal["left", "centre", "right"]
    distance: Literal["near", "middle", "far"]

    def phrase(self) -> str:
        """ "cup on the left, near" (the middle distance is not worth saying)."""
        where = "in the centre" if self.horizontal == "centre" else f"on the {self.horizontal}"
        return f"{self.label} {where}" + ("" if self.distance == "middle" else f", {self.distance}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "box": list(self.box),
            "horizontal": self.horizontal,
            "distance": self.distance,
        }


@dataclass(frozen=True)
class Description:
    """What a describer said about a frame. `hedged`: the model was unsure and the text says so."""

    text: str
    objects: list[SceneObject] = field(default_factory=list)
    model_name: str = ""
    hedged: bool = False


class SceneDescriber(Protocol):
    """Describes frames. `ask` and `objects` raise `UnsupportedRequestError` where the model cannot."""

    model_name: str

    def describe(self, frame: Frame, detail: Detail = "brief") -> Description: ...

    def ask(self, frame: Frame, question: str) -> str: ...

    def objects(self, frame: Frame) -> list[SceneObject]: ...


@dataclass(frozen=True)
class DescriberOptions:
    """How a describer runs. `brief_image_size`: the square input size for brief descriptions (None: the
    model's own); smaller is faster and rougher. `hedge_below`: mean token probability under which a
    text is hedged."""

    threads: int = 2
    quantize: bool = True
    brief_tokens: int = 20
    detailed_tokens: int = 60
    answer_tokens: int = 30
    object_tokens: int = 80
    brief_image_size: int | None = 384
    cache_images: bool = True
    hedge_below: float = 0.35
    min_new_tokens: int = 0
    """Never stop before this many tokens (benchmarks: time a fixed amount of text)."""
    split_images: bool = False
    """SmolVLM: also encode the picture in tiles (up to 17 images: far slower on a CPU)."""


# ----------------------------------------------------------------------------------------- text helpers


def position_words(
    box: Box, width: int, height: int
) -> tuple[Literal["left", "centre", "right"], Literal["near", "middle", "far"]]:
    """Where a box is across the frame (by its centre, in thirds) and how near (by the area it covers)."""
    x0, y0, x1, y1 = box
    horizontal = horizontal_position(x0, x1, width)
    area = max(0, x1 - x0) * max(0, y1 - y0) / max(width * height, 1)
    distance: Literal["near", "middle", "far"] = (
        "near" if area >= NEAR_AREA_FRACTION else "far" if area < FAR_AREA_FRACTION else "middle"
    )
    return horizontal, distance


def make_object(label: str, box: tuple[float, float, float, float], width: int, height: int) -> SceneObject:
    clipped = (
        int(max(0, min(width, round(box[0])))),
        int(max(0, min(height, round(box[1])))),
        int(max(0, min(width, round(box[2])))),
        int(max(0, min(height, round(box[3])))),
    )
    horizontal, distance = position_words(clipped, width, height)
    return SceneObject(label.strip() or "object", clipped, horizontal, distance)


def tidy(text: str) -> str:
    """One clean sentence or paragraph: artefacts and extra spaces gone, capitalised, full stop."""
    text = _BLIP_ARTEFACTS.sub("", text)
    text = re.sub(r"\s+", " ", text).strip().strip(",;:")
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def hedge(text: str) -> str:
    """Say the text is uncertain without adding anything to what it claims."""
    lowered = text.lower()
    first = lowered.split(" ", 1)[0]
    if first in _HEDGE_FIRST_WORDS and not lowered.startswith(_PICTURE_WORDS):
        return "It may be " + text[0].lower() + text[1:]
    return "Not certain: " + text


def _finish(
    text: str, confidence: float, options: DescriberOptions, model_name: str, objects: list[SceneObject]
) -> Description:
    tidied = tidy(text)
    if not tidied:
        return Description("The scene model gave no description.", objects, model_name, hedged=True)
    unsure = confidence < options.hedge_below
    return Description(hedge(tidied) if unsure else tidied, objects, model_name, hedged=unsure)


_NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_PLURALS = {"person": "people", "man": "men", "woman": "women", "child": "children", "mouse": "mice"}


def _plural(label: str) -> str:
    words = label.split()
    last = words[-1]
    if last in _PLURALS:
        words[-1] = _PLURALS[last]
    elif not last.endswith("s"):
        words[-1] = last + ("es" if last.endswith(("ch", "sh", "x")) else "s")
    return " ".join(words)


def _article(label: str) -> str:
    return ("an " if label[:1].lower() in "aeiou" else "a ") + label


def _where(scene_object: SceneObject) -> str:
    return scene_object.phrase()[len(scene_object.label) + 1 :]


def where_things_are(objects: list[SceneObject], most: int = 6) -> str:
    """The objects as a sentence a listener can use: counted, each with where it is.

    "A cup on the left, near; two people: in the centre and on the right, far." Biggest first (they
    matter most to someone who cannot see them); at most `most` kinds of thing."""
    groups: dict[str, list[SceneObject]] = {}
    by_size = sorted(objects, key=lambda o: -(o.box[2] - o.box[0]) * (o.box[3] - o.box[1]))
    for scene_object in by_size:
        groups.setdefault(scene_object.label.strip().lower(), []).append(scene_object)
    parts = []
    for label, found in list(groups.items())[:most]:
        if len(found) == 1:
            parts.append(f"{_article(label)} {_where(found[0])}")
        else:
            count = _NUMBER_WORDS[len(found)] if len(found) < len(_NUMBER_WORDS) else str(len(found))
            places = [_where(o) for o in found]
            parts.append(f"{count} {_plural(label)}: {', '.join(places[:-1])} and {places[-1]}")
    if not parts:
        return ""
    sentence = "; ".join(parts)
    return sentence[0].upper() + sentence[1:] + "."


_WHERE_QUESTION = re.compile(
    r"^\s*where(?:'s|\s+is|\s+are|\s+did\s+i\s+(?:put|leave))\s+(?:the\s+|my\s+|a\s+|an\s+|our\s+)?"
    r"(?P<thing>[^?]+?)\s*\??\s*$",
    re.IGNORECASE,
)


def where_question(question: str) -> str | None:
    """The thing a "where is …?" question asks about ("where are my keys?" → "keys"), else None."""
    match = _WHERE_QUESTION.match(question)
    return match.group("thing") if match else None


def answer_where(thing: str, found: list[SceneObject]) -> str:
    """ "Keys: on the left, near." from the boxes found for `thing`."""
    if not found:
        return f"I cannot see {thing} in the picture."
    places = [_where(scene_object) for scene_object in found[:4]]
    said = places[0] if len(places) == 1 else ", ".join(places[:-1]) + " and " + places[-1]
    return f"{thing[:1].upper()}{thing[1:]}: {said}."


# ---------------------------------------------------------------------------------------- describers


class _TransformersDescriber:
    """Shared parts: the loaded model, its tokenizer, the options and the image-encoding cache."""

    def __init__(self, model: Any, tokenizer: Any, model_name: str, options: DescriberOptions) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.model_name = model_name
        self.options = options
        self.cache = runtime.ImageEncodingCache(2 if options.cache_images else 0)
        self._stop_ids = {int(i) for i in tokenizer.all_special_ids}
        self.last_generated: runtime.Generated | None = None
        """The last generation's raw text, confidence and token count (for diagnostics and benchmarks)."""

    def _generate(
        self, inputs: dict[str, Any], max_new_tokens: int, keep_special: bool = False
    ) -> runtime.Generated:
        tokens, confidence, generated_count = runtime.generate(
            self.model, inputs, max_new_tokens, self._stop_ids, self.options.min_new_tokens
        )
        text = self.tokenizer.decode(tokens, skip_special_tokens=not keep_special)
        self.last_generated = runtime.Generated(str(text), confidence, len(tokens), generated_count)
        return self.last_generated

    def _cached_features(self, frame: Frame, variant: str, encode: Callable[[], Any]) -> Any:
        key = runtime.frame_key(frame, variant)
        features = self.cache.get(key)
        if features is None:
            import torch

            with torch.inference_mode():
                features = encode()
            self.cache.put(key, features)
        return features


class FlorenceDescriber(_TransformersDescriber):
    """Florence-2: `<CAPTION>` for brief, `<DETAILED_CAPTION>` for detailed, `<OD>` for objects."""

    TASKS: dict[Detail, str] = {"brief": "<CAPTION>", "detailed": "<DETAILED_CAPTION>"}

    def __init__(self, model: Any, processor: Any, model_name: str, options: DescriberOptions) -> None:
        super().__init__(model, processor.tokenizer, model_name, options)
        self.processor = processor
        self.image_token_id = int(model.config.image_token_id)

    def task_inputs(self, frame: Frame, task: str, image_size: int | None = None) -> dict[str, Any]:
        """Encoder inputs for one Florence-2 task: image features, then `<s>` + the task's prompt + `</s>`."""
        import torch

        def encode() -> Any:
            kwargs: dict[str, Any] = {}
            if image_size is not None:
                square = {"height": image_size, "width": image_size}
                kwargs = {"size": square, "crop_size": square}
            pixels = self.processor.image_processor(
                images=runtime.to_pil(frame), return_tensors="pt", **kwargs
            )
            return self.model.get_image_features(pixel_values=pixels["pixel_values"]).pooler_output

        features = self._cached_features(frame, f"florence:{image_size}", encode)
        prompt = self.processor.task_prompts_without_inputs.get(task, task)
        text = self.tokenizer.bos_token + prompt + self.tokenizer.eos_token
        text_ids = self.tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
        image_ids = torch.full((1, features.shape[1]), self.image_token_id, dtype=text_ids.dtype)
        input_ids = torch.cat([image_ids, text_ids], dim=1)
        mask = torch.ones(input_ids.shape, dtype=torch.long)
        with torch.inference_mode():
            embeds = runtime.merge_image_features(self.model, input_ids, self.image_token_id, features)
            # The text encoder runs here, not in generate(): Florence-2's generate() mishandles a ready
            # `inputs_embeds`, while precomputed `encoder_outputs` are the standard encoder-decoder path.
            encoded = self.model.get_encoder()(inputs_embeds=embeds, attention_mask=mask)
        return {"encoder_outputs": encoded, "attention_mask": mask}

    def describe(self, frame: Frame, detail: Detail = "brief") -> Description:
        size = self.options.brief_image_size if detail == "brief" else None
        tokens = self.options.brief_tokens if detail == "brief" else self.options.detailed_tokens
        generated = self._generate(self.task_inputs(frame, self.TASKS[detail], size), tokens)
        found = self.objects(frame) if detail == "detailed" else []
        description = _finish(generated.text, generated.confidence, self.options, self.model_name, found)
        where = where_things_are(found)
        if not where:
            return description
        return dataclasses.replace(description, text=f"{description.text} {where}")

    def objects(self, frame: Frame) -> list[SceneObject]:
        generated = self._generate(
            self.task_inputs(frame, "<OD>"), self.options.object_tokens, keep_special=True
        )
        return self.parse_objects(generated.text, frame.shape[1], frame.shape[0])

    def parse_objects(self, text: str, width: int, height: int) -> list[SceneObject]:
        """Boxes and labels from Florence-2's `<OD>` output ("cup<loc_12><loc_40><loc_200><loc_300>...")."""
        parsed = self.processor.post_process_generation(text=text, task="<OD>", image_size=(width, height))
        result = parsed.get("<OD>", {})
        return [
            make_object(str(label), tuple(float(v) for v in box), width, height)  # type: ignore[arg-type]
            for box, label in zip(result.get("bboxes", []), result.get("labels", []), strict=False)
            if len(box) == 4
        ]

    def locate(self, frame: Frame, phrase: str) -> list[SceneObject]:
        """Where `phrase` ("my keys", "the door") is in the picture: Florence-2's phrase grounding."""
        task = "<CAPTION_TO_PHRASE_GROUNDING>"
        prompt = self.processor.task_prompts_with_input[task].format(input=phrase)
        generated = self._generate(
            self.task_inputs(frame, prompt), self.options.object_tokens, keep_special=True
        )
        width, height = frame.shape[1], frame.shape[0]
        parsed = self.processor.post_process_generation(
            text=generated.text, task=task, image_size=(width, height)
        )
        result = parsed.get(task, {})
        return [
            make_object(str(label).strip() or phrase, tuple(float(v) for v in box), width, height)  # type: ignore[arg-type]
            for box, label in zip(result.get("bboxes", []), result.get("labels", []), strict=False)
            if len(box) == 4
        ]

    def ask(self, frame: Frame, question: str) -> str:
        """Only "where is …?": answered from the boxes its phrase grounding finds."""
        thing = where_question(question)
        if thing is not None:
            return answer_where(thing, self.locate(frame, thing))
        raise UnsupportedRequestError(
            f"{self.model_name} cannot answer questions. Install {QUESTION_MODEL} with "
            f"`assistant models download {QUESTION_MODEL}` to ask about a picture."
        )


class SmolVLMDescriber(_TransformersDescriber):
    """SmolVLM: a chat model that sees one picture; questions go through its chat template."""

    PROMPTS: dict[Detail, str] = {
        "brief": "Describe this picture in one short sentence.",
        "detailed": "Describe this picture in a few sentences: the main things, where they are, any text.",
    }

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        image_processor: Any,
        chat_template: str,
        model_name: str,
        options: DescriberOptions,
    ) -> None:
        super().__init__(model, tokenizer, model_name, options)
        self.image_processor = image_processor
        self.chat_template = chat_template
        config = model.config
        vision = config.vision_config
        # The processor's `image_seq_len`, computed as SmolVLMProcessor's docstring says.
        self.image_seq_len = int(((vision.image_size // vision.patch_size) ** 2) / (config.scale_factor**2))
        self.image_token_id = int(config.image_token_id)

    def prompt(self, question: str) -> str:
        """The chat-formatted prompt for one picture and one question (image tokens not yet expanded)."""
        messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": question}]}]
        rendered = self.tokenizer.apply_chat_template(
            messages, chat_template=self.chat_template, tokenize=False, add_generation_prompt=True
        )
        return str(rendered)

    def question_inputs(self, frame: Frame, question: str) -> dict[str, Any]:
        import torch

        get_image_prompt_string: Any = importlib.import_module(
            "transformers.models.smolvlm.processing_smolvlm"
        ).get_image_prompt_string

        layout: dict[str, int] = {}

        def encode() -> Any:
            pixels = self.image_processor(
                images=[[runtime.to_pil(frame)]],
                do_image_splitting=self.options.split_images,
                return_row_col_info=True,
                return_tensors="pt",
            )
            features = self.model.get_image_features(
                pixel_values=pixels["pixel_values"], pixel_attention_mask=pixels.get("pixel_attention_mask")
            ).pooler_output
            return (features, int(pixels["rows"][0][0]), int(pixels["cols"][0][0]))

        features, layout["rows"], layout["cols"] = self._cached_features(
            frame, f"smolvlm:{self.options.split_images}", encode
        )
        image_text = get_image_prompt_string(
            layout["rows"],
            layout["cols"],
            self.image_seq_len,
            "<fake_token_around_image>",
            "<image>",
            "<global-img>",
        )
        text = self.prompt(question).replace("<image>", image_text, 1)
        input_ids = self.tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
        with torch.inference_mode():
            embeds = runtime.merge_image_features(self.model, input_ids, self.image_token_id, features)
        return {"inputs_embeds": embeds, "attention_mask": torch.ones(input_ids.shape, dtype=torch.long)}

    def describe(self, frame: Frame, detail: Detail = "brief") -> Description:
        tokens = self.options.brief_tokens if detail == "brief" else self.options.detailed_tokens
        generated = self._generate(self.question_inputs(frame, self.PROMPTS[detail]), tokens)
        return _finish(generated.text, generated.confidence, self.options, self.model_name, [])

    def ask(self, frame: Frame, question: str) -> str:
        question = question.strip()
        if not question:
            raise UnsupportedRequestError("The question is empty: say or type what you want to know.")
        generated = self._generate(self.question_inputs(frame, question), self.options.answer_tokens)
        answer = tidy(generated.text)
        if not answer:
            return "The scene model gave no answer."
        return answer if generated.confidence >= self.options.hedge_below else hedge(answer)

    def objects(self, frame: Frame) -> list[SceneObject]:
        raise UnsupportedRequestError(
            f"{self.model_name} cannot locate objects. Use {DEFAULT_MODEL} "
            f"(`assistant models download {DEFAULT_MODEL}`) for objects and their positions."
        )


class BlipDescriber(_TransformersDescriber):
    """BLIP base captioning: one short caption, nothing else."""

    def __init__(self, model: Any, processor: Any, model_name: str, options: DescriberOptions) -> None:
        super().__init__(model, processor.tokenizer, model_name, options)
        self.processor = processor

    def describe(self, frame: Frame, detail: Detail = "brief") -> Description:
        inputs = self.processor(images=runtime.to_pil(frame), return_tensors="pt")
        tokens = self.options.brief_tokens if detail == "brief" else self.options.detailed_tokens
        generated = self._generate({"pixel_values": inputs["pixel_values"]}, tokens)
        return _finish(generated.text, generated.confidence, self.options, self.model_name, [])

    def ask(self, frame: Frame, question: str) -> str:
        raise UnsupportedRequestError(
            f"{self.model_name} only writes captions. Install {QUESTION_MODEL} with "
            f"`assistant models download {QUESTION_MODEL}` to ask about a picture."
        )

    def objects(self, frame: Frame) -> list[SceneObject]:
        raise UnsupportedRequestError(
            f"{self.model_name} cannot locate objects. Use {DEFAULT_MODEL} "
            f"(`assistant models download {DEFAULT_MODEL}`) for objects and their positions."
        )


class RoutedDescriber:
    """Brief descriptions from `brief`, detail and objects from `full`, questions from `questions`
    (a loader called on the first question, so a second model costs nothing until it is needed)."""

    def __init__(
        self,
        brief: SceneDescriber,
        full: SceneDescriber,
        questions: Callable[[], SceneDescriber] | None = None,
    ) -> None:
        self.brief = brief
        self.full = full
        self._questions_loader = questions
        self._questions: SceneDescriber | None = None
        self.model_name = brief.model_name if brief is full else f"{brief.model_name} + {full.model_name}"

    def describe(self, frame: Frame, detail: Detail = "brief") -> Description:
        return (self.brief if detail == "brief" else self.full).describe(frame, detail)

    def ask(self, frame: Frame, question: str) -> str:
        if where_question(question) is not None and hasattr(self.full, "locate"):
            return self.full.ask(frame, question)  # the boxes say where better than a caption model
        if self._questions is None and self._questions_loader is not None:
            self._questions = self._questions_loader()
        return (self._questions or self.full).ask(frame, question)

    def objects(self, frame: Frame) -> list[SceneObject]:
        return self.full.objects(frame)

    def locate(self, frame: Frame, phrase: str) -> list[SceneObject]:
        locate = getattr(self.full, "locate", None)
        if locate is None:
            raise UnsupportedRequestError(f"{self.full.model_name} cannot find things by name.")
        found: list[SceneObject] = locate(frame, phrase)
        return found


class FallbackDescriber:
    """No scene model installed: says so, and describes with the quick cues (light, colour, faces, text).

    `cues` computes the cues of a frame; by default every detector this installation has, loaded on
    first use."""

    model_name = "quick cues"

    def __init__(self, cues: Callable[[Frame], Any] | None = None) -> None:
        self._cues = cues

    def _look(self, frame: Frame) -> Any:
        if self._cues is None:
            from assistant.vision.cues import load_quick_cues

            self._cues = load_quick_cues()
        return self._cues(frame)

    def describe(self, frame: Frame, detail: Detail = "brief") -> Description:
        cues = self._look(frame)
        text = f"No scene model installed; quick look: {cues.sentence()}"
        return Description(text, self._faces(cues), self.model_name, hedged=False)

    def ask(self, frame: Frame, question: str) -> str:
        return "No scene model installed, so I cannot answer questions about the picture; quick look: " + str(
            self._look(frame).sentence()
        )

    def objects(self, frame: Frame) -> list[SceneObject]:
        return self._faces(self._look(frame))

    @staticmethod
    def _faces(cues: Any) -> list[SceneObject]:
        # The cues already judged each face's side and nearness (by face height): keep their words, so the
        # objects agree with the sentence.
        return [
            SceneObject("face", tuple(face.box), face.position, "near" if face.near else "far")
            for face in (cues.faces or [])
        ]


class LockedDescriber:
    """One describer shared by several threads (narration and one-off commands), one call at a time: the
    models are not thread-safe, and two calls at once would only halve each one's speed on a small CPU."""

    def __init__(self, describer: SceneDescriber) -> None:
        self.inner = describer
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return str(getattr(self.inner, "model_name", ""))

    @property
    def is_fallback(self) -> bool:
        return isinstance(self.inner, FallbackDescriber)

    def describe(self, frame: Frame, detail: Detail = "brief") -> Description:
        with self._lock:
            return self.inner.describe(frame, detail)

    def ask(self, frame: Frame, question: str) -> str:
        with self._lock:
            return self.inner.ask(frame, question)

    def objects(self, frame: Frame) -> list[SceneObject]:
        with self._lock:
            return self.inner.objects(frame)

    def locate(self, frame: Frame, phrase: str) -> list[SceneObject]:
        """Where `phrase` is; `UnsupportedRequestError` when the model cannot find things by name."""
        locate = getattr(self.inner, "locate", None)
        if locate is None:
            raise UnsupportedRequestError(f"{self.model_name} cannot find things by name.")
        with self._lock:
            found: list[SceneObject] = locate(frame, phrase)
            return found


# ------------------------------------------------------------------------------------------- loading


def resolve_model(name_or_path: str, allow_download: bool = False) -> tuple[Path, str]:
    """(folder, display name) of a scene model; downloads a registry model only if `allow_download`."""
    from assistant import models

    try:
        resolved = models.resolve(name_or_path, "transformers")
    except ModelNotFoundError:
        if not allow_download or models.get_spec(name_or_path) is None:
            raise
        models.download(name_or_path)
        resolved = models.resolve(name_or_path, "transformers")
    display = resolved.spec.name if resolved.spec is not None else resolved.path.name
    return resolved.path, display


def load_model_describer(path: Path, model_name: str, options: DescriberOptions) -> SceneDescriber:
    """One describer for the model folder at `path`, by its architecture."""
    # transformers ships no type hints for its Auto classes: reach them as Any.
    transformers: Any = importlib.import_module("transformers")
    runtime.set_threads(options.threads)
    model, model_type = runtime.load_transformers_model(path)
    if model_type not in SUPPORTED_ARCHITECTURES:
        raise runtime.SceneModelError(
            f"{model_name} is a {model_type} model; scene description supports "
            f"{', '.join(SUPPORTED_ARCHITECTURES)}. Pick one from `assistant models list`."
        )
    if options.quantize:
        model = runtime.quantize_int8(model)
    describer: SceneDescriber
    if model_type == "florence2":
        describer = FlorenceDescriber(
            model,
            transformers.AutoProcessor.from_pretrained(path, local_files_only=True),
            model_name,
            options,
        )
    elif model_type == "blip":
        describer = BlipDescriber(
            model,
            transformers.AutoProcessor.from_pretrained(path, local_files_only=True),
            model_name,
            options,
        )
    else:
        # WORKAROUND: SmolVLMProcessor insists on a video processor, which needs torchvision; we load
        # its tokenizer and image processor and expand the image tokens ourselves.
        tokenizer = transformers.AutoTokenizer.from_pretrained(path, local_files_only=True)
        image_processor = transformers.AutoImageProcessor.from_pretrained(path, local_files_only=True)
        describer = SmolVLMDescriber(
            model, tokenizer, image_processor, read_chat_template(path, tokenizer), model_name, options
        )
    log.info(
        "vision: loaded %s (%s, int8=%s, %d threads)",
        model_name,
        model_type,
        options.quantize,
        options.threads,
    )
    return describer


def read_chat_template(path: Path, tokenizer: Any) -> str:
    """The model's chat template: `chat_template.jinja`, `chat_template.json`, or the tokenizer's own."""
    import json

    if (path / "chat_template.jinja").is_file():
        return (path / "chat_template.jinja").read_text(encoding="utf-8")
    if (path / "chat_template.json").is_file():
        return str(json.loads((path / "chat_template.json").read_text(encoding="utf-8"))["chat_template"])
    if getattr(tokenizer, "chat_template", None):
        return str(tokenizer.chat_template)
    smolvlm: Any = importlib.import_module("transformers.models.smolvlm.processing_smolvlm")
    return str(smolvlm.DEFAULT_CHAT_TEMPLATE)


def load_describer(
    model: str = DEFAULT_MODEL,
    *,
    quantize: bool = True,
    threads: int = 2,
    allow_download: bool = False,
    question_model: str | None = QUESTION_MODEL,
    options: DescriberOptions | None = None,
) -> SceneDescriber:
    """The scene describer for `model` (a registry name or a model folder).

    When `model` cannot answer questions and `question_model` is installed, questions are routed to it
    (loaded on the first question). Raises `ModelNotFoundError` naming the model and the download command
    when `model` is not installed (and `allow_download` is off).
    """
    base = options or DescriberOptions()
    chosen = dataclasses.replace(base, quantize=quantize, threads=threads)
    path, name = resolve_model(model, allow_download)
    describer = load_model_describer(path, name, chosen)
    if isinstance(describer, SmolVLMDescriber) or question_model is None:
        return describer
    try:
        question_path, question_name = resolve_model(question_model)
    except ModelNotFoundError:
        return describer
    if question_path == path:
        return describer
    return RoutedDescriber(
        describer, describer, lambda: load_model_describer(question_path, question_name, chosen)
    )
