"""Reading printed text in a frame: OCR, then layout, then the words a person hears.

`TextReader` is the backend protocol; `RapidOcrReader` implements it over `rapidocr-onnxruntime`, whose
detection, orientation and recognition models ship inside the wheel (nothing is downloaded). Its bundled
recogniser was trained mostly on Chinese, and its faults on English are repaired here, line by line:

- dropped spaces ("EXP03/2027", "Keepoutofreach"): the recogniser's own character positions and the
  blank columns between them put back the spaces that are visible on the page
  (`assistant.vision.spacing`); runs of letters that are still glued go through the word segmenter
  (`assistant.vision.words`), which never splits a number or a code;
- letters read for digits inside numbers ("2oo mg", "O7:15"), label keywords run into their values
  ("LOTB7741") and a pound sign read as "f": `assistant.vision.numbers`, narrowly, in numeric context only;
- "£" and "€", which are not in the recogniser's alphabet at all: found as unread ink before a number and
  told apart by shape (`assistant.vision.symbols`);
- orientation: rapidocr's per-line orientation classifier turns short lines over ("09:06" read as
  "90:60") and is off; a page that reads badly is tried turned half a turn, as a whole;
- reading order: rows that share a baseline across a gap are one line ("Latte 3.40"), a table is read by
  rows and a page of running text column by column (`assistant.vision.layout`).

A line the recogniser was unsure of is read again from crops with more margin around it (the
detector's box is tight, and a blurred edge character loses what tells "e" from "0"); the most
confident reading of nearly the same characters is kept. A line still unsure keeps its exact text but
is marked `unsure`; `ReadResult.spoken` says it as "unclear: ..." rather than as fact, and says units,
money, times and dates in words (`assistant.voice.spoken`). Low-confidence fragments (single letters the
recogniser hallucinates on fur or a cup rim) are dropped. `RapidTextSpotter` runs only the detector on a
shrunken frame: a fast "is there text?" for quick cues.

Screen captures (`read_screen`: "read the active window") are read differently, because the user is
waiting for the first words. Rendered text is crisp and upright, and the detector (most of the time on a
1280x800 window) finds it as well on a smaller copy as long as the text there is still about 10 pixels
high; the text's size on screen is measured first (the median height of the ink's connected pieces is the
x-height, about 0.55 of the font size) and the detector sees a copy shrunk so that the x-height is
`SCREEN_X_HEIGHT` pixels, never below `SCREEN_MIN_DETECT_SIDE` nor enlarged. The recogniser reads the
crops of the full-size capture, and the page is never tried upside down. The first row of the page
is recognised on its own and handed over at once (`on_lines`), so it can be said while the rest is read;
the rest follows in reading order. Photos keep `read`, unchanged.
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast

import numpy as np

from assistant.errors import AssistantError
from assistant.vision.image import Frame
from assistant.vision.layout import Box, Quad, TextLine, layout_text, order_lines, paragraphs
from assistant.vision.numbers import (
    missing_dose,
    normalise_code_case,
    normalise_marks,
    repair_digits,
    restore_currency,
    split_glued,
)
from assistant.vision.spacing import line_ink, measure_gaps, restore_spaces
from assistant.vision.symbols import unread_signs
from assistant.vision.words import WordSegmenter, load_word_segmenter
from assistant.voice.spoken import spoken_form

__all__ = [
    "MIN_CONFIDENCE",
    "UNSURE_DIGIT_SCORE",
    "UNSURE_WORD_SCORE",
    "Box",
    "OcrUnavailableError",
    "Quad",
    "RapidOcrReader",
    "RapidTextSpotter",
    "ReadResult",
    "SCREEN_MIN_DETECT_SIDE",
    "SCREEN_X_HEIGHT",
    "TextLine",
    "TextReader",
    "layout_text",
    "load_text_reader",
    "load_text_spotter",
    "order_lines",
    "spoken_text",
]

log = logging.getLogger(__name__)

MIN_CONFIDENCE = 0.65
"""Lines the recognizer is less sure of are dropped (noise on photos scores 0.5-0.6)."""
MIN_SHORT_CONFIDENCE = 0.85
"""One- or two-character lines need more: on photos without text the recognizer reads "O" or "D"."""
UNSURE_DIGIT_SCORE = 0.8
"""A line is marked unsure when a character of a number in it scores below this ..."""
UNSURE_WORD_SCORE = 0.6
"""... or a character of a word that is not a known word scores below this. On the generated labels
(`bench/ocr_accuracy.py --unsure`, seeds 0-2, 1,459 lines) these marked 7 of 12 lines with a misread
number and 17 of 29 lines with any wrong token, and 73 of 1,430 right lines (5 %); at 0.9 for numbers,
9 of 12 and 157 right lines (11 %). The recogniser is often unsure of a space, or of a letter in a
common word it still reads right, so those do not count."""
REREAD_MARGINS = ((0.0, 0.15), (0.15, 0.3), (0.3, 0.3))
"""Margins (along the line, across it, in line heights) added on each side of the detector's box when
a line read with doubt is read again (`RapidOcrReader._reread`). More than a third of a line height
across takes in the next line of a paragraph."""
_REREAD_SAME = 0.8  # a second reading must share this much of its characters with the first
_FLIP_CHECK_SCORE = 0.75  # a page read this poorly (median line score) is tried upside down too
_FLIP_MARGIN = 0.1  # and read that way when it scores this much better
UNCLEAR = "unclear: "
"""What is said before a line the recogniser was unsure of."""
SCREEN_X_HEIGHT = 6.0
"""Pixels of x-height the text keeps in the copy of a screen capture the detector sees: a 13-pixel font
(x-height 7) is detected at 0.86 of its size, 20 pixels at 0.55 (see the module's story)."""
SCREEN_MIN_DETECT_SIDE = 640
"""...but that copy's longest side is never shrunk below this."""
_MIN_DETECT_SIDE = 32  # the detector's input is a multiple of 32 pixels; never enlarged past that
_THIN = 8.0  # a capture wider than this many times its height goes the engine's own way (it pads it)

LinesCallback = Callable[[list["TextLine"]], None]
"""Receives lines of a screen in reading order as soon as they are read: the first row, then the rest."""


class OcrUnavailableError(AssistantError):
    """The OCR engine is not installed or its models cannot be loaded."""


@dataclass(frozen=True)
class ReadResult:
    """What a frame says: `lines` in reading order, and `text` exactly as printed, for showing."""

    lines: list[TextLine] = field(default_factory=list)
    text: str = ""
    upside_down: bool = False
    """The text was read with the frame turned half a turn; boxes are in that turned frame's pixels."""

    @property
    def has_text(self) -> bool:
        return bool(self.text.strip())

    @property
    def spoken(self) -> str:
        """The text as it should be said: see `spoken_text`."""
        return spoken_text(self.lines)


class TextReader(Protocol):
    """Reads the printed text in a frame."""

    def read(self, frame: Frame) -> ReadResult: ...

    def read_screen(self, frame: Frame, on_lines: LinesCallback | None = None) -> ReadResult:
        """Reads a screen capture, handing over its first row before the rest is read."""
        ...


class _OcrEngine(Protocol):
    """rapidocr_onnxruntime.RapidOCR: BGR image in, ([quad, text, score, ...] rows or None, timings) out.

    With `return_word_box=True` a row also carries the character boxes, the characters and their scores.
    """

    def __call__(self, img_content: Any, **kwargs: Any) -> tuple[Any, Any]: ...


@dataclass(frozen=True)
class _Recognised:
    """One detector box as the recogniser read it, with what it said about each character."""

    text: str
    quad: Quad
    confidence: float
    char_centers: list[tuple[float, float]]
    """Frame position of each character of `text`, spaces included; empty when not given."""
    char_scores: list[float]


class RapidOcrReader:
    """`TextReader` over a rapidocr engine: spacing, number repair, reading order and unsure lines."""

    def __init__(
        self,
        engine: _OcrEngine,
        segmenter: WordSegmenter | None = None,
        min_confidence: float = MIN_CONFIDENCE,
        unsure_scores: tuple[float, float] = (UNSURE_DIGIT_SCORE, UNSURE_WORD_SCORE),
    ) -> None:
        self._engine = engine
        self._segmenter = segmenter
        self._min_confidence = min_confidence
        self._unsure_digit_score, self._unsure_word_score = unsure_scores

    def read(self, frame: Frame) -> ReadResult:
        _check_frame(frame)
        import cv2

        rows = self._recognise(frame)
        upside_down = False
        if rows and _median_score(rows) < _FLIP_CHECK_SCORE:
            turned = np.ascontiguousarray(frame[::-1, ::-1])
            turned_rows = self._recognise(turned)
            if turned_rows and _median_score(turned_rows) >= _median_score(rows) + _FLIP_MARGIN:
                frame, rows, upside_down = turned, turned_rows, True
        ordered = order_lines(self._lines(rows, cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), frame))
        return ReadResult(lines=ordered, text=layout_text(ordered), upside_down=upside_down)

    def read_screen(self, frame: Frame, on_lines: LinesCallback | None = None) -> ReadResult:
        """The text of a screen capture, as `read` gives it, faster to its first words: the first row is
        recognised alone and handed to `on_lines` before the rest is read; then the lines not handed over
        yet, in reading order. Never turned upside down (screens are upright)."""
        _check_frame(frame)
        import cv2

        height, width = frame.shape[:2]
        staged: Any = self._engine
        if not hasattr(staged, "text_det") or width > _THIN * height or height <= 30:
            # Not a RapidOCR engine we can drive stage by stage, or a strip the engine pads first.
            result = self.read(frame)
            if on_lines is not None and result.lines:
                on_lines(list(result.lines))
            return result
        bgr = np.ascontiguousarray(frame[:, :, ::-1])
        gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        quads = _detect_shrunk(staged, bgr, _screen_scale(gray))
        if not quads:
            return ReadResult()
        top = _first_row(quads)
        first_rows = _recognise_quads(staged, bgr, [quads[index] for index in top])
        told: list[TextLine] = []
        if on_lines is not None:
            told = order_lines(self._lines(_without_overlaps(first_rows), gray))[:1]
            if told:
                on_lines(told)
        rest = [quad for index, quad in enumerate(quads) if index not in top]
        rows = _without_overlaps(first_rows + _recognise_quads(staged, bgr, rest))
        ordered = order_lines(self._lines(rows, gray))
        if on_lines is not None:
            said = {line.box for line in told}
            remaining = [line for line in ordered if line.box not in said]
            if remaining:
                on_lines(remaining)
        return ReadResult(lines=ordered, text=layout_text(ordered))

    def _lines(
        self, rows: Sequence[_Recognised], gray: np.ndarray, frame: Frame | None = None
    ) -> list[TextLine]:
        """The confident lines of `rows`, repaired, in the order given. With the `frame` (photos), a
        line the recogniser was unsure of is read again from wider crops (`_reread`)."""
        lines: list[TextLine] = []
        for recognised in rows:
            text, unsure, doubts = self._repaired(recognised, gray)
            if unsure and frame is not None:
                text, unsure, recognised = self._reread(recognised, text, doubts, gray, frame)
            line = TextLine(
                text,
                _bounding_box(recognised.quad),
                recognised.confidence,
                unsure=unsure,
                quad=recognised.quad,
            )
            if self._is_confident(line):
                lines.append(line)
        return lines

    def _reread(
        self, recognised: _Recognised, text: str, doubts: Sequence[str], gray: np.ndarray, frame: Frame
    ) -> tuple[str, bool, _Recognised]:
        """A line read with doubt ("4.5e" for "4.50", "II" for "11" in blurred type), read again from
        crops with more margin around it (`REREAD_MARGINS`): the detector's box is drawn tight, and a
        blurred character at its edge loses the ink that tells an "e" from a "0". The reading the
        recogniser is most confident of, of nearly the same characters, is kept; it stays marked unsure
        if it has a doubtful character, or reads a token the first reading doubted (`doubts`) the same
        way: read the same twice is no proof ("LOT 87741" for "LOT B7741", doubted, then read sure)."""
        staged: Any = self._engine
        if not hasattr(staged, "text_rec"):
            return text, True, recognised
        bgr = np.ascontiguousarray(frame[:, :, ::-1])
        height, width = frame.shape[:2]
        quads = [_widened(recognised.quad, along, across, width, height) for along, across in REREAD_MARGINS]
        first = recognised.text.replace(" ", "")
        best = recognised
        # one crop a call: in a batch the recogniser pads each crop to the widest, which reads differently
        readings = [_recognise_quads(staged, bgr, [np.asarray(quad, dtype=np.float32)])[0] for quad in quads]
        for reading in readings:
            same = difflib.SequenceMatcher(a=first, b=reading.text.replace(" ", "")).ratio()
            # a much different reading took in a neighbour's text, or lost some of its own
            # it may find a number's character the first reading missed, never lose one ("17.9" -> "179")
            lost = _number_marks(reading.text) < _number_marks(recognised.text)
            if reading.confidence > best.confidence and same >= _REREAD_SAME and not lost:
                best = reading
        if best is recognised:
            return text, True, recognised
        # the characters are placed along the wider crop, in frame pixels: keep the detector's box
        best = dataclasses.replace(best, quad=recognised.quad)
        reread_text, unsure, _ = self._repaired(best, gray)
        tokens = reread_text.split()
        same_doubt = any(token in tokens for token in doubts) if doubts else reread_text == text
        return reread_text, unsure or same_doubt, best

    def _recognise(self, frame: Frame) -> list[_Recognised]:
        # WORKAROUND: rapidocr's per-line orientation classifier turns short lines over on a whim ("09:06"
        # read as "90:60", a whole line lost); the page is turned as a whole instead (see `read`). Its own
        # score filter is off (text_score=0) so that `_is_confident` is the one place that drops lines.
        # rapidocr takes numpy arrays as BGR (opencv's order); our frames are RGB.
        rows, _ = self._engine(
            np.ascontiguousarray(frame[:, :, ::-1]), use_cls=False, return_word_box=True, text_score=0.0
        )
        return _without_overlaps([_recognised(row) for row in rows or []])

    def _repaired(self, recognised: _Recognised, gray: np.ndarray) -> tuple[str, bool, list[str]]:
        """The line's text put right, whether the recogniser was unsure of it, and the tokens (as read,
        spaces put back) whose characters it doubted."""
        text = recognised.text
        doubts: list[str] = []
        characters = [index for index, character in enumerate(text) if character != " "]
        picture = None
        if len(recognised.char_centers) == len(text):
            picture = line_ink(
                gray, recognised.quad, [recognised.char_centers[index] for index in characters]
            )
        if picture is not None:
            text = restore_spaces(text, measure_gaps(picture), self._segmenter)
        if len(recognised.char_scores) == len(recognised.text):
            doubts = self._doubts(text, [recognised.char_scores[index] for index in characters])
            unsure = bool(doubts)
        else:
            unsure = recognised.confidence < self._unsure_digit_score
        if picture is not None:
            read = "".join(recognised.text[index] for index in characters)
            text = _insert_signs(text, unread_signs(picture, read))
        text = normalise_code_case(restore_currency(split_glued(normalise_marks(" ".join(text.split())))))
        if self._segmenter is not None:
            text = self._segmenter.fix_spacing(text)
        # A dose whose amount was read as letters ("soo mg") is repaired, but said as unclear.
        return repair_digits(text), unsure or missing_dose(text), doubts

    def _doubts(self, spaced: str, scores: Sequence[float]) -> list[str]:
        """The numbers, and words that are not known words, with a character the recogniser doubted.

        `spaced` is the recognised text with its spaces put back (the same characters otherwise), and
        `scores` the recogniser's score for each of its non-space characters.
        """
        remaining = iter(scores)
        doubted: list[str] = []
        for token in spaced.split():
            token_scores = [next(remaining, 1.0) for _ in token]
            letters = [
                score for character, score in zip(token, token_scores, strict=True) if character.isalnum()
            ]
            if not letters:
                continue
            core = "".join(character for character in token if character.isalnum())
            if any(character.isdigit() for character in core):
                # every character of a number counts: "07.15" for "07:15" is a misread too
                if min(token_scores) < self._unsure_digit_score:
                    doubted.append(token)
            elif min(letters) < self._unsure_word_score and not self._is_known_word(core):
                doubted.append(token)
        return doubted

    def _is_known_word(self, letters: str) -> bool:
        return self._segmenter is not None and len(letters) > 2 and self._segmenter.is_word(letters)

    def _is_confident(self, line: TextLine) -> bool:
        significant = sum(ch.isalnum() for ch in line.text)
        if significant == 0:
            return False
        needed = MIN_SHORT_CONFIDENCE if significant <= 2 else self._min_confidence
        return line.confidence >= max(needed, self._min_confidence)


def _insert_signs(text: str, signs: Sequence[tuple[int, str]]) -> str:
    """`text` with each sign put before its non-space character (counted without spaces)."""
    if not signs:
        return text
    before = dict(signs)
    out: list[str] = []
    count = 0
    for character in text:
        if character != " ":
            if count in before:
                out.append(before[count])
            count += 1
        out.append(character)
    return "".join(out)


def x_height(gray: np.ndarray) -> float:
    """The median height of the ink's connected pieces (the ink is the less common side of an Otsu
    threshold, so dark and light themes alike): on a screen of text, its x-height in pixels. 0 when
    there is no ink."""
    import cv2

    _, ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    if np.count_nonzero(ink) > ink.size // 2:
        ink = cv2.bitwise_not(ink)
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    heights, widths = stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_WIDTH]
    # Glyph-like pieces: not dust, not rules or frames, not whole pictures.
    glyphs = (heights >= 3) & (heights <= 200) & (widths <= 2 * heights + 2)
    return float(np.median(heights[glyphs])) if count > 1 and glyphs.any() else 0.0


def _screen_scale(gray: np.ndarray) -> float:
    """How much the detector's copy of a screen capture is shrunk (see `SCREEN_X_HEIGHT`)."""
    height = x_height(gray)
    if height <= SCREEN_X_HEIGHT:
        return 1.0
    floor = min(1.0, SCREEN_MIN_DETECT_SIDE / float(max(gray.shape[:2])))
    return max(floor, SCREEN_X_HEIGHT / height)


def _detect_shrunk(engine: Any, bgr: np.ndarray, scale: float) -> list[np.ndarray]:
    """The detector's text quads on a copy of `bgr` shrunk by `scale` (at most 1), in `bgr`'s pixels,
    sorted top to bottom as the engine sorts them.

    WORKAROUND: rapidocr's `TextDetector` enlarges anything whose short side is under its
    `limit_side_len` (736) and cannot be told a size per call; its pre-processing is rebuilt here with a
    limit that never enlarges, and its model and post-processing are called as its `__call__` does
    (rapidocr-onnxruntime 1.4.4, pinned in scripts/setup.sh)."""
    import cv2
    from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess

    detector = engine.text_det
    height, width = bgr.shape[:2]
    scale = min(1.0, scale)
    small = bgr
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        small = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
    prepared = DetPreProcess(_MIN_DETECT_SIDE, "min", detector.mean, detector.std)(small)
    if prepared is None:
        return []
    predictions = detector.infer(prepared)[0]
    quads, _ = detector.postprocess_op(predictions, small.shape[:2])
    quads = detector.filter_tag_det_res(quads, small.shape[:2])
    if quads is None or len(quads) == 0:
        return []
    return [np.asarray(quad, dtype=np.float32) / np.float32(scale) for quad in engine.sorted_boxes(quads)]


def _first_row(quads: Sequence[np.ndarray]) -> set[int]:
    """The quads on the page's top row: those whose middle lies within the height of the topmost one."""
    tops = [float(quad[:, 1].min()) for quad in quads]
    first = int(np.argmin(tops))
    y0, y1 = tops[first], float(quads[first][:, 1].max())
    return {index for index, quad in enumerate(quads) if y0 <= float(quad[:, 1].mean()) <= y1}


def _recognise_quads(engine: Any, bgr: np.ndarray, quads: Sequence[np.ndarray]) -> list[_Recognised]:
    """The recogniser's reading of each quad of `bgr`, with character boxes, in one batched call: the
    engine's own crop, recognition and character-box steps (what `RapidOCR.__call__` does after
    detecting)."""
    if not quads:
        return []
    height, width = bgr.shape[:2]
    crops = engine.get_crop_img_list(bgr, list(quads))
    recognised, _ = engine.text_rec(crops, True)
    rows: list[_Recognised] = []
    for quad, (text, score, char_quads, *rest) in zip(
        quads, engine.cal_rec_boxes(crops, list(quads), recognised), strict=True
    ):
        if char_quads:
            points = np.asarray(char_quads, dtype=np.float32)
            points[..., 0] = np.clip(points[..., 0], 0, width)
            points[..., 1] = np.clip(points[..., 1], 0, height)
            char_quads = points.astype(np.int32).tolist()
        rows.append(_recognised([quad.tolist(), text, score, char_quads, *rest]))
    return rows


def _median_score(rows: Sequence[_Recognised]) -> float:
    return float(np.median([row.confidence for row in rows]))


def spoken_text(lines: Sequence[TextLine]) -> str:
    """Ordered lines as they should be said: units, money, times and dates in words
    (`assistant.voice.spoken.spoken_form`), and "unclear: " before each line the recogniser was unsure
    of. Lines are separated as in `layout_text`."""
    return "\n\n".join(
        "\n".join(f"{UNCLEAR if line.unsure else ''}{spoken_form(line.text)}" for line in paragraph)
        for paragraph in paragraphs(lines)
    )


class _DetectorEngine(Protocol):
    """rapidocr's TextDetector: BGR image in, (N x 4 x 2 quads or None, seconds) out."""

    def __call__(self, img: Any) -> tuple[Any, float]: ...


class RapidTextSpotter:
    """Finds text regions with rapidocr's detector alone, on a frame shrunk to `max_side` pixels."""

    def __init__(self, detector: _DetectorEngine, max_side: int = 256) -> None:
        self._detector = detector
        self.max_side = max_side

    def find_text(self, frame: Frame) -> list[Box]:
        """Boxes that look like words or lines, in frame pixels."""
        import cv2

        _check_frame(frame)
        height, width = frame.shape[:2]
        scale = min(1.0, self.max_side / max(height, width))
        small = frame if scale == 1.0 else cv2.resize(frame, (round(width * scale), round(height * scale)))
        quads, _ = self._detector(np.ascontiguousarray(small[:, :, ::-1]))
        boxes: list[Box] = []
        for quad in [] if quads is None else quads:
            points = np.asarray(quad, dtype=np.float64) / scale
            boxes.append(_bounding_box(points))
        return boxes


def _bounding_box(points: Any) -> Box:
    array = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    x0, y0 = np.floor(array.min(axis=0))
    x1, y1 = np.ceil(array.max(axis=0))
    return int(x0), int(y0), int(x1), int(y1)


def _without_overlaps(rows: list[_Recognised]) -> list[_Recognised]:
    """The detector sometimes cuts one printed line into boxes that overlap, and the recogniser then
    reads the shared characters twice ("Ibuprofen 2" + "200" for "Ibuprofen 200"). The characters at the
    end of a box whose centres lie inside the next box on the same row are that box's: drop them.

    Rows and overlaps are measured along the left box's own slope: on a rotated label the upright
    rectangles around two rows overlap, and a row must not lose its end to the row below it ("Store
    below 30°C in a dry place" cut after "30°Ci" by "LOT D91157" under it)."""
    kept = list(rows)
    for index, left in enumerate(kept):
        if len(left.char_centers) != len(left.text):
            continue
        along, across = _line_axes(left.quad)
        lx0, ly0, lx1, ly1 = _extent(left.quad, along, across)
        for right in kept:
            if right is left:
                continue
            rx0, ry0, rx1, ry1 = _extent(right.quad, along, across)
            same_row = min(ly1, ry1) - max(ly0, ry0) >= 0.5 * min(ly1 - ly0, ry1 - ry0)
            if not same_row or not (lx0 < rx0 < lx1 < rx1):
                continue
            cut = len(left.text)
            while cut > 0 and float(np.dot(left.char_centers[cut - 1], along)) >= rx0 + 1:
                cut -= 1
            if 0 < cut < len(left.text):
                text = left.text[:cut].rstrip()
                (tl, tr, br, bl) = left.quad
                quad: Quad = (tl, _clip_to(tr, along, rx0 - 1), _clip_to(br, along, rx0 - 1), bl)
                kept[index] = left = _Recognised(
                    text, quad, left.confidence, left.char_centers[: len(text)],
                    left.char_scores[: len(text)] if len(left.char_scores) == len(left.text) else [],
                )  # fmt: skip
                lx0, ly0, lx1, ly1 = _extent(left.quad, along, across)
    return kept


def _number_marks(text: str) -> int:
    """How many digits and number joiners ("." "," ":" "/") `text` holds."""
    return sum(character.isdigit() or character in ".,:/" for character in text)


def _widened(quad: Quad, along: float, across: float, width: int, height: int) -> Quad:
    """`quad` with a margin of `along` and `across` times its height on each side, kept in the frame."""
    unit_along, unit_across = _line_axes(quad)
    points = np.asarray(quad, dtype=np.float64)
    size = float(np.hypot(*(points[3] - points[0])))
    out, down = unit_along * along * size, unit_across * across * size
    moved = points + np.asarray([-out - down, out - down, out + down, -out + down])
    moved[:, 0] = np.clip(moved[:, 0], 0, width - 1)
    moved[:, 1] = np.clip(moved[:, 1], 0, height - 1)
    return cast(Quad, tuple((float(x), float(y)) for x, y in moved))


def _line_axes(quad: Quad) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors along a text box (its top edge, left to right) and across it (downwards)."""
    top = np.subtract(quad[1], quad[0])
    length = float(np.hypot(*top))
    along = top / length if length > 0 else np.asarray([1.0, 0.0])
    return along, np.asarray([-along[1], along[0]])


def _extent(quad: Quad, along: np.ndarray, across: np.ndarray) -> tuple[float, float, float, float]:
    """A quad's extent (x0, y0, x1, y1) measured along and across a line's axes."""
    points = np.asarray(quad, dtype=np.float64)
    xs, ys = points @ along, points @ across
    return float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())


def _clip_to(point: tuple[float, float], along: np.ndarray, edge: float) -> tuple[float, float]:
    """`point` moved back along the line to `edge` (measured along it), when it lies past the edge."""
    beyond = float(np.dot(point, along)) - edge
    if beyond <= 0:
        return point
    return float(point[0] - beyond * along[0]), float(point[1] - beyond * along[1])


def _recognised(row: Sequence[Any]) -> _Recognised:
    """A rapidocr result row: [quad, text, score] and, with word boxes, [char quads, chars, char scores]."""
    points = np.asarray(row[0], dtype=np.float64).reshape(4, 2)
    quad: Quad = (
        (float(points[0, 0]), float(points[0, 1])),
        (float(points[1, 0]), float(points[1, 1])),
        (float(points[2, 0]), float(points[2, 1])),
        (float(points[3, 0]), float(points[3, 1])),
    )
    text = str(row[1])
    centers: list[tuple[float, float]] = []
    scores: list[float] = []
    if len(row) >= 6 and row[3] and len(row[3]) == len(text):
        centers = [
            (float(x), float(y))
            for x, y in (np.asarray(box, dtype=np.float64).reshape(-1, 2).mean(axis=0) for box in row[3])
        ]
        scores = [float(score) for score in row[5]]
    return _Recognised(text, quad, float(row[2]), centers, scores)


def _check_frame(frame: Frame) -> None:
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"expected an HxWx3 uint8 RGB frame, got shape {frame.shape} dtype {frame.dtype}")


def _import_rapidocr() -> Any:
    try:
        import rapidocr_onnxruntime
    except ImportError as error:
        raise OcrUnavailableError(
            f"text reading needs the OCR package rapidocr-onnxruntime, which is not installed ({error}). "
            "Install it with `pip install --no-deps rapidocr-onnxruntime` (see scripts/setup.sh)."
        ) from error
    return rapidocr_onnxruntime


def load_text_reader(min_confidence: float = MIN_CONFIDENCE, repair_spacing: bool = True) -> RapidOcrReader:
    """The default `TextReader`: rapidocr's bundled models (loaded here, ~1 s) and the spacing repair."""
    rapidocr = _import_rapidocr()
    try:
        engine = rapidocr.RapidOCR()
    except Exception as error:  # onnxruntime raises its own exception types for unreadable models
        raise OcrUnavailableError(
            f"the OCR models could not be loaded ({error}). Reinstall rapidocr-onnxruntime."
        ) from error
    segmenter = load_word_segmenter() if repair_spacing else None
    log.info("vision: OCR engine loaded (rapidocr-onnxruntime)")
    return RapidOcrReader(engine, segmenter, min_confidence)


def load_text_spotter(max_side: int = 256) -> RapidTextSpotter:
    """A detector-only text finder for quick cues (~0.2 s to load, ~0.1 s a 640x480 frame)."""
    rapidocr = _import_rapidocr()
    import yaml
    from rapidocr_onnxruntime.ch_ppocr_det import TextDetector

    package = Path(rapidocr.__file__).parent
    try:
        config = yaml.safe_load((package / "config.yaml").read_text(encoding="utf-8"))["Det"]
        # WORKAROUND: RapidOCR has no detector-only constructor, and a whole RapidOCR engine would load
        # the recognizer too; its TextDetector class takes the same "Det" section of its config.
        config["model_path"] = str(package / config["model_path"])
        config["limit_side_len"] = max_side
        config["limit_type"] = "max"
        detector = TextDetector(config)
    except Exception as error:
        raise OcrUnavailableError(
            f"the OCR text detector could not be loaded ({error}). Reinstall rapidocr-onnxruntime."
        ) from error
    return RapidTextSpotter(detector, max_side)
