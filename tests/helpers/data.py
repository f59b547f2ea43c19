"""The evaluation data the repository carries (`tests/data`, see its README): real speech clips with
reference transcripts, and real photos with reference captions."""

from __future__ import annotations

from pathlib import Path

from assistant.vision.image import Frame, load_image

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
SPEECH_DIR = DATA_DIR / "speech"  # 16 clips; `transcripts.json` lists them with their references
IMAGES_DIR = DATA_DIR / "images"  # 3 photos; `captions.json` lists them with their references
PHOTOS = ("skimage_astronaut.png", "skimage_chelsea.png", "skimage_coffee.png")


def load_photos(folder: Path = IMAGES_DIR) -> list[Frame]:
    """The three evaluation photos as RGB uint8 frames: an astronaut, a cat, a cup of coffee."""
    return [load_image(folder / name) for name in PHOTOS]
