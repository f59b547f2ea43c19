"""A random Audio Spectrogram Transformer, built offline and saved like a real download.

`build_ast(folder)` writes a tiny `ASTForAudioClassification` (hidden size 32, one layer, 32 mel bins,
0.64 s windows) with a handful of AudioSet labels and its feature extractor, so `load_sound_classifier`
loads it through exactly the path the real `ast-audioset` takes. Its random weights say nothing; tests
that need a known answer pass `loud_label`, which zeroes the head and biases it so that label is always
heard (probability 0.9997) and every other label never is. `real=True` gives the architecture of
MIT/ast-finetuned-audioset-10-10-0.4593 (768 wide, 12 layers, 128 mel bins, 10.24 s, 527 labels) with
random weights, for timing: compute does not depend on the weights' values.
"""

from __future__ import annotations

from pathlib import Path

LABELS = ("Speech", "Dog", "Baby cry, infant cry", "Knock", "Siren", "Glass", "Music")


def ast_config(real: bool = False, labels: tuple[str, ...] = LABELS) -> object:
    from transformers import ASTConfig

    if real:
        names = list(labels) + [f"AudioSet class {index}" for index in range(len(labels), 527)]
        return ASTConfig(id2label=dict(enumerate(names)), label2id={n: i for i, n in enumerate(names)})
    return ASTConfig(
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        num_mel_bins=32,
        max_length=64,
        id2label=dict(enumerate(labels)),
        label2id={name: index for index, name in enumerate(labels)},
    )


def build_ast(folder: Path, *, real: bool = False, loud_label: str | None = None) -> Path:
    import torch
    from transformers import ASTForAudioClassification

    from assistant.sounds.classifier import feature_extractor

    config = ast_config(real)
    torch.manual_seed(0)
    model = ASTForAudioClassification(config).eval()  # type: ignore[arg-type,no-untyped-call]
    if loud_label is not None:
        head = model.classifier.dense
        with torch.no_grad():
            head.weight.zero_()
            head.bias.fill_(-8.0)
            head.bias[LABELS.index(loud_label)] = 8.0
    extractor = feature_extractor(config.num_mel_bins, config.max_length)  # type: ignore[attr-defined]
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    extractor.save_pretrained(folder)
    return folder
