"""Reading order: which pieces of text make one line, and in what order the lines are read.

The OCR detector gives a box per run of text, and a run stops at any wide gap: the item and the price of
a receipt row, the cells of a timetable and the words of a spaced-out heading come back as separate boxes.
`order_lines` puts them back together:

- **Upright first.** The page's tilt is the median slope of the long boxes (a photo of a label is rarely
  square to the camera); all geometry below is measured on the page turned upright.
- **Rows.** Boxes share a row when the centre line of one, carried along its own slope, passes through
  the other (so a slightly curved or foreshortened row still holds together). A row's boxes are read left
  to right; boxes a word apart are one piece of text.
- **Columns or a table.** Wide empty stretches that run down the page (gutters) split it into columns.
  A gutter belongs to a table (a receipt, a timetable, a nutrition panel) when most rows have text on
  both sides of it and either one side holds values (most cells start with a number) or the text does
  not flow down each side (lines that do not continue the sentence of the line above). A table is
  read row by row, each row one line ("Latte 3.40"); a page with columns of running text is read
  column by column. Lines that straddle a gutter (a title over two columns) split the page into
  sections read in turn.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

Box = tuple[int, int, int, int]
"""An axis-aligned rectangle (x0, y0, x1, y1) in frame pixels, x1 and y1 exclusive."""
Quad = tuple[tuple[float, float], tuple[float, float], tuple[float, float], tuple[float, float]]
"""A text box as the detector found it: top-left, top-right, bottom-right, bottom-left, in frame pixels."""

_SAME_ROW = 0.5  # centre lines this many (smaller) box heights apart or less are one row
_WORD_GAP = 1.2  # boxes in a row closer than this many line heights are one piece of text
_GUTTER = 1.0  # an empty x-stretch at least this many line heights wide separates columns
_PARAGRAPH_GAP = 0.9  # a vertical gap above this many line heights starts a paragraph
_GUTTER_INTRUDERS = 1  # pieces that may reach into a gutter (a heading running on past its column) ...
_MIN_LINES_FOR_INTRUDERS = 6  # ... when there are at least this many pieces to show the gutter
_MIN_TILT_ASPECT = 3.0  # only boxes this many times wider than tall say which way the page is tilted
_MIN_SLOPE_ASPECT = 6.0  # and only this long a box is trusted with its own slope (short words wobble)
_TABLE_PAIRED = 0.6  # a table has text on both sides of its gutter in at least this share of rows
_NUMERIC_SIDE = 0.5  # one side of a gutter with this share of cells starting with a digit holds values
_PAGE_FLOW = 0.5  # columns of running text continue the sentence in at least this share of line breaks


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
    unsure: bool = False
    """The recogniser was not confident of this line: say so rather than read it out as fact."""
    cells: tuple[str, ...] = ()
    """For a row of a table (cells on one baseline across a gap): the cells, left to right."""
    quad: Quad | None = None
    """The detector's box (a rotated or foreshortened rectangle), when there is one."""


@dataclass
class _Piece:
    """A line on the page turned upright: where it is, and the slope left after turning it."""

    line: TextLine
    x0: float
    x1: float
    y0: float
    y1: float
    slope: float

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def center_x(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def center_y(self) -> float:
        return (self.y0 + self.y1) / 2

    def center_y_at(self, x: float) -> float:
        return self.center_y + self.slope * (x - self.center_x)


@dataclass
class _Row:
    """Pieces on one row, left to right, joined where they are a word apart."""

    cells: list[_Piece] = field(default_factory=list)

    @property
    def y0(self) -> float:
        return min(cell.y0 for cell in self.cells)

    @property
    def center_y(self) -> float:
        return self.cells[0].center_y


def order_lines(lines: Sequence[TextLine]) -> list[TextLine]:
    """Lines in reading order: pieces of a row joined, tables read by rows, columns one after the other."""
    if not lines:
        return []
    pieces = _upright(lines)
    rows = _rows(pieces)
    cells = [cell for row in rows for cell in row.cells]
    height = statistics.median(cell.height for cell in cells)
    gutters = _find_gutters(cells, height)
    page_gutters = [gutter for gutter in gutters if not _is_table_gutter(rows, gutter)]
    if not page_gutters:
        ordered = sorted(rows, key=lambda row: (row.center_y, row.cells[0].x0))
        return [_row_line(row.cells) for row in ordered]
    return _read_columns(rows, page_gutters)


def layout_text(lines: Sequence[TextLine]) -> str:
    """Ordered lines as text: a line per line, a blank line between paragraphs and between columns."""
    return "\n\n".join("\n".join(line.text for line in paragraph) for paragraph in paragraphs(lines))


def paragraphs(lines: Sequence[TextLine]) -> list[list[TextLine]]:
    """Ordered lines grouped into paragraphs: a new one at each column, section or wide vertical gap."""
    groups: list[list[TextLine]] = []
    previous: TextLine | None = None
    for line in lines:
        if previous is None or _starts_paragraph(previous, line):
            groups.append([])
        groups[-1].append(line)
        previous = line
    return groups


def page_tilt(lines: Sequence[TextLine]) -> float:
    """The page's tilt in radians (positive: text rises to the left), from the long detector boxes."""
    angles: list[float] = []
    weights: list[float] = []
    for line in lines:
        if line.quad is None:
            continue
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = line.quad
        width = math.hypot(x1 - x0, y1 - y0)
        height = math.hypot(x3 - x0, y3 - y0)
        if width < _MIN_TILT_ASPECT * height:
            continue
        angles.append(math.atan2((y1 - y0) + (y2 - y3), (x1 - x0) + (x2 - x3)))
        weights.append(width)
    if not angles:
        return 0.0
    order = np.argsort(angles)
    cumulative = np.cumsum(np.asarray(weights)[order])
    return float(np.asarray(angles)[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def _upright(lines: Sequence[TextLine]) -> list[_Piece]:
    tilt = page_tilt(lines)
    cos, sin = math.cos(-tilt), math.sin(-tilt)
    pieces: list[_Piece] = []
    for line in lines:
        corners = line.quad or (
            (line.box[0], line.box[1]),
            (line.box[2], line.box[1]),
            (line.box[2], line.box[3]),
            (line.box[0], line.box[3]),
        )
        turned = [(x * cos - y * sin, x * sin + y * cos) for x, y in corners]
        xs = [x for x, _ in turned]
        ys = [y for _, y in turned]
        (tl, tr, br, bl) = turned
        run = (tr[0] - tl[0]) + (br[0] - bl[0])
        slope = ((tr[1] - tl[1]) + (br[1] - bl[1])) / run if run > 0 else 0.0
        # Height from the box's sides, not its bounding box, which grows with any slope left over.
        height = (math.hypot(bl[0] - tl[0], bl[1] - tl[1]) + math.hypot(br[0] - tr[0], br[1] - tr[1])) / 2
        center_y = sum(ys) / 4
        pieces.append(_Piece(line, min(xs), max(xs), center_y - height / 2, center_y + height / 2, slope))
    # The box's own slope is trusted only for long boxes. A short one ("4", "£2.10") takes the slope
    # interpolated between the long boxes above and below it: on a page seen at an angle the slope
    # changes down the page.
    long = sorted(
        (piece for piece in pieces if piece.x1 - piece.x0 >= _MIN_SLOPE_ASPECT * piece.height),
        key=lambda piece: piece.center_y,
    )
    for piece in pieces:
        if piece.x1 - piece.x0 < _MIN_SLOPE_ASPECT * piece.height:
            piece.slope = _slope_at(long, piece.center_y)
    return pieces


def _slope_at(long: Sequence[_Piece], y: float) -> float:
    """The slope at height `y`, interpolated between the long pieces (sorted by height) around it."""
    above = [piece for piece in long if piece.center_y <= y]
    below = [piece for piece in long if piece.center_y > y]
    if above and below:
        top, bottom = above[-1], below[0]
        share = (y - top.center_y) / (bottom.center_y - top.center_y)
        return top.slope + share * (bottom.slope - top.slope)
    if above or below:
        return (above or below)[-1 if above else 0].slope
    return 0.0


def _same_row(left: _Piece, right: _Piece) -> bool:
    """Whether two pieces, `left` starting further left, sit on one row."""
    height = min(left.height, right.height)
    if height <= 0 or right.x0 < left.x1 - 0.5 * height:
        return False  # overlapping in x: one above the other, not side by side
    # Carry the longer piece's centre line to the other's centre.
    guide, other = (left, right) if left.x1 - left.x0 >= right.x1 - right.x0 else (right, left)
    return abs(guide.center_y_at(other.center_x) - other.center_y) <= _SAME_ROW * height


def _rows(pieces: Sequence[_Piece]) -> list[_Row]:
    """Pieces grouped into rows, each left to right."""
    rows: list[_Row] = []
    for piece in sorted(pieces, key=lambda item: item.x0):
        candidates = [row for row in rows if _same_row(row.cells[-1], piece)]
        if candidates:
            best = min(
                candidates, key=lambda row: abs(row.cells[-1].center_y_at(piece.center_x) - piece.center_y)
            )
            best.cells.append(piece)
        else:
            rows.append(_Row([piece]))
    for row in rows:
        row.cells = _join_words(row.cells)
    return rows


def _join_words(cells: Sequence[_Piece]) -> list[_Piece]:
    """Neighbouring pieces of a row that are a word apart are one piece of text."""
    joined: list[_Piece] = []
    for cell in cells:
        if joined:
            last = joined[-1]
            line_height = max(last.height, cell.height)
            if cell.x0 - last.x1 <= _WORD_GAP * line_height:
                joined[-1] = _merge_pieces([last, cell], " ")
                continue
        joined.append(cell)
    return joined


def _merge_pieces(pieces: Sequence[_Piece], separator: str, as_cells: bool = False) -> _Piece:
    lines = [piece.line for piece in pieces]
    weight = sum(len(line.text) for line in lines)
    confidence = sum(line.confidence * len(line.text) for line in lines) / max(weight, 1)
    box = (
        min(line.box[0] for line in lines),
        min(line.box[1] for line in lines),
        max(line.box[2] for line in lines),
        max(line.box[3] for line in lines),
    )
    merged = TextLine(
        separator.join(line.text for line in lines),
        box,
        confidence,
        unsure=any(line.unsure for line in lines),
        cells=tuple(line.text for line in lines) if as_cells else (),
    )
    widest = max(pieces, key=lambda piece: piece.x1 - piece.x0)
    return _Piece(
        merged,
        min(piece.x0 for piece in pieces),
        max(piece.x1 for piece in pieces),
        min(piece.y0 for piece in pieces),
        max(piece.y1 for piece in pieces),
        widest.slope,
    )


def _row_line(cells: Sequence[_Piece]) -> TextLine:
    if len(cells) == 1:
        return cells[0].line
    return _merge_pieces(cells, " ", as_cells=True).line


def _find_gutters(cells: Sequence[_Piece], height: float) -> list[tuple[float, float]]:
    """Empty x-stretches between columns, found from the pieces that fit within one column.

    One piece may reach into a gutter (a heading that runs on past its column); a gutter must have
    text on both sides of it.
    """
    left = math.floor(min(cell.x0 for cell in cells))
    right = math.ceil(max(cell.x1 for cell in cells))
    # Pieces wider than most of the text area are titles or single-column text: they cannot show gutters.
    narrow = [cell for cell in cells if cell.x1 - cell.x0 < 0.6 * (right - left)]
    if len(narrow) < 2:
        return []
    coverage = np.zeros(right - left + 1, dtype=int)
    for cell in narrow:
        coverage[math.floor(cell.x0) - left : math.ceil(cell.x1) - left] += 1
    allowed = _GUTTER_INTRUDERS if len(narrow) >= _MIN_LINES_FOR_INTRUDERS else 0
    start = math.floor(min(cell.x0 for cell in narrow)) - left
    end = math.ceil(max(cell.x1 for cell in narrow)) - left
    gutters: list[tuple[float, float]] = []
    x = start
    while x < end:
        if coverage[x] > allowed:
            x += 1
            continue
        gap_start = x
        while x < end and coverage[x] <= allowed:
            x += 1
        g0, g1 = gap_start + left, x + left
        has_sides = sum(cell.x1 <= g0 for cell in narrow) >= 2 and sum(cell.x0 >= g1 for cell in narrow) >= 2
        if x - gap_start >= _GUTTER * height and has_sides:
            gutters.append((g0, g1))
    return gutters


def _is_table_gutter(rows: Sequence[_Row], gutter: tuple[float, float]) -> bool:
    """Whether a gutter separates the cells of table rows rather than two columns of running text."""
    g0, g1 = gutter
    left: list[_Piece] = []
    right: list[_Piece] = []
    paired = 0
    for row in rows:
        if any(cell.x0 < g0 and cell.x1 > g1 for cell in row.cells):
            continue  # a line across the gutter belongs to neither side
        row_left = [cell for cell in row.cells if cell.center_x < g0]
        row_right = [cell for cell in row.cells if cell.center_x > g1]
        left.extend(row_left)
        right.extend(row_right)
        paired += bool(row_left and row_right)
    sides = min(len(left), len(right))
    if sides == 0 or paired < _TABLE_PAIRED * sides:
        return False
    return _mostly_numbers(left) or _mostly_numbers(right) or not (_flows(left) and _flows(right))


def _mostly_numbers(cells: Sequence[_Piece]) -> bool:
    """Whether most cells on one side start with a number (prices, times, amounts): a table's values."""
    starts = [cell.line.text.lstrip("£$€#(-+")[:1] for cell in cells]
    return sum(start.isdigit() for start in starts) >= _NUMERIC_SIDE * len(starts)


def _flows(cells: Sequence[_Piece]) -> bool:
    """Whether a column reads as running text: a line break usually falls inside a sentence."""
    ordered = sorted(cells, key=lambda cell: cell.center_y)
    if len(ordered) < 2:
        return False
    continued = sum(
        _continues(above.line.text, below.line.text) for above, below in itertools.pairwise(ordered)
    )
    return continued >= _PAGE_FLOW * (len(ordered) - 1)


def _continues(above: str, below: str) -> bool:
    """A line that carries on the sentence of the line above: "brown fox" / "jumps over"."""
    if not above or not below:
        return False
    if below[0].islower():
        return True
    # A line of several words that stops without a full stop goes on below ("... at 9:30 on" / "17:00 ...").
    return len(above.split()) >= 3 and above[-1] not in ".!?:"


def _read_columns(rows: Sequence[_Row], gutters: Sequence[tuple[float, float]]) -> list[TextLine]:
    """Columns of running text, each top to bottom, in sections split by lines that straddle a gutter."""
    pieces: list[_Piece] = []
    for row in rows:
        pieces.extend(_cells_between_gutters(row.cells, gutters))
    spanning = sorted(
        (piece for piece in pieces if any(piece.x0 < g0 and piece.x1 > g1 for g0, g1 in gutters)),
        key=lambda piece: piece.center_y,
    )
    ordered: list[TextLine] = []
    boundaries: list[_Piece | None] = [*spanning, None]
    previous_center = -math.inf
    section = 0
    for boundary in boundaries:
        center = math.inf if boundary is None else boundary.center_y
        members = [
            piece for piece in pieces if piece not in spanning and previous_center <= piece.center_y < center
        ]
        columns = _split_columns(members, gutters)
        for column, column_pieces in enumerate(columns):
            column_pieces.sort(key=lambda piece: (piece.center_y, piece.x0))
            ordered.extend(_placed(piece.line, column, section) for piece in column_pieces)
        section += 1 if columns else 0
        if boundary is not None:
            ordered.append(_placed(boundary.line, 0, section))
            section += 1
        previous_center = center
    return ordered


def _cells_between_gutters(cells: Sequence[_Piece], gutters: Sequence[tuple[float, float]]) -> list[_Piece]:
    """A row's cells joined into one piece per column (cells between the same two gutters)."""
    groups: list[list[_Piece]] = []
    previous_index = -1
    for cell in cells:
        index = sum(1 for g0, _ in gutters if cell.center_x > g0)
        if groups and index == previous_index:
            groups[-1].append(cell)
        else:
            groups.append([cell])
        previous_index = index
    return [group[0] if len(group) == 1 else _merge_pieces(group, " ", as_cells=True) for group in groups]


def _split_columns(pieces: Sequence[_Piece], gutters: Sequence[tuple[float, float]]) -> list[list[_Piece]]:
    columns: list[list[_Piece]] = [[] for _ in range(len(gutters) + 1)]
    for piece in pieces:
        index = sum(1 for g0, _ in gutters if piece.center_x > g0)
        columns[index].append(piece)
    return [column for column in columns if column]


def _placed(line: TextLine, column: int, section: int) -> TextLine:
    return dataclasses.replace(line, column=column, section=section)


def _starts_paragraph(previous: TextLine, line: TextLine) -> bool:
    if line.section != previous.section or line.column != previous.column:
        return True
    gap = line.box[1] - previous.box[3]
    height = min(line.box[3] - line.box[1], previous.box[3] - previous.box[1])
    return gap > _PARAGRAPH_GAP * height
