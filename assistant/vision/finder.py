"""Find: "tell me when my keys are in view", with a contrastive image–text model (SigLIP or CLIP).

Two layers, so the decision can be tested without a model:

- `ContrastiveScorer` runs the model. The query's text side is computed once per request (the mean of a
  few prompt templates, `prepare`); each frame costs one image embedding (`score`), or four when the
  position is wanted (the whole frame and a left / centre / right crop, one batch). A frame's score is
  *relative*: the probability that the picture matches the query rather than a set of background prompts
  ("a photo of a room", "a photo of a wall", ...), from the model's own logit scale. The same image
  embedding also names the scene (`scene`: kitchen, street, office, ...).
- `Finder` is a pure object: `feed(frame, t)` returns events. A frame is a hit when the query beats the
  background prompts *and* stands out from the recent frames that were not hits (a scene that merely
  looks a bit like keys everywhere raises its own baseline). `confirm_frames` hits in a row make
  "found" (no single-frame false hit); `lose_frames` misses in a row after that make "lost". Where it is
  comes from the crop grid, refined by Florence-2's phrase grounding when that model is installed
  (`locate`). Score events (the guidance level, for the tone) are throttled to `score_interval`.
"""

from __future__ import annotations

import importlib
import logging
import re
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from assistant.errors import AssistantError
from assistant.vision.image import Frame

log = logging.getLogger(__name__)

DEFAULT_FINDER_MODEL = "siglip-base"
HOLD_SECONDS = 2.0
"""How long something stays in view before a search that stops by itself ends: long enough to hear where
it is and reach for it, short enough that the search does not talk on."""
SUPPORTED_ARCHITECTURES = ("siglip", "clip")

TEMPLATES = ("a photo of {}.", "a close-up photo of {}.", "a photo of {} on a table.", "{}")
"""Prompt templates whose text embeddings are averaged into the query's one embedding."""
BACKGROUND_PROMPTS = (
    "a photo of a room.",
    "a photo of a wall.",
    "a photo of a floor.",
    "a photo of a table.",
    "a photo of a person.",
    "a photo of a street.",
    "a photo of a window.",
    "a blurry photo.",
    "a dark photo.",
)
"""What a frame without the object looks like; a prompt that names the query itself is left out."""
SCENES = (
    "kitchen",
    "street",
    "office",
    "bathroom",
    "shop",
    "bus stop",
    "living room",
    "bedroom",
    "park",
    "restaurant",
    "classroom",
    "train station",
)
_ARTICLES = re.compile(r"^(?:(?:my|the|a|an|our|your|some)(?:\s+|$))+", re.IGNORECASE)

Horizontal = Literal["left", "centre", "right"]
Distance = Literal["near", "middle", "far"]
EventType = Literal["found", "lost", "score"]
Embeddings = npt.NDArray[np.float32]


class EmptyQueryError(AssistantError):
    """Nothing to look for."""


def clean_query(query: str) -> str:
    """ "my keys" -> "keys": what is said back ("keys, on the left"). Raises `EmptyQueryError`."""
    text = " ".join(query.split()).strip(" .?!")
    text = _ARTICLES.sub("", text)
    if not text:
        raise EmptyQueryError('Say what to find, for example: assistant find "my keys".')
    return text


# -- scores -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Where:
    """Where the object is in the picture: across (thirds) and how near."""

    horizontal: Horizontal
    distance: Distance

    def phrase(self) -> str:
        """ "on the left, near" (the middle distance is not worth saying)."""
        across = "in the centre" if self.horizontal == "centre" else f"on the {self.horizontal}"
        return across + ("" if self.distance == "middle" else f", {self.distance}")

    def as_text(self) -> str:
        return f"{self.horizontal}, {self.distance}"


@dataclass(frozen=True)
class FrameScore:
    """How well one frame matches the query: `match` is the probability that the query, not one of the
    background prompts, describes it (0-1). `columns` (left, centre, right) are the same for crops, and
    are empty when the position was not asked for."""

    match: float
    columns: tuple[float, float, float] | tuple[()] = ()


@dataclass(frozen=True)
class PreparedQuery:
    """A query's text side, computed once per request."""

    text: str
    embeddings: Any
    """Whatever the scorer needs: for `ContrastiveScorer` the query embedding then the backgrounds'."""


class FrameScorer(Protocol):
    """Scores frames against a prepared query. `ContrastiveScorer` is the real one."""

    model_name: str

    def prepare(self, query: str) -> PreparedQuery: ...

    def score(self, frame: Frame, query: PreparedQuery, *, with_position: bool = False) -> FrameScore: ...


def where_from_columns(match: float, columns: Sequence[float]) -> Where:
    """Across: the best column. Near or far: a near object fills the frame, so the whole frame scores at
    least as well as its best third; a far one is small, so its third scores clearly better than the
    whole frame, where it is diluted."""
    best = int(np.argmax(columns))
    horizontal: Horizontal = ("left", "centre", "right")[best]
    lift = float(columns[best]) - match
    distance: Distance = "near" if lift <= 0.0 else "far" if lift >= 0.15 else "middle"
    return Where(horizontal, distance)


def crop_columns(frame: Frame) -> list[Frame]:
    """The left, centre and right crops (each half the width, overlapping, full height)."""
    width = frame.shape[1]
    half = max(1, width // 2)
    starts = (0, (width - half) // 2, width - half)
    return [np.ascontiguousarray(frame[:, start : start + half]) for start in starts]


# -- the model ----------------------------------------------------------------------------------------


class FinderModelError(AssistantError):
    """The finder model's files load but are not an image–text model we can run."""


def _normalised(features: Any) -> Embeddings:
    tensor = features if hasattr(features, "norm") else features.pooler_output
    tensor = tensor / tensor.norm(dim=-1, keepdim=True)
    return np.asarray(tensor.detach().cpu().numpy(), dtype=np.float32)


class ContrastiveScorer:
    """A SigLIP or CLIP model and its processors. Not thread-safe: one call at a time (`lock`)."""

    def __init__(
        self, model: Any, tokenizer: Any, image_processor: Any, model_name: str, model_type: str
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.image_processor = image_processor
        self.model_name = model_name
        self.model_type = model_type
        self.lock = threading.Lock()
        self._scale = float(model.logit_scale.exp().item())
        self._scenes: Embeddings | None = None
        self._last_image: tuple[int, Embeddings] | None = None

    def encode_texts(self, texts: Sequence[str]) -> Embeddings:
        import torch

        # SigLIP was trained on text padded to its full length; CLIP on text padded to the longest.
        padding = "max_length" if self.model_type == "siglip" else True
        inputs = self.tokenizer(
            list(texts), padding=padding, truncation=True, max_length=self._text_length(), return_tensors="pt"
        )
        with torch.inference_mode():
            features = self.model.get_text_features(**inputs)
        return _normalised(features)

    def _text_length(self) -> int:
        return int(self.model.config.text_config.max_position_embeddings)

    def encode_images(self, images: Sequence[Frame]) -> Embeddings:
        import torch

        pixels = self.image_processor(images=list(images), return_tensors="pt")["pixel_values"]
        with torch.inference_mode():
            features = self.model.get_image_features(pixel_values=pixels)
        return _normalised(features)

    def prepare(self, query: str) -> PreparedQuery:
        text = clean_query(query)
        with self.lock:
            templated = self.encode_texts([template.format(text) for template in TEMPLATES])
            query_embedding = templated.mean(axis=0)
            query_embedding /= np.linalg.norm(query_embedding)
            words = {word for word in text.lower().split() if len(word) > 2}
            backgrounds = [p for p in BACKGROUND_PROMPTS if not words & set(p.rstrip(".").split())]
            background = self.encode_texts(backgrounds)
        return PreparedQuery(text, np.vstack([query_embedding[None, :], background]))

    def _probabilities(self, images: Embeddings, texts: Embeddings) -> npt.NDArray[np.float64]:
        logits = self._scale * (images.astype(np.float64) @ texts.T.astype(np.float64))
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        result: npt.NDArray[np.float64] = exp / exp.sum(axis=1, keepdims=True)
        return result

    def score(self, frame: Frame, query: PreparedQuery, *, with_position: bool = False) -> FrameScore:
        images = [frame, *crop_columns(frame)] if with_position else [frame]
        with self.lock:
            embeddings = self.encode_images(images)
            self._last_image = (id(frame), embeddings[:1])
        matches = self._probabilities(embeddings, query.embeddings)[:, 0]
        if not with_position:
            return FrameScore(float(matches[0]))
        return FrameScore(float(matches[0]), (float(matches[1]), float(matches[2]), float(matches[3])))

    def scene(self, frame: Frame) -> tuple[str, float]:
        """The most likely of `SCENES` and its probability among them."""
        with self.lock:
            if self._scenes is None:
                self._scenes = self.encode_texts([f"a photo of a {scene}." for scene in SCENES])
            last = self._last_image
            image = last[1] if last is not None and last[0] == id(frame) else self.encode_images([frame])
            self._last_image = (id(frame), image)
        probabilities = self._probabilities(image, self._scenes)[0]
        best = int(np.argmax(probabilities))
        return SCENES[best], float(probabilities[best])


def load_scorer(
    name_or_path: str = DEFAULT_FINDER_MODEL, *, threads: int = 2, quantize: bool = True
) -> ContrastiveScorer:
    """The finder model (a registry name or a folder). Raises `ModelNotFoundError` naming
    `assistant models download NAME` when it is not installed."""
    from assistant import models

    resolved = models.resolve(name_or_path, "transformers")
    name = resolved.spec.name if resolved.spec is not None else resolved.path.name
    return load_scorer_from(resolved.path, name, threads=threads, quantize=quantize)


def load_scorer_from(
    path: Path, model_name: str, *, threads: int = 2, quantize: bool = True
) -> ContrastiveScorer:
    """`quantize`: int8 dynamic quantisation of the Linear layers, as the describers use (about 1.4x
    faster on x86 CPUs; the relative scores barely move)."""
    from assistant.vision import vlm_runtime

    transformers: Any = importlib.import_module("transformers")
    vlm_runtime.set_threads(threads)
    try:
        config = transformers.AutoConfig.from_pretrained(path, local_files_only=True)
        if config.model_type not in SUPPORTED_ARCHITECTURES:
            raise FinderModelError(
                f"{model_name} is a {config.model_type} model; finding things needs one of "
                f"{', '.join(SUPPORTED_ARCHITECTURES)}. Download one with `assistant models download "
                f"{DEFAULT_FINDER_MODEL}`."
            )
        model = transformers.AutoModel.from_pretrained(path, local_files_only=True, dtype="float32")
        tokenizer = transformers.AutoTokenizer.from_pretrained(path, local_files_only=True)
        image_processor = transformers.AutoImageProcessor.from_pretrained(path, local_files_only=True)
    except (OSError, ValueError, KeyError) as error:
        raise FinderModelError(
            f"The finder model at {path} cannot be loaded ({type(error).__name__}: {error}). "
            f"Download it again with `assistant models download {DEFAULT_FINDER_MODEL}`."
        ) from error
    model.eval()
    if quantize:
        model = vlm_runtime.quantize_int8(model)
    log.info("finder: loaded %s (%s, int8=%s, %d threads)", model_name, config.model_type, quantize, threads)
    return ContrastiveScorer(model, tokenizer, image_processor, model_name, str(config.model_type))


# -- the decision -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FinderSettings:
    win_probability: float = 0.5
    """The query must beat the background prompts: at least this share of the probability."""
    margin: float = 0.15
    """...and stand this far above the recent frames that were not hits (once there are a few)."""
    lose_probability: float = 0.35
    """Below this (or back at the baseline) a frame is a miss; between the two it keeps the state."""
    confirm_frames: int = 3
    lose_frames: int = 4
    history_frames: int = 20
    min_history: int = 3
    score_interval: float = 0.5
    """Seconds between score events."""


@dataclass(frozen=True)
class FindEvent:
    """One event of a search, as `assistant find --json` prints it."""

    type: EventType
    query: str
    score: float
    t: float
    where: Where | None = None
    level: float = 0.0
    """0-1: how close the search is to a match, for the guidance tone."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "query": self.query,
            "where": self.where.as_text() if self.where is not None else None,
            "score": round(self.score, 3),
            "t": round(self.t, 2),
        }

    def spoken(self) -> str:
        """ "keys, on the left, near"; "lost keys"."""
        if self.type == "found":
            return (
                f"{self.query}, {self.where.phrase()}" if self.where is not None else f"{self.query}, in view"
            )
        if self.type == "lost":
            return f"Lost {self.query}."
        return ""


Locate = Callable[[Frame, str], Sequence[Any]]
"""Florence-2's phrase grounding (`LockedDescriber.locate`): objects with `horizontal` and `distance`."""


@dataclass
class Finder:
    """The search for one query. Feed it frames in order; it returns what happened."""

    scorer: FrameScorer
    query: PreparedQuery
    settings: FinderSettings = field(default_factory=FinderSettings)
    locate: Locate | None = None
    found: bool = False
    where: Where | None = None
    _history: deque[float] = field(default_factory=deque)
    _hits: int = 0
    _misses: int = 0
    _last_score_t: float | None = None

    @property
    def baseline(self) -> float | None:
        if len(self._history) < self.settings.min_history:
            return None
        return float(np.median(np.asarray(self._history)))

    def level(self, match: float) -> float:
        """0 at the recent frames' level (or none), 1 at a clear hit."""
        floor = self.baseline if self.baseline is not None else 0.0
        top = max(self.settings.win_probability, floor + self.settings.margin)
        return float(np.clip((match - floor) / max(top - floor, 1e-6), 0.0, 1.0))

    def _is_hit(self, match: float) -> bool:
        baseline = self.baseline
        wins = match >= self.settings.win_probability
        return wins and (baseline is None or match >= baseline + self.settings.margin)

    def _is_miss(self, match: float) -> bool:
        baseline = self.baseline
        return match < self.settings.lose_probability or (baseline is not None and match <= baseline)

    def feed(self, frame: Frame, t: float) -> list[FindEvent]:
        # The position costs three more images: only while a hit is being confirmed.
        with_position = not self.found and self._hits >= self.settings.confirm_frames - 1
        score = self.scorer.score(frame, self.query, with_position=with_position)
        match = score.match
        events: list[FindEvent] = []
        if not self.found:
            if self._is_hit(match):
                self._hits += 1
                if score.columns:
                    self.where = where_from_columns(match, score.columns)
                if self._hits >= self.settings.confirm_frames:
                    self.found = True
                    self._misses = 0
                    self.where = self._precise_where(frame) or self.where
                    events.append(FindEvent("found", self.query.text, match, t, self.where, 1.0))
            else:
                self._hits = 0
                self._remember(match)
        else:
            if self._is_miss(match):
                self._misses += 1
                if self._misses >= self.settings.lose_frames:
                    self.found = False
                    self._hits = 0
                    events.append(FindEvent("lost", self.query.text, match, t, None, self.level(match)))
                    self.where = None
            else:
                self._misses = 0
        if self._last_score_t is None or t - self._last_score_t >= self.settings.score_interval:
            self._last_score_t = t
            events.append(FindEvent("score", self.query.text, match, t, self.where, self.level(match)))
        return events

    def _remember(self, match: float) -> None:
        self._history.append(match)
        while len(self._history) > self.settings.history_frames:
            self._history.popleft()

    def _precise_where(self, frame: Frame) -> Where | None:
        if self.locate is None:
            return None
        try:
            found = self.locate(frame, self.query.text)
        except AssistantError as error:
            log.info("finder: no precise position (%s)", error)
            return None
        if not found:
            return None
        first = found[0]
        return Where(first.horizontal, first.distance)


# -- the search loop ----------------------------------------------------------------------------------


def run_find(
    source: Any,
    finder: Finder,
    on_event: Callable[[FindEvent], None],
    stop: threading.Event,
    clock: Callable[[], float],
    *,
    stop_after_found: float | None = None,
) -> int:
    """Score the newest frame of `source` (an opened `FrameSource`) until `stop` is set, the source ends,
    or the object has been in view for `stop_after_found` seconds. Returns the number of frames scored.
    A camera that falls behind is not a backlog: `latest` hands over the newest frame only."""
    from assistant.vision.frames import EndOfFrames

    scored = 0
    found_at: float | None = None
    while not stop.is_set():
        try:
            frame = source.latest(timeout=0.5)
        except EndOfFrames:
            break
        if frame is None:
            continue
        t = clock()
        for event in finder.feed(frame, t):
            on_event(event)
        scored += 1
        found_at = (found_at or t) if finder.found else None
        if stop_after_found is not None and found_at is not None and t - found_at >= stop_after_found:
            break
    return scored
