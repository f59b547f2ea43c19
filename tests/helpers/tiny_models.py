"""Tiny random vision-language models, built offline, saved like a real download.

No model hub is reachable here, so tests build each supported architecture from a small config (hidden
sizes about 32, one or two layers), give it a processor and a tokenizer made from an in-memory vocabulary,
and `save_pretrained` them into a folder. `load_describer(folder)` then loads them through exactly the code
path a real Florence-2, SmolVLM or BLIP download takes. The weights are random: the text they generate is
garbage, so tests cap the number of new tokens and check structure, not wording.

The tokenizers are byte-level BPE with no merges (every character is its own token) for Florence-2 and
SmolVLM, and a word-piece vocabulary of letters for BLIP: enough to encode any prompt offline.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

_WORDS = ["a", "photo", "of", "the", "cat", "dog", "person", "table", "on", "in", "with", "and", "is"]

SMOLVLM_CHAT_TEMPLATE = (
    "<|im_start|>{% for message in messages %}{{message['role'] | capitalize}}"
    "{% if message['content'][0]['type'] == 'image' %}{{':'}}{% else %}{{': '}}{% endif %}"
    "{% for line in message['content'] %}{% if line['type'] == 'text' %}{{line['text']}}"
    "{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}<end_of_utterance>\n"
    "{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}"
)
"""SmolVLM-Instruct's chat template, as its hub repository ships it."""


_FLORENCE_PARSE_TYPES = (
    "ocr",
    "phrase_grounding",
    "pure_text",
    "description_with_bboxes",
    "description_with_polygons",
    "polygons",
    "bboxes",
    "description_with_bboxes_or_polygons",
)


def byte_level_alphabet() -> list[str]:
    """The 256 printable stand-ins byte-level BPE uses for bytes (GPT-2's `bytes_to_unicode`)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    printable += list(range(ord("®"), ord("ÿ") + 1))
    codes = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
    return [chr(code) for code in codes]


def _byte_vocab(specials: list[str]) -> dict[str, int]:
    vocab = {token: index for index, token in enumerate(specials)}
    for symbol in byte_level_alphabet():
        vocab.setdefault(symbol, len(vocab))
    return vocab


def _pad_vocab(vocab: dict[str, int], size: int) -> dict[str, int]:
    """Fill a vocabulary with filler tokens up to the real model's size (real-size benchmarks)."""
    for index in range(len(vocab), size):
        vocab[f"[unused{index}]"] = index
    return vocab


def build_blip(folder: Path, real: bool = False) -> Path:
    """BLIP image captioning (BlipForConditionalGeneration): tiny (32 px images, hidden size 32), or with
    `real` the architecture of Salesforce/blip-image-captioning-base (ViT-B/16 at 384 px, BERT-base
    decoder, 30524 tokens), random weights."""
    from transformers import (
        BertTokenizer,
        BlipConfig,
        BlipForConditionalGeneration,
        BlipImageProcessorPil,
        BlipProcessor,
    )

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[DEC]"]
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    tokens = specials + _WORDS + letters + ["##" + letter for letter in letters] + list(".,?!'")
    vocab = {token: index for index, token in enumerate(dict.fromkeys(tokens))}
    if real:
        vocab = _pad_vocab(vocab, 30524)
    side = 384 if real else 32
    tokenizer = BertTokenizer(vocab=vocab, bos_token="[DEC]", model_max_length=512 if real else 64)
    image_processor = BlipImageProcessorPil(size={"height": side, "width": side})
    width = 768 if real else 32
    layers = 12 if real else 1
    heads = 12 if real else 2
    config = BlipConfig(
        text_config={
            "vocab_size": len(vocab),
            "hidden_size": width,
            "encoder_hidden_size": width,
            "intermediate_size": 4 * width if real else 64,
            "num_hidden_layers": layers,
            "num_attention_heads": heads,
            "max_position_embeddings": 512 if real else 64,
            "bos_token_id": vocab["[DEC]"],
            "pad_token_id": vocab["[PAD]"],
            "sep_token_id": vocab["[SEP]"],
            "eos_token_id": vocab["[SEP]"],
        },
        vision_config={
            "hidden_size": width,
            "intermediate_size": 4 * width if real else 64,
            "num_hidden_layers": layers,
            "num_attention_heads": heads,
            "image_size": side,
            "patch_size": 16 if real else 8,
        },
        projection_dim=512 if real else 32,
    )
    torch.manual_seed(0)
    model = BlipForConditionalGeneration(config)
    # transformers leaves its processors' constructors unannotated
    processor = BlipProcessor(image_processor=image_processor, tokenizer=tokenizer)  # type: ignore[no-untyped-call]
    processor.save_pretrained(folder)
    model.save_pretrained(folder)
    return folder


def build_florence2(folder: Path, real: bool = False) -> Path:
    """Florence-2 (DaViT encoder + BART): tiny (64 px images, 5 image tokens, hidden size 32), or with
    `real` the architecture of florence-community/Florence-2-base (DaViT 128-1024 wide, depths 1-1-9-1,
    768 px, 577 image tokens; BART 768 wide, 6 + 6 layers), random weights."""
    from transformers import (
        BartTokenizer,
        CLIPImageProcessorPil,
        Florence2Config,
        Florence2ForConditionalGeneration,
        Florence2Processor,
    )

    specials = ["<s>", "<pad>", "</s>", "<unk>"]
    vocab = _byte_vocab(specials)
    for word in ("<od>", "</od>", "<ocr>", "</ocr>", "<poly>", "</poly>", "<sep>"):
        vocab[word] = len(vocab)
    for index in range(1000):
        vocab[f"<loc_{index}>"] = len(vocab)
    vocab["<image>"] = len(vocab)
    if real:
        vocab = _pad_vocab(vocab, 51289)
    tokenizer = BartTokenizer(
        vocab=vocab,
        merges=[],
        model_max_length=1024,
        extra_special_tokens={"image_token": "<image>"},
    )
    tokenizer.add_tokens([token for token in vocab if token.startswith("<") and len(token) > 3])
    side = 768 if real else 64
    image_processor = CLIPImageProcessorPil(
        size={"height": side, "width": side},
        do_center_crop=False,
        crop_size={"height": side, "width": side},
        image_seq_length=577 if real else 5,
        image_mean=[0.485, 0.456, 0.406],
        image_std=[0.229, 0.224, 0.225],
    )
    config = Florence2Config(
        vision_config={
            "depths": [1, 1, 9, 1] if real else [1, 1, 1, 1],
            "embed_dim": [128, 256, 512, 1024] if real else [8, 16, 16, 32],
            "num_heads": [4, 8, 16, 32] if real else [1, 1, 1, 1],
            "num_groups": [4, 8, 16, 32] if real else [1, 1, 1, 1],
            "window_size": 12 if real else 2,
            "projection_dim": 768 if real else 32,
            "drop_path_rate": 0.0,
        },
        text_config={
            "model_type": "bart",
            "vocab_size": len(vocab),
            "d_model": 768 if real else 32,
            "encoder_layers": 6 if real else 1,
            "decoder_layers": 6 if real else 1,
            "encoder_attention_heads": 12 if real else 2,
            "decoder_attention_heads": 12 if real else 2,
            "encoder_ffn_dim": 3072 if real else 64,
            "decoder_ffn_dim": 3072 if real else 64,
            "max_position_embeddings": 1024,
            "bos_token_id": vocab["<s>"],
            "pad_token_id": vocab["<pad>"],
            "eos_token_id": vocab["</s>"],
            "decoder_start_token_id": vocab["</s>"],
            "forced_bos_token_id": vocab["<s>"],
        },
        image_token_id=vocab["<image>"],
    )
    torch.manual_seed(0)
    model = Florence2ForConditionalGeneration(config)
    # The parse rules Florence-2's processor_config.json carries (the post-processor refuses a task it has
    # no entry for).
    parse_rules: dict[str, Any] = {name: {} for name in _FLORENCE_PARSE_TYPES}
    parse_rules["ocr"] = {"PATTERN": r"(.+?)" + r"<loc_(\d+)>" * 8, "AREA_THRESHOLD": 0.0}
    parse_rules["phrase_grounding"] = {"banned_grounding_tokens": []}
    Florence2Processor(
        image_processor=image_processor, tokenizer=tokenizer, post_processor_config=parse_rules
    ).save_pretrained(folder)
    model.save_pretrained(folder)
    return folder


def build_smolvlm(folder: Path, real: bool = False) -> Path:
    """SmolVLM (SigLIP encoder + Llama decoder): tiny (32 px images, 4 image tokens, hidden size 32), or
    with `real` the architecture of HuggingFaceTB/SmolVLM-256M-Instruct (SigLIP-B/16 at 512 px, pixel
    shuffle 4 → 64 image tokens; Llama 576 wide, 30 layers, 9 heads / 3 KV heads, 49280 tokens), random
    weights, one 512 px image (no tiles)."""
    from transformers import (
        GPT2Tokenizer,
        SmolVLMConfig,
        SmolVLMForConditionalGeneration,
        SmolVLMImageProcessorPil,
    )

    extra = ["<fake_token_around_image>", "<image>", "<end_of_utterance>", "<global-img>"]
    extra += [f"<row_{row}_col_{col}>" for row in range(1, 7) for col in range(1, 7)]
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    vocab = _byte_vocab(specials + extra)
    if real:
        vocab = _pad_vocab(vocab, 49280)
    side = 512 if real else 32
    tokenizer: Any = GPT2Tokenizer(
        vocab=vocab,
        merges=[],
        bos_token="<|im_start|>",
        eos_token="<end_of_utterance>",
        pad_token="<|im_end|>",
        unk_token="<|endoftext|>",
        model_max_length=2048,
        extra_special_tokens={
            "fake_image_token": "<fake_token_around_image>",
            "image_token": "<image>",
            "end_of_utterance_token": "<end_of_utterance>",
            "global_image_token": "<global-img>",
        },
    )
    tokenizer.add_tokens(extra, special_tokens=True)
    image_processor = SmolVLMImageProcessorPil(
        do_resize=True,
        size={"longest_edge": side},
        do_image_splitting=False,
        max_image_size={"longest_edge": side},
    )
    config = SmolVLMConfig(
        vision_config={
            "hidden_size": 768 if real else 32,
            "intermediate_size": 3072 if real else 64,
            "num_hidden_layers": 12 if real else 1,
            "num_attention_heads": 12 if real else 2,
            "image_size": side,
            "patch_size": 16 if real else 8,
        },
        text_config={
            "model_type": "llama",
            "vocab_size": len(vocab),
            "hidden_size": 576 if real else 32,
            "intermediate_size": 1536 if real else 64,
            "num_hidden_layers": 30 if real else 2,
            "num_attention_heads": 9 if real else 2,
            "num_key_value_heads": 3 if real else 1,
            "rope_theta": 100000.0,
            "tie_word_embeddings": True,
            "max_position_embeddings": 8192 if real else 2048,
            "bos_token_id": vocab["<|im_start|>"],
            "eos_token_id": vocab["<end_of_utterance>"],
            "pad_token_id": vocab["<|im_end|>"],
        },
        scale_factor=4 if real else 2,
        image_token_id=vocab["<image>"],
    )
    torch.manual_seed(0)
    model = SmolVLMForConditionalGeneration(config)
    # Saved piece by piece, as the hub repository holds them: SmolVLMProcessor itself needs torchvision.
    tokenizer.save_pretrained(folder)
    image_processor.save_pretrained(folder)
    (folder / "processor_config.json").write_text(
        json.dumps({"image_seq_len": 64 if real else 4, "processor_class": "SmolVLMProcessor"})
    )
    (folder / "chat_template.json").write_text(json.dumps({"chat_template": SMOLVLM_CHAT_TEMPLATE}))
    model.save_pretrained(folder)
    return folder


BUILDERS = {"blip": build_blip, "florence2": build_florence2, "smolvlm": build_smolvlm}


def build_all(root: Path, real: bool = False) -> dict[str, Path]:
    """Every supported architecture, each in its own folder under `root`."""
    root.mkdir(parents=True, exist_ok=True)
    return {name: build(root / name, real) for name, build in BUILDERS.items()}


def config_of(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "config.json").read_text())
    return data
