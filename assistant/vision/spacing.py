"""Spaces the recogniser dropped, found in the picture: the blank stretch between two characters.

rapidocr's recogniser (trained mostly on Chinese) often reads "EXP 03/2027" as "EXP03/2027", "LOT B7741"
as "LOTB7741" and "0131 762 9397" as "01317629397". A word list cannot tell "500mg" from "500 mg" or
where a phone number's groups end, but the page can: asked for character boxes, the recogniser says
where along the line it saw each character, and the widest ink-free stretch of columns between two
neighbours is the space, or the lack of one.

`line_ink` turns a line's picture upright, and `measure_gaps` gives one number per pair of
neighbouring characters: the widest blank stretch between them, in units of the line's character pitch
(the median distance between neighbouring characters, so that the measure is the same for a large sign
and small print, and for proportional and monospaced type). `restore_spaces` inserts a space where that
number is wide enough for the kind of neighbours; the thresholds come from the generated evaluation set
(`tests/helpers/labels.py`, seeds 0 to 2: 15,000 neighbour pairs of known truth):

- inside a number ("13.37", "07:15", "03/2027") and before closing punctuation: never;
- between digits: 0.40 pitch (real spaces measured >= 0.44, none inside a number above 0.37), but 0.66
  next to a "1", which is narrow and stands in a wide cell ("15" measured up to 0.62; 2 of 18 real
  spaces next to a "1" fall below, and are missed rather than a number cut in two), unless the same
  line shows a space between other digits no wider than that gap (`SAME_AS_SPACE`): a phone number's
  groups are spaced alike, "0122 844 1688" (not between two ones, whose blanks add up: "0114");
- between a letter and a digit: 0.38 ("EXP 03", "500 mg"; real spaces >= 0.33, none between letter and
  digit of one token above 0.35);
- between letters: 0.42, and never inside a known word ("children" stays whole even if its "il" gap is
  wide in a monospaced font);
- after punctuation ("16. Please", "week, such"): 0.45.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

DIGIT_GAP = 0.40
DIGIT_ONE_GAP = 0.66
LETTER_DIGIT_GAP = 0.38
LETTER_GAP = 0.42
AFTER_PUNCTUATION_GAP = 0.45
SAME_AS_SPACE = 0.9
"""A gap next to a "1" (between DIGIT_GAP and DIGIT_ONE_GAP) is a space when it is at least this share of
the narrowest space found between other digits of the same line."""

_MIN_CHARACTERS = 3  # a line needs this many characters for its median pitch to mean anything
_CLOSING = set(".,:;!?)]}%°'\"’”")
_NUMBER_JOINERS = set(".,:/-")


class Lexicon(Protocol):
    """The words a split may not cut (`assistant.vision.words.WordSegmenter` is one)."""

    def is_word(self, text: str) -> bool: ...

    def is_common_word(self, text: str) -> bool: ...


def restore_spaces(text: str, gaps: Sequence[float | None], lexicon: Lexicon | None = None) -> str:
    """`text` with a space wherever the gap after a character says one was dropped.

    `gaps[i]` belongs to the i-th pair of neighbouring non-space characters (None where it could not be
    measured); pairs already separated by a space are left as they are.
    """
    characters = [(index, character) for index, character in enumerate(text) if character != " "]
    if len(gaps) != max(len(characters) - 1, 0):
        return text  # the positions do not belong to this text: change nothing
    split_after: set[int] = set()
    ones: list[tuple[int, float]] = []  # digit pairs next to a "1" with a gap that might be a space
    for pair, gap in enumerate(gaps):
        (left_index, _), (right_index, _) = characters[pair], characters[pair + 1]
        if gap is None or right_index != left_index + 1:
            continue
        needed = _needed_gap(text, left_index)
        if gap >= needed:
            split_after.add(left_index)
        elif needed == DIGIT_ONE_GAP and gap >= DIGIT_GAP and text[left_index : left_index + 2] != "11":
            ones.append((left_index, gap))  # (two ones side by side leave twice a one's blank: not here)
    # A space next to a "1" as wide as a space between other digits of the same line is a space too
    # ("0122 844 1688": the gap before the "1" is the gap before the "8").
    digit_spaces = [
        gap
        for pair, gap in enumerate(gaps)
        if gap is not None
        and characters[pair][0] in split_after
        and _needed_gap(text, characters[pair][0]) == DIGIT_GAP
    ]
    if digit_spaces:
        split_after.update(index for index, gap in ones if gap >= SAME_AS_SPACE * min(digit_spaces))
    if not split_after:
        return text
    out: list[str] = []
    for index, character in enumerate(text):
        out.append(character)
        if index in split_after and not (lexicon and _splits_a_word(text, index, lexicon)):
            out.append(" ")
    return "".join(out)


def _needed_gap(text: str, index: int) -> float:
    """How wide the gap after `text[index]` must be to be a space: inf where there can be none."""
    left, right = text[index], text[index + 1]
    before = text[index - 1] if index > 0 else " "
    after = text[index + 2] if index + 2 < len(text) else " "
    if right in _CLOSING:
        return float("inf")
    if right in _NUMBER_JOINERS and left.isdigit() and after.isdigit():
        return float("inf")  # "13.37", "07:15", "03/2027": the digit before the joiner
    if left in _NUMBER_JOINERS and before.isdigit() and right.isdigit():
        return float("inf")  # and the digit after it
    if left.isdigit() and right.isdigit():
        return DIGIT_ONE_GAP if "1" in (left, right) else DIGIT_GAP
    if left.isalpha() and right.isalpha():
        return LETTER_GAP
    if left.isalnum() and right.isalnum():
        return LETTER_DIGIT_GAP
    if not left.isalnum():
        return AFTER_PUNCTUATION_GAP
    return LETTER_GAP  # before an opening mark: "(", "£", "#"


def _splits_a_word(text: str, index: int, lexicon: Lexicon) -> bool:
    """Whether a space after `text[index]` would cut a known word into pieces that are not both common
    words ("costs" -> "cost s" is refused, "ofwhich" is not a word and "of which" is allowed)."""
    if not (text[index].isalpha() and index + 1 < len(text) and text[index + 1].isalpha()):
        return False
    start = index
    while start > 0 and text[start - 1].isalpha():
        start -= 1
    end = index + 1
    while end < len(text) and text[end].isalpha():
        end += 1
    run, left, right = text[start:end], text[start : index + 1], text[index + 1 : end]
    return lexicon.is_word(run) and not (lexicon.is_common_word(left) and lexicon.is_common_word(right))


@dataclass(frozen=True)
class LineInk:
    """A line's picture turned upright, as ink and blank, with where each character was read along it."""

    ink: np.ndarray
    """1 where there is ink, rows of the line's own text only (not a neighbour's descenders)."""
    centers: np.ndarray
    """x of each non-space character, in the upright line's pixels."""
    pitch: float
    """Median distance between neighbouring characters."""

    @property
    def blank(self) -> np.ndarray:
        """Per column: no ink at all."""
        return np.asarray(self.ink.sum(axis=0) == 0)


def line_ink(
    gray: np.ndarray, quad: Sequence[Sequence[float]], char_centers: Sequence[Sequence[float]]
) -> LineInk | None:
    """The line in `quad` (top-left, top-right, bottom-right, bottom-left) of a grey frame, turned upright,
    with its characters' frame positions `char_centers` carried along; None when it is too small to tell."""
    import cv2

    if len(char_centers) < _MIN_CHARACTERS:
        return None  # too few neighbours to know the pitch
    corners = np.asarray(quad, dtype=np.float32).reshape(4, 2)
    width = int(round(max(np.linalg.norm(corners[0] - corners[1]), np.linalg.norm(corners[3] - corners[2]))))
    height = int(round(max(np.linalg.norm(corners[0] - corners[3]), np.linalg.norm(corners[1] - corners[2]))))
    if width < 4 or height < 4:
        return None
    target = np.asarray([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    transform = cv2.getPerspectiveTransform(corners, target)
    crop = cv2.warpPerspective(
        gray, transform, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    ink = ink_mask(crop)
    top, bottom = _text_band(ink)
    if bottom <= top:
        return None
    points = np.asarray(char_centers, dtype=np.float32).reshape(-1, 1, 2)
    centers = cv2.perspectiveTransform(points, transform).reshape(-1, 2)[:, 0]
    pitch = float(statistics.median(np.diff(centers)))
    if pitch <= 0:
        return None
    return LineInk(ink[top:bottom], centers, pitch)


def measure_gaps(line: LineInk) -> list[float | None]:
    """The widest blank stretch between each pair of neighbouring characters, in character pitches."""
    blank = line.blank
    gaps: list[float | None] = []
    for left, right in itertools.pairwise(line.centers):
        start, end = max(int(round(left)), 0), min(int(round(right)), len(blank))
        gaps.append(_longest_run(blank[start:end]) / line.pitch if end > start else None)
    return gaps


def ink_mask(crop: np.ndarray) -> np.ndarray:
    """1 where a grey line picture has ink (dark on light), 0 elsewhere: Otsu's threshold, smoothed."""
    import cv2

    smooth = cv2.GaussianBlur(crop, (3, 3), 0)
    _, mask = cv2.threshold(smooth, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    return np.asarray(mask, dtype=np.uint8)


def _text_band(ink: np.ndarray) -> tuple[int, int]:
    """The rows of this line's text: the inked rows around the middle, not a neighbour's descenders."""
    inked = ink.sum(axis=1) > max(1, 0.02 * ink.shape[1])
    middle = ink.shape[0] // 2
    rows = np.flatnonzero(inked)
    if len(rows) == 0:
        return 0, 0
    seed = int(rows[np.argmin(np.abs(rows - middle))])
    top = seed
    while top > 0 and inked[top - 1]:
        top -= 1
    bottom = seed + 1
    while bottom < len(inked) and inked[bottom]:
        bottom += 1
    return top, bottom


def _longest_run(values: np.ndarray) -> int:
    best = run = 0
    for value in values:
        run = run + 1 if value else 0
        best = max(best, run)
    return best
