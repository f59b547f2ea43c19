"""Still images: the `Frame` type every vision component works on, and loading a photo from disk.

A frame is an HxWx3 array of uint8 in RGB order. Cameras and video files deliver BGR (opencv's order);
the frame sources convert before handing a frame out, so nothing past `assistant/vision/frames.py`
ever sees BGR.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from assistant.errors import AssistantError

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

log = logging.getLogger(__name__)

Frame = npt.NDArray[np.uint8]
"""An RGB picture, shape (height, width, 3), dtype uint8."""

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"})
"""File name endings we treat as still pictures rather than videos."""


class ImageError(AssistantError):
    """A picture could not be read: missing, empty, corrupt or not a picture at all."""


def load_image(path: str | Path) -> Frame:
    """Read a picture file as an RGB frame, turned the way the camera's EXIF tag says it was held.

    Transparent pictures are laid on white, the way viewers and browsers show them (black text on a
    transparent PNG stays black on white rather than becoming black on black), and greyscale or palette
    pictures become three identical channels, so callers always get HxWx3 uint8.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    file = Path(path)
    if not file.exists():
        raise ImageError(f"{file}: no such file. Check the path and try again.")
    if file.is_dir():
        raise ImageError(f"{file} is a folder, not a picture. Give the path of an image file.")
    try:
        size = file.stat().st_size
    except OSError as error:
        raise ImageError(f"{file}: cannot be read ({error.strerror}). Check its permissions.") from error
    if size == 0:
        raise ImageError(f"{file} is empty (0 bytes). It may still be downloading or copying; try again.")
    try:
        with warnings.catch_warnings():
            # A picture between Pillow's "large" and "too large" sizes opens with a warning printed
            # raw to the terminal; it is read all the same, so the warning is not for the user.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(file) as opened:
                # load() decodes the pixels, so a truncated file fails here rather than in a model.
                opened.load()
                upright = ImageOps.exif_transpose(opened)
                rgb = _on_white(upright)
    except UnidentifiedImageError as error:
        raise ImageError(
            f"{file} is not a picture format we can read (PNG, JPEG, BMP, GIF, WebP and TIFF work). "
            "Convert it to PNG or JPEG and try again."
        ) from error
    except Image.DecompressionBombError as error:
        raise ImageError(f"{file} is too large to open safely ({error}). Resize it and try again.") from error
    except (OSError, SyntaxError, ValueError) as error:
        # Pillow reports truncated or corrupt data as OSError ("image file is truncated") or SyntaxError.
        raise ImageError(
            f"{file} is damaged and cannot be decoded ({error}). Save or download it again."
        ) from error
    frame: Frame = np.asarray(rgb, dtype=np.uint8).copy()
    log.debug("vision: loaded %s (%dx%d)", file, frame.shape[1], frame.shape[0])
    return frame


def _on_white(picture: PILImage) -> PILImage:
    """The picture as RGB, any transparency composited on white (convert("RGB") just drops alpha, and
    the colour under a fully transparent pixel is usually black)."""
    from PIL import Image

    has_alpha = picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info
    if not has_alpha:
        return picture.convert("RGB")
    rgba = picture.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB")
