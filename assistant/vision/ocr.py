"""Reading printed text in a frame: OCR, then layout, then the words a person hears.

`TextReader` is the backend protocol; `RapidOcrReader` implements it over `rapidocr-onnxruntime`, whose
detection, orientation and recognition models ship inside the wheel (nothing is downloaded). Two known
faults of its bundled (mostly Chinese-trained) models are repaired here:

- spaces between English words go missing ("Keepoutofreachofchildren"): every line goes through
  `assistant.vision.words.WordSegmenter`;
- lines come back row by row across columns: `order_lines` merges per-word boxes of one row into lines,
  finds column gutters (empty stretches of the x-projection of the lines), and reads each column top to
  bottom before the next one. Lines that straddle a gutter (a title over two columns) split the page
  into sections that are read in turn.

Low-confidence fragments (single letters the recognizer hallucinates on fur or a cup rim) are dropped.
`RapidTextSpotter` runs only the detector on a shrunken frame: a fast "is there text?" for quick cues.
"""

from __future__ import annotations

import dataclasses
import logging
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from assistant.errors import AssistantError
from assistant.vision.image import Frame
from assistant.vision.words import WordSegmenter, load_word_segmenter

log = logging.getLogger(__name__)

Box = tuple[int, int, int, int]
"""An axis-aligned rectangle (x0, y0, x1, y1) in frame pixels, x1 and y1 exclusive."""

MIN_CONFIDENCE = 0.65
"""Lines the recognizer is less sure of are dropped (noise on photos scores 0.5-0.6)."""
MIN_SHORT_CONFIDENCE = 0.85
"""One- or two-character lines need more: on photos without text the recognizer reads "O" or "D"."""

_ROW_OVERLAP = 0.5  # boxes share a row when they overlap vertically by half the smaller height
_WORD_GAP = 1.2  # boxes in a row closer than this many line heights are one line
_GUTTER = 1.0  # an empty x-stretch at least this many line heights wide separates columns
_PARAGRAPH_GAP = 0.9  # a vertical gap above this many line heights starts a paragraph


class OcrUnavailableError(AssistantError):
    """The OCR engine is not installed or its models cannot be loaded."""


@dataclass(frozen=True)
class TextLine:
    """One line of text as read, in frame pixels."""

    text: str
    box: Box
    confidence: float
    column: int = 0
    """Column within its section, 0 = leftmost; lines that straddle columns are 0."""
    section: int = 0
    """Band of the page, counted from the top: a line that straddles columns is a section of its own."""


@dataclass(frozen=True)
class ReadResult:
    """What a frame says: `lines` in reading order, and `text` as it should be spoken or shown."""

    lines: list[TextLine] = field(default_factory=list)
    text: str = ""

    @property
    def has_text(self) -> bool:
        return bool(self.text.strip())


class TextReader(Protocol):
    """Reads the printed text in a frame."""

    def read(self, frame: Frame) -> ReadResult: ...


class _OcrEngine(Protocol):
    """rapidocr_onnxruntime.RapidOCR: BGR image in, ([quad, text, score] rows or None, timings) out."""

    def __call__(self, img_content: Any, **kwargs: Any) -> tuple[Any, Any]: ...


class RapidOcrReader:
    """`TextReader` over a rapidocr engine, with spacing repair and column-aware reading order."""

    def __init__(
        self,
        engine: _OcrEngine,
        segmenter: WordSegmenter | None = None,
        min_confidence: float = MIN_CONFIDENCE,
    ) -> None:
        self._engine = engine
        self._segmenter = segmenter
        self._min_confidence = min_confidence

    def read(self, frame: Frame) -> ReadResult:
        _check_frame(frame)
        # rapidocr takes numpy arrays as BGR (opencv's order); our frames are RGB.
        rows, _ = self._engine(np.ascontiguousarray(frame[:, :, ::-1]))
        raw = [line for line in (_to_line(row) for row in rows or []) if self._is_confident(line)]
        lines = order_lines(raw)
        if self._segmenter is not None:
            segmenter = self._segmenter
            lines = [_replace_text(line, segmenter.fix_spacing(line.text)) for line in lines]
        return ReadResult(lines=lines, text=layout_text(lines))

    def _is_confident(self, line: TextLine) -> bool:
        significant = sum(ch.isalnum() for ch in line.text)
        if significant == 0:
            return False
        needed = MIN_SHORT_CONFIDENCE if significant <= 2 else self._min_confidence
        return line.confidence >= max(needed, self._min_confidence)


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


def order_lines(lines: Sequence[TextLine]) -> list[TextLine]:
    """Lines in reading order: per-word boxes of a row merged, columns read one after the other."""
    merged = _merge_rows(lines)
    if not merged:
        return []
    height = statistics.median(line.box[3] - line.box[1] for line in merged)
    gutters = _find_gutters(merged, height)
    if not gutters:
        return sorted(merged, key=lambda line: (line.box[1], line.box[0]))
    spanning = sorted(
        (line for line in merged if any(line.box[0] < g0 and line.box[2] > g1 for g0, g1 in gutters)),
        key=lambda line: line.box[1],
    )
    ordered: list[TextLine] = []
    # A straddling line (a title, a footer) closes the section above it and is a section of its own.
    boundaries = [*spanning, None]
    previous_center = -np.inf
    section = 0
    for boundary in boundaries:
        center = np.inf if boundary is None else _center_y(boundary)
        members_of_section = [
            line for line in merged if line not in spanning and previous_center <= _center_y(line) < center
        ]
        columns = _split_columns(members_of_section, gutters)
        for column, members in enumerate(columns):
            members.sort(key=lambda line: (line.box[1], line.box[0]))
            ordered.extend(_placed(line, column, section) for line in members)
        section += 1 if columns else 0
        if boundary is not None:
            ordered.append(_placed(boundary, 0, section))
            section += 1
        previous_center = center
    return ordered


def layout_text(lines: Sequence[TextLine]) -> str:
    """Ordered lines as text: a line per line, a blank line between paragraphs and between columns."""
    paragraphs: list[list[str]] = []
    previous: TextLine | None = None
    for line in lines:
        if previous is None or _starts_paragraph(previous, line):
            paragraphs.append([])
        paragraphs[-1].append(line.text)
        previous = line
    return "\n\n".join("\n".join(paragraph) for paragraph in paragraphs)


def _starts_paragraph(previous: TextLine, line: TextLine) -> bool:
    if line.section != previous.section or line.column != previous.column:
        return True
    gap = line.box[1] - previous.box[3]
    height = min(line.box[3] - line.box[1], previous.box[3] - previous.box[1])
    return gap > _PARAGRAPH_GAP * height


def _merge_rows(lines: Sequence[TextLine]) -> list[TextLine]:
    """Join boxes that sit side by side on one row (rapidocr may give one box per word) in x order."""
    rows: list[TextLine] = []
    for line in sorted(lines, key=lambda item: item.box[0]):
        for index, row in enumerate(rows):
            if _same_row(row.box, line.box):
                rows[index] = _join(row, line)
                break
        else:
            rows.append(line)
    return rows


def _same_row(left: Box, right: Box) -> bool:
    overlap = min(left[3], right[3]) - max(left[1], right[1])
    height = min(left[3] - left[1], right[3] - right[1])
    if height <= 0 or overlap < _ROW_OVERLAP * height:
        return False
    line_height = max(left[3] - left[1], right[3] - right[1])
    gap = right[0] - left[2]
    return -line_height <= gap <= _WORD_GAP * line_height


def _join(left: TextLine, right: TextLine) -> TextLine:
    box = (
        min(left.box[0], right.box[0]),
        min(left.box[1], right.box[1]),
        max(left.box[2], right.box[2]),
        max(left.box[3], right.box[3]),
    )
    weight = len(left.text) + len(right.text)
    confidence = (left.confidence * len(left.text) + right.confidence * len(right.text)) / max(weight, 1)
    return TextLine(f"{left.text} {right.text}", box, confidence)


def _find_gutters(lines: Sequence[TextLine], height: float) -> list[tuple[int, int]]:
    """Empty x-stretches between columns, found from the lines that fit within one column."""
    left = min(line.box[0] for line in lines)
    right = max(line.box[2] for line in lines)
    # Lines wider than most of the text area are titles or single-column text: they cannot show gutters.
    narrow = [line for line in lines if line.box[2] - line.box[0] < 0.6 * (right - left)]
    if len(narrow) < 2:
        return []
    covered = np.zeros(right - left, dtype=bool)
    for line in narrow:
        covered[line.box[0] - left : line.box[2] - left] = True
    start = min(line.box[0] for line in narrow) - left
    end = max(line.box[2] for line in narrow) - left
    gutters: list[tuple[int, int]] = []
    x = start
    while x < end:
        if covered[x]:
            x += 1
            continue
        gap_start = x
        while x < end and not covered[x]:
            x += 1
        if x - gap_start >= _GUTTER * height:
            gutters.append((gap_start + left, x + left))
    return gutters


def _split_columns(lines: Sequence[TextLine], gutters: Sequence[tuple[int, int]]) -> list[list[TextLine]]:
    columns: list[list[TextLine]] = [[] for _ in range(len(gutters) + 1)]
    for line in lines:
        center = (line.box[0] + line.box[2]) / 2
        index = sum(1 for g0, _ in gutters if center > g0)
        columns[index].append(line)
    return [column for column in columns if column]


def _center_y(line: TextLine) -> float:
    return (line.box[1] + line.box[3]) / 2


def _placed(line: TextLine, column: int, section: int) -> TextLine:
    return dataclasses.replace(line, column=column, section=section)


def _replace_text(line: TextLine, text: str) -> TextLine:
    return dataclasses.replace(line, text=text)


def _bounding_box(points: Any) -> Box:
    array = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    x0, y0 = np.floor(array.min(axis=0))
    x1, y1 = np.ceil(array.max(axis=0))
    return int(x0), int(y0), int(x1), int(y1)


def _to_line(row: Sequence[Any]) -> TextLine:
    quad, text, score = row[0], row[1], row[2]
    return TextLine(str(text).strip(), _bounding_box(quad), float(score))


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
