"""Quick cues: what can be said about a frame in a moment, with no downloaded model.

- light level, from the mean luminance: dark, dim, normal or bright;
- the colour at the centre of the frame, as a plain name ("dark red", "white"), by binning the central
  pixels in HSV and taking the most common bin;
- faces, with opencv's bundled Haar cascade: how many, where (left, centre, right of the picture, as the
  camera sees it) and whether near or far (from the face's size);
- whether text is in view, from rapidocr's text detector alone on a shrunken frame.

`SceneCues.sentence()` turns them into a short, plain sentence: "Dim light. A face on the left, near.
Mostly dark blue in the centre. Some text in view." A cue whose detector is not available is left out of
the sentence rather than guessed.

OpenCV 5 dropped `CascadeClassifier` and the Haar cascade files; faces need opencv(-headless) 4.x.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

from assistant.errors import AssistantError
from assistant.vision.image import Frame
from assistant.vision.ocr import Box, OcrUnavailableError, load_text_spotter

log = logging.getLogger(__name__)

DARK_BELOW = 40.0
"""Mean luminance (0-255) under which a frame is dark: a room with the light off, a covered lens."""
DIM_BELOW = 90.0
BRIGHT_ABOVE = 200.0
"""Mean luminance above which a frame is bright: a window, a white page filling the view."""

NEAR_FACE_FRACTION = 0.15
"""A face at least this fraction of the frame's shorter side is near (about arm's length or closer)."""

_CENTRE_FRACTION = 0.4  # the central 40 % x 40 % of the frame decides "the colour in the centre"
_COLOUR_SAMPLE = 48  # the centre is shrunk to at most this many pixels a side before binning
_FACE_MAX_WIDTH = 640  # larger frames are shrunk first: Haar detection cost grows with area


class FaceDetectionUnavailableError(AssistantError):
    """The installed OpenCV has no Haar cascade face detector."""


@dataclass(frozen=True)
class FaceCue:
    """One face: its box in frame pixels, where it is, and whether it is near."""

    box: Box
    position: str
    """"left", "centre" or "right" of the picture as the camera sees it."""
    near: bool


@dataclass(frozen=True)
class SceneCues:
    """The quick cues of one frame. `faces` and `text_in_view` are None when no detector was available."""

    light: str
    brightness: float
    centre_colour: str
    faces: list[FaceCue] | None = field(default=None)
    text_in_view: bool | None = None

    def sentence(self) -> str:
        parts = [_LIGHT_SENTENCES[self.light]]
        if self.faces is not None:
            parts.append(_faces_sentence(self.faces))
        parts.append(f"Mostly {self.centre_colour} in the centre.")
        if self.text_in_view is not None:
            parts.append("Some text in view." if self.text_in_view else "No text in view.")
        return " ".join(parts)


class FaceFinder(Protocol):
    """Finds faces in a frame."""

    def find_faces(self, frame: Frame) -> list[Box]: ...


class TextSpotter(Protocol):
    """Finds regions of text in a frame, fast (no recognition)."""

    def find_text(self, frame: Frame) -> list[Box]: ...


class HaarFaceFinder:
    """Frontal faces with an opencv Haar cascade (`cv2.CascadeClassifier`)."""

    def __init__(self, cascade: Any) -> None:
        self._cascade = cascade

    def find_faces(self, frame: Frame) -> list[Box]:
        import cv2

        height, width = frame.shape[:2]
        scale = min(1.0, _FACE_MAX_WIDTH / width)
        grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        if scale < 1.0:
            grey = cv2.resize(
                grey, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA
            )
        grey = cv2.equalizeHist(grey)
        smallest = max(24, round(min(grey.shape) * 0.06))
        found = self._cascade.detectMultiScale(
            grey, scaleFactor=1.1, minNeighbors=6, minSize=(smallest, smallest)
        )
        return [
            (round(x / scale), round(y / scale), round((x + w) / scale), round((y + h) / scale))
            for x, y, w, h in np.asarray(found).reshape(-1, 4).tolist()
        ]


class QuickCues:
    """Computes `SceneCues` with whichever detectors it was given."""

    def __init__(
        self, face_finder: FaceFinder | None = None, text_spotter: TextSpotter | None = None
    ) -> None:
        self.face_finder = face_finder
        self.text_spotter = text_spotter

    def __call__(self, frame: Frame) -> SceneCues:
        return quick_cues(frame, self.face_finder, self.text_spotter)


def quick_cues(
    frame: Frame, face_finder: FaceFinder | None = None, text_spotter: TextSpotter | None = None
) -> SceneCues:
    """The cues of one RGB frame. Without a detector its cue is None and left out of the sentence."""
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"expected an HxWx3 uint8 RGB frame, got shape {frame.shape} dtype {frame.dtype}")
    brightness = mean_luminance(frame)
    faces = None if face_finder is None else _describe_faces(frame, face_finder.find_faces(frame))
    text = None if text_spotter is None else looks_like_text(text_spotter.find_text(frame))
    return SceneCues(light_level(brightness), brightness, centre_colour(frame), faces, text)


def mean_luminance(frame: Frame) -> float:
    """Mean Rec. 601 luma, 0-255."""
    weights = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return float((frame.astype(np.float32) @ weights).mean())


def light_level(brightness: float) -> str:
    if brightness < DARK_BELOW:
        return "dark"
    if brightness < DIM_BELOW:
        return "dim"
    if brightness > BRIGHT_ABOVE:
        return "bright"
    return "normal"


def centre_colour(frame: Frame) -> str:
    """The most common plain colour name among the pixels in the centre of the frame."""
    import cv2

    height, width = frame.shape[:2]
    dy, dx = max(1, round(height * _CENTRE_FRACTION / 2)), max(1, round(width * _CENTRE_FRACTION / 2))
    top, left = max(0, height // 2 - dy), max(0, width // 2 - dx)
    centre: Any = frame[top : height // 2 + dy, left : width // 2 + dx]
    side = max(centre.shape[:2])
    if side > _COLOUR_SAMPLE:
        factor = _COLOUR_SAMPLE / side
        size = (max(1, round(centre.shape[1] * factor)), max(1, round(centre.shape[0] * factor)))
        centre = cv2.resize(centre, size, interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(np.ascontiguousarray(centre), cv2.COLOR_RGB2HSV_FULL).reshape(-1, 3)
    names = Counter(colour_name(int(h), int(s), int(v)) for h, s, v in hsv).most_common(2)
    total = len(hsv)
    # A busy centre (a face on a dark background) has no one colour: name the two largest.
    if len(names) == 2 and names[0][1] < 0.4 * total and names[1][1] >= 0.2 * total:
        return f"{names[0][0]} and {names[1][0]}"
    return names[0][0]


def colour_name(hue: int, saturation: int, value: int) -> str:
    """A plain name for an HSV colour, each channel 0-255 (opencv's *_FULL hue scale)."""
    if value < 45:
        return "black"
    if saturation < 40 or (saturation < 70 and value < 110):
        if value > 210:
            return "white"
        return "light grey" if value > 150 else "grey" if value > 90 else "dark grey"
    degrees = hue * 360 / 256
    base = _hue_name(degrees)
    if base == "orange" and value > 150 and saturation < 120:
        return "beige"  # skin, wood, cardboard: "orange" would mislead
    if base in ("orange", "yellow") and value < 150:
        return "brown" if value >= 70 else "dark brown"
    if value < 110:
        return f"dark {base}"
    if value > 200 and saturation < 110:
        return "pink" if base == "red" else f"light {base}"
    return base


def _hue_name(degrees: float) -> str:
    for upper, name in (
        (15, "red"),
        (40, "orange"),
        (70, "yellow"),
        (165, "green"),
        (200, "turquoise"),
        (255, "blue"),
        (290, "purple"),
        (335, "pink"),
    ):
        if degrees < upper:
            return name
    return "red"


def looks_like_text(boxes: list[Box]) -> bool:
    """Text, rather than a stray edge: two or more regions, or one region wider than it is tall."""
    if len(boxes) >= 2:
        return True
    return any((x1 - x0) >= 2 * (y1 - y0) for x0, y0, x1, y1 in boxes)


def horizontal_position(x0: float, x1: float, width: int) -> Literal["left", "centre", "right"]:
    """Which third of the frame a box's centre is in."""
    centre = (x0 + x1) / 2 / max(width, 1)
    return "left" if centre < 1 / 3 else "right" if centre > 2 / 3 else "centre"


def _describe_faces(frame: Frame, boxes: list[Box]) -> list[FaceCue]:
    height, width = frame.shape[:2]
    cues = []
    for box in sorted(boxes, key=lambda b: b[0]):
        x0, y0, x1, y1 = box
        position = horizontal_position(x0, x1, width)
        near = (y1 - y0) >= NEAR_FACE_FRACTION * min(height, width)
        cues.append(FaceCue(box, position, near))
    return cues


_LIGHT_SENTENCES = {
    "dark": "Very dark.",
    "dim": "Dim light.",
    "normal": "Good light.",
    "bright": "Bright light.",
}
_COUNTS = ("No", "A", "Two", "Three", "Four", "Five")


def _faces_sentence(faces: list[FaceCue]) -> str:
    if not faces:
        return "No faces."
    if len(faces) == 1:
        face = faces[0]
        where = "in the centre" if face.position == "centre" else f"on the {face.position}"
        return f"A face {where}, {'near' if face.near else 'far'}."
    count = _COUNTS[len(faces)] if len(faces) < len(_COUNTS) else str(len(faces))
    positions = list(dict.fromkeys(face.position for face in faces))
    near = sum(face.near for face in faces)
    distance = "all near" if near == len(faces) else "all far" if near == 0 else f"{near} near"
    return f"{count} faces, {_join_words(positions)}, {distance}."


def _join_words(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def load_face_finder() -> HaarFaceFinder:
    """opencv's frontal-face Haar cascade. Raises when the installed OpenCV has none (OpenCV 5)."""
    import cv2

    data: Any = getattr(cv2, "data", None)
    folder = getattr(data, "haarcascades", None)
    if not hasattr(cv2, "CascadeClassifier") or folder is None:
        raise FaceDetectionUnavailableError(
            f"face cues need OpenCV's Haar cascades, which OpenCV {cv2.__version__} does not include. "
            'Install OpenCV 4: `pip install "opencv-python-headless>=4.8,<5"`.'
        )
    cascade = cv2.CascadeClassifier(str(folder) + "haarcascade_frontalface_default.xml")
    if cascade.empty():
        raise FaceDetectionUnavailableError(
            f"the face cascade in {folder} is missing or unreadable. Reinstall opencv-python-headless."
        )
    return HaarFaceFinder(cascade)


def load_quick_cues() -> QuickCues:
    """Quick cues with every detector this installation has; a missing one is logged and left out."""
    face_finder: FaceFinder | None
    text_spotter: TextSpotter | None
    try:
        face_finder = load_face_finder()
    except FaceDetectionUnavailableError as error:
        log.warning("vision: no face cues: %s", error)
        face_finder = None
    try:
        text_spotter = load_text_spotter()
    except OcrUnavailableError as error:
        log.warning("vision: no text cue: %s", error)
        text_spotter = None
    return QuickCues(face_finder, text_spotter)
