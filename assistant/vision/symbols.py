"""Currency signs the recogniser cannot read: its alphabet has no "£" and no "€".

rapidocr's bundled recogniser reads "£3.40" as "3.40" (or "f3.40"), and "€2.10" as "2.10": the sign is on
the page, but the model has no way to say it, so a price loses its currency. The sign is still in the
picture, as ink before the first digit that no recognised character accounts for. `unread_signs` finds
that ink (a blob between the character before a number and its first digit, or the left part of the
digit's blob when the two touch) and `classify_sign` tells the two signs apart by shape:

- both are open on the right in their middle rows (unlike "8", "0", "B", "S" or "$");
- "€" is a C crossed by two bars: a vertical line through its middle crosses ink four times;
- "£" stands on a flat foot: its bottom rows are inked across almost its whole width, and a vertical
  line through its middle crosses ink at most three times.

Anything else (a bracket, a hash, a smudge) is left alone. Shape alone does not tell "£" from "L", "E"
or a serifed "1" in every face; context does: the recogniser reads those itself, so ink it left unread
before a number is a sign it has no letter for. The rules were checked on the glyphs of every font
Debian's DejaVu, Liberation and FreeFont packages install (46 faces, upright and italic, regular and
bold), and on the generated labels of `tests/helpers/labels.py`.
"""

from __future__ import annotations

import numpy as np

from assistant.vision.spacing import LineInk

_MIN_HEIGHT = 0.6  # a sign is about as tall as the digits: at least this share of the text band
_ASPECT = (0.5, 1.2)  # width over height of a sign (narrower: a bracket, a "1")
_FOOT_ROWS = 0.15  # the bottom share of the glyph's rows that holds the pound sign's foot ...
_FOOT_WIDTH = 0.77  # ... inked across at least this share of its columns
_EURO_CROSSINGS = 4  # the euro sign's middle column crosses ink this many times ...
_EURO_FOOT = 0.55  # ... and its bottom arc is wider than this share (not a "#")
_OPEN_RIGHT = 0.45  # both signs are open on the right in the middle rows; "8", "0", "B", "S", "$" are not
_JOINERS = ".,:/-"


def unread_signs(line: LineInk, characters: str) -> list[tuple[int, str]]:
    """(index into `characters`, sign) for each number that starts with a sign the recogniser did not read.

    `characters` are the line's non-space characters as read, one per entry of `line.centers`.
    """
    if len(characters) != len(line.centers):
        return []
    found: list[tuple[int, str]] = []
    for index, character in enumerate(characters):
        if not character.isdigit():
            continue
        if index > 0 and (characters[index - 1].isdigit() or characters[index - 1] in _JOINERS + "£$€"):
            continue  # inside a number, or its sign was read
        glyph = _unclaimed_ink(line, index)
        if glyph is None:
            continue
        sign = classify_sign(glyph)
        if sign is not None:
            found.append((index, sign))
    return found


def _unclaimed_ink(line: LineInk, index: int) -> np.ndarray | None:
    """Ink between character `index` (a digit) and the one before it that neither can account for."""
    ink = line.ink
    columns = np.asarray(ink.any(axis=0), dtype=bool)
    digit = line.centers[index]
    start = int(round(line.centers[index - 1])) + 1 if index > 0 else 0
    end = int(round(digit))
    if end - start < line.pitch:
        return None  # no room for another character
    runs = _runs(columns, start, end)
    if not runs:
        return None
    # The run that reaches the digit's centre is the digit's own (perhaps with a sign touching it);
    # the run that starts at the previous character's centre is that character's.
    candidates: list[tuple[int, int]] = []
    for run_start, run_end in runs:
        owns_previous = index > 0 and run_start <= start
        owns_digit = run_end >= end
        if owns_digit:
            # A sign touching the digit: the part of the run further left than half a pitch before the centre.
            if digit - run_start > 1.1 * line.pitch and not owns_previous:
                candidates.append((run_start, int(round(digit - 0.5 * line.pitch))))
        elif not owns_previous:
            candidates.append((run_start, run_end))
    if not candidates:
        return None
    left, right = max(candidates, key=lambda run: run[1] - run[0])
    glyph = _trimmed(ink[:, left:right])
    if glyph is None or glyph.shape[0] < _MIN_HEIGHT * ink.shape[0]:
        return None
    return glyph


def classify_sign(glyph: np.ndarray) -> str | None:
    """ "£", "€" or None for a glyph given as a boolean image cropped to its ink."""
    height, width = glyph.shape
    if height < 6 or not _ASPECT[0] <= width / height <= _ASPECT[1]:
        return None
    middle = glyph[:, width // 2]
    crossings = int(np.count_nonzero(np.diff(middle.astype(np.int8)) == 1) + int(middle[0]))
    foot = float(glyph[int(round(height * (1 - _FOOT_ROWS))) :].any(axis=0).mean())
    # Share of the middle rows (35-75 % down) with ink in the right quarter.
    right = float(
        glyph[int(height * 0.35) : int(height * 0.75), int(round(width * 0.75)) :].any(axis=1).mean()
    )
    if right > _OPEN_RIGHT:
        return None
    if crossings >= _EURO_CROSSINGS and foot >= _EURO_FOOT:
        return "€"
    if crossings < _EURO_CROSSINGS and foot >= _FOOT_WIDTH:
        return "£"
    return None


def _runs(columns: np.ndarray, start: int, end: int) -> list[tuple[int, int]]:
    """Stretches of inked columns within [start, end)."""
    runs: list[tuple[int, int]] = []
    x = max(start, 0)
    end = min(end, len(columns))
    while x < end:
        if not columns[x]:
            x += 1
            continue
        run_start = x
        # A run goes on past `end` when the glyph does: the digit's own blob is measured whole.
        while x < len(columns) and columns[x]:
            x += 1
        runs.append((run_start, x))
    return runs


def _trimmed(ink: np.ndarray) -> np.ndarray | None:
    rows = np.flatnonzero(ink.any(axis=1))
    columns = np.flatnonzero(ink.any(axis=0))
    if len(rows) == 0 or len(columns) == 0:
        return None
    return np.asarray(ink[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1], dtype=bool)
