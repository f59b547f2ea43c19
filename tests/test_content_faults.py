"""Adversarial content gives what a person would expect, or says why not: a transparent picture, a
float recording with NaN samples, a vocabulary too long for the prompt. Each file is generated here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from assistant.vision.image import load_image


def test_black_text_on_a_transparent_png_stays_black_on_white(tmp_path: Path) -> None:
    # What a screenshot tool or a design program saves: black letters, everything else fully transparent
    # (and, as usual, black under the transparency).
    picture = Image.new("RGBA", (320, 80), (0, 0, 0, 0))
    ImageDraw.Draw(picture).text((10, 20), "Exit 12", fill=(0, 0, 0, 255), font=ImageFont.load_default(32))
    path = tmp_path / "label.png"
    picture.save(path)
    frame = load_image(path)
    alpha = np.asarray(picture)[:, :, 3]
    ink, ground = alpha == 255, alpha == 0
    assert ink.any()
    assert frame[ground].min() == 255  # the ground is white, not black
    assert frame[ink].max() < 80  # the letters stay dark: text to read, not black on black
