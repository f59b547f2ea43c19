"""Tiny random image–text models (SigLIP, CLIP), built offline and saved like a real download.

`build_siglip` and `build_clip` write a model folder that `assistant.vision.finder.load_scorer` loads
through the same code path as `google/siglip-base-patch16-224` (hidden size 32, one layer, 32 px images),
or with `real` the published architecture of that model (ViT-B/16 at 224 px, 12 + 12 layers, 768 wide,
32000 tokens) with random weights, for the benchmark. The tokenizer is byte-level BPE with no merges
(every character its own token): enough to encode any prompt offline. Random weights match nothing, so
tests check structure and the decision logic runs on scripted scores.
"""

from __future__ import annotations

from pathlib import Path

import torch

from tests.helpers.tiny_models import _byte_vocab, _pad_vocab


def _tokenizer(real: bool, max_length: int) -> object:
    from transformers import GPT2Tokenizer

    vocab = _byte_vocab(["<pad>", "</s>", "<unk>"])
    if real:
        vocab = _pad_vocab(vocab, 32000)
    return GPT2Tokenizer(
        vocab=vocab,
        merges=[],
        bos_token="</s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        model_max_length=max_length,
    )


def build_siglip(folder: Path, real: bool = False) -> Path:
    from transformers import SiglipConfig, SiglipImageProcessorPil, SiglipModel

    side = 224 if real else 32
    width = 768 if real else 32
    layers = 12 if real else 1
    heads = 12 if real else 2
    text_length = 64 if real else 16
    tokenizer = _tokenizer(real, text_length)
    config = SiglipConfig(
        text_config={
            "vocab_size": 32000 if real else 300,
            "hidden_size": width,
            "intermediate_size": 3072 if real else 64,
            "num_hidden_layers": layers,
            "num_attention_heads": heads,
            "max_position_embeddings": text_length,
            "pad_token_id": 0,
        },
        vision_config={
            "hidden_size": width,
            "intermediate_size": 3072 if real else 64,
            "num_hidden_layers": layers,
            "num_attention_heads": heads,
            "image_size": side,
            "patch_size": 16 if real else 8,
        },
    )
    torch.manual_seed(0)
    model = SiglipModel(config)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(folder)  # type: ignore[attr-defined]
    SiglipImageProcessorPil(size={"height": side, "width": side}).save_pretrained(folder)
    model.save_pretrained(folder)
    return folder


def build_clip(folder: Path, real: bool = False) -> Path:
    from transformers import CLIPConfig, CLIPImageProcessorPil, CLIPModel

    side = 224 if real else 32
    text_length = 77 if real else 16
    tokenizer = _tokenizer(real, text_length)
    config = CLIPConfig(
        text_config={
            "vocab_size": 32000 if real else 300,
            "hidden_size": 512 if real else 32,
            "intermediate_size": 2048 if real else 64,
            "num_hidden_layers": 12 if real else 1,
            "num_attention_heads": 8 if real else 2,
            "max_position_embeddings": text_length,
            "pad_token_id": 0,
            "bos_token_id": 1,
            "eos_token_id": 1,
        },
        vision_config={
            "hidden_size": 768 if real else 32,
            "intermediate_size": 3072 if real else 64,
            "num_hidden_layers": 12 if real else 1,
            "num_attention_heads": 12 if real else 2,
            "image_size": side,
            "patch_size": 16 if real else 8,
        },
        projection_dim=512 if real else 32,
    )
    torch.manual_seed(0)
    model = CLIPModel(config)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(folder)  # type: ignore[attr-defined]
    CLIPImageProcessorPil(
        size={"shortest_edge": side}, crop_size={"height": side, "width": side}
    ).save_pretrained(folder)
    model.save_pretrained(folder)
    return folder
