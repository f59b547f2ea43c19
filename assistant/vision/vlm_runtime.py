"""Running transformers vision-language models on a CPU: loading, speed-ups, and one generation call.

Everything here is architecture-neutral; `assistant/vision/describe.py` decides what to ask each model.

Speed-ups, each an option so the benchmark can measure it (`bench/describe_latency.py`):
- int8 dynamic quantisation of every `nn.Linear` (`torch.ao.quantization.quantize_dynamic`): weights
  stored as int8, activations quantised on the fly. Pays on x86 CPUs (about 1.4x here); bf16 does not
  (2x slower than fp32 on this kind of CPU), so it is not offered.
- the image encoding is computed once per frame and kept (`ImageEncodingCache`), so a follow-up question
  or a second task on the same frame runs only the text side.
- generation always starts from `inputs_embeds` (text embeddings with the image features scattered into
  the image-token positions), so the number of image tokens follows the actual input resolution: a brief
  description can use a smaller image than a detailed one.
"""

from __future__ import annotations

import hashlib
import importlib
import math
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import AssistantError
from assistant.vision.image import Frame


class SceneModelError(AssistantError):
    """A scene model's files load but are not a model we can run."""


@dataclass(frozen=True)
class Generated:
    """Text from one generation, and how sure the model was of it.

    `confidence` is the geometric mean of the probabilities of the generated tokens (1.0 = certain);
    `token_count` counts the text's tokens (special tokens such as end-of-text excluded);
    `generated_count` every new token, the number `max_new_tokens` bounds.
    """

    text: str
    confidence: float
    token_count: int
    generated_count: int


def set_threads(threads: int) -> None:
    """Use `threads` CPU threads for torch's operators (the app shares the CPU with speech and OCR)."""
    import torch

    if threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    torch.set_num_threads(threads)


def load_transformers_model(path: Path) -> tuple[Any, str]:
    """The model at `path` in eval mode and its `model_type` ("florence2", "smolvlm", "blip", ...)."""
    from transformers import AutoConfig, AutoModelForImageTextToText

    try:
        config = AutoConfig.from_pretrained(path, local_files_only=True)
        model = AutoModelForImageTextToText.from_pretrained(path, local_files_only=True, dtype="float32")
    except (OSError, ValueError, KeyError) as error:
        raise SceneModelError(
            f"The scene model at {path} cannot be loaded ({type(error).__name__}: {error}). Download it "
            "again with `assistant models download NAME`, or pick another with `assistant models list`."
        ) from error
    model.eval()  # type: ignore[no-untyped-call]  # torch's Module.eval is untyped in this build
    return model, str(config.model_type)


def quantize_int8(model: Any) -> Any:
    """int8 dynamic quantisation of the model's Linear layers (in place; returns the model)."""
    import torch

    with warnings.catch_warnings():
        # WORKAROUND: torch marks eager-mode quantize_dynamic deprecated in favour of torchao (not installed
        # here); it still works in torch 2.x and is the only int8 path that needs no extra package.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        quantization: Any = importlib.import_module("torch.ao.quantization")
        return quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)


def frame_key(frame: Frame, variant: str) -> str:
    """A cheap identity for a frame (and how it was encoded): shape plus a hash of a pixel sample."""
    sample = np.ascontiguousarray(frame[:: max(1, frame.shape[0] // 64), :: max(1, frame.shape[1] // 64)])
    digest = hashlib.blake2b(sample.tobytes(), digest_size=12).hexdigest()
    return f"{frame.shape}:{digest}:{variant}"


class ImageEncodingCache:
    """The last few image encodings, so follow-up questions about the same frame skip the image encoder."""

    def __init__(self, size: int = 2) -> None:
        self._size = size
        self._items: OrderedDict[str, Any] = OrderedDict()
        self.hits = 0

    def get(self, key: str) -> Any | None:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
            self.hits += 1
        return found

    def put(self, key: str, value: Any) -> None:
        if self._size <= 0:
            return
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)


def merge_image_features(model: Any, input_ids: Any, image_token_id: int, features: Any) -> Any:
    """Text embeddings of `input_ids` with `features` written into the image-token positions."""
    import torch

    if isinstance(features, (list, tuple)):  # SmolVLM returns one tensor per picture
        features = torch.cat([f.reshape(-1, f.shape[-1]) for f in features], dim=0)
    embeds = model.get_input_embeddings()(input_ids)
    mask = input_ids == image_token_id
    count = int(mask.sum())
    flat = features.reshape(-1, features.shape[-1]).to(embeds.dtype)
    if count != flat.shape[0]:
        raise SceneModelError(
            f"The scene model produced {flat.shape[0]} image features for {count} image tokens: its "
            "processor and model files do not match. Download the model again."
        )
    return embeds.masked_scatter(mask.unsqueeze(-1).expand_as(embeds), flat).to(torch.float32)


def generate(
    model: Any, inputs: dict[str, Any], max_new_tokens: int, stop_ids: set[int], min_new_tokens: int = 0
) -> tuple[list[int], float, int]:
    """Greedy generation; returns the new token ids (stop tokens removed), their mean probability, and
    how many tokens were generated in all.

    `min_new_tokens` forbids stopping earlier (benchmarks use it to time a fixed number of tokens)."""
    import torch

    with torch.inference_mode():
        output = model.generate(
            **inputs,
            max_new_tokens=max_new_tokens,
            min_new_tokens=min(min_new_tokens, max_new_tokens),
            do_sample=False,
            num_beams=1,
            output_scores=True,
            return_dict_in_generate=True,
        )
    scores = output.scores
    new_tokens = output.sequences[0, -len(scores) :].tolist() if scores else []
    log_probs: list[float] = []
    kept: list[int] = []
    for step, token in enumerate(new_tokens):
        if token in stop_ids:
            continue
        kept.append(token)
        log_probs.append(float(torch.log_softmax(scores[step][0].float(), dim=-1)[token]))
    confidence = math.exp(sum(log_probs) / len(log_probs)) if log_probs else 0.0
    return kept, confidence, len(new_tokens)


def to_pil(frame: Frame) -> Any:
    from PIL import Image

    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"expected an HxWx3 uint8 RGB frame, got shape {frame.shape} dtype {frame.dtype}")
    return Image.fromarray(frame)
