"""Generated printed labels with their exact text: the evaluation set for reading text (OCR).

`generate_labels()` draws 48 labels with Pillow, deterministically from a seed: medicine boxes, food
packs (with a nutrition table), till receipts, timetables, price tags, signs, letters and two-column
pages. Each comes in one of several typefaces (DejaVu, Liberation and FreeFont: Debian's
fonts-dejavu-core, fonts-liberation2 and fonts-freefont-ttf) at its own size, and most are spoiled the
way a phone photo is: blur, JPEG, sensor noise, low contrast, rotation up to 10 degrees, perspective.

Every label carries the lines a perfect reader would give, in reading order (`Label.lines`), and which
of them are rows of cells on one baseline across a gap (`Label.table_rows`: an item and its price, a
row of a timetable, "EXP 03/2027     LOT B7741"). A row's expected line is its cells joined by one
space. Nothing here was picked by looking at what the OCR gets right: the content comes from templates
filled with seeded random values.
"""

from __future__ import annotations

import io
import itertools
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from assistant.vision.image import Frame

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/truetype/liberation2"),
    Path("/usr/share/fonts/truetype/freefont"),
)
FONTS = {
    "DejaVu Sans": "DejaVuSans.ttf",
    "Liberation Serif": "LiberationSerif-Regular.ttf",
    "FreeSans": "FreeSans.ttf",
    "DejaVu Serif": "DejaVuSerif.ttf",
    "Liberation Sans": "LiberationSans-Regular.ttf",
    "DejaVu Sans Bold": "DejaVuSans-Bold.ttf",
    "FreeSerif": "FreeSerif.ttf",
    "Liberation Mono": "LiberationMono-Regular.ttf",
    "DejaVu Sans Condensed": "DejaVuSansCondensed.ttf",
    "Liberation Sans Bold": "LiberationSans-Bold.ttf",
}
FONT_PACKAGES = "fonts-dejavu-core fonts-liberation2 fonts-freefont-ttf"

KINDS = ("medicine", "food", "receipt", "timetable", "price_tag", "sign", "letter", "two_column")
PER_KIND = 6
# Spoilers, assigned in turn so that each appears on every kind of label.
DEGRADATIONS: tuple[tuple[str, ...], ...] = (
    (),
    ("blur",),
    ("jpeg",),
    ("noise",),
    ("low_contrast",),
    ("rotate",),
    ("perspective",),
    ("blur", "jpeg"),
    ("rotate", "blur"),
    ("noise", "low_contrast"),
    ("perspective", "jpeg"),
    ("rotate", "noise", "jpeg"),
)


class FontMissingError(RuntimeError):
    """A typeface the labels are drawn in is not installed."""


@dataclass(frozen=True)
class Label:
    """One generated label: the picture and what it says."""

    name: str
    kind: str
    image: Frame
    lines: tuple[str, ...]
    """The text, a line per line, in reading order; a table row is its cells joined by a space."""
    table_rows: tuple[int, ...] = ()
    """Indices into `lines` of rows whose cells share a baseline across a gap (a table, a receipt)."""
    font: str = ""
    size: int = 0
    degradations: tuple[str, ...] = ()


@dataclass
class _Cell:
    text: str
    x: float
    align: str = "left"  # "left": x is the left edge; "right": x is the right edge


@dataclass
class _Layout:
    """What to draw: rows of cells from the top, and the expected lines they make."""

    width: int
    rows: list[tuple[float, list[_Cell]]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    table_rows: list[int] = field(default_factory=list)


def font_path(name: str) -> Path:
    """The file of one of `FONTS`; FontMissingError names the Debian package when it is absent."""
    for folder in FONT_DIRS:
        path = folder / FONTS[name]
        if path.is_file():
            return path
    raise FontMissingError(f"font {name!r} ({FONTS[name]}) is not installed: apt-get install {FONT_PACKAGES}")


def generate_labels(seed: int = 0, kinds: Sequence[str] = KINDS, per_kind: int = PER_KIND) -> list[Label]:
    """The evaluation set: `per_kind` labels of each kind, the same for the same seed on any machine."""
    return [make_label(kind, index, seed) for index in range(per_kind) for kind in kinds]


def make_label(kind: str, index: int, seed: int = 0) -> Label:
    """Label number `index` of `kind` in the set drawn from `seed`."""
    kind_number = KINDS.index(kind)
    number = index * len(KINDS) + kind_number
    rng = random.Random(f"{seed}:{kind}:{index}")
    font = list(FONTS)[number % len(FONTS)]
    degradations = DEGRADATIONS[number % len(DEGRADATIONS)]
    size_low, size_high = _SIZES[kind]
    size = rng.randint(size_low, size_high)
    typeface = ImageFont.truetype(str(font_path(font)), size)
    layout = _BUILDERS[kind](rng, typeface, size)
    picture = _draw(layout, typeface, size, "low_contrast" in degradations, rng)
    picture = _spoil(picture, degradations, rng, seed * 1000 + number)
    return Label(
        name=f"{kind}-{index}",
        kind=kind,
        image=np.asarray(picture, dtype=np.uint8).copy(),
        lines=tuple(layout.lines),
        table_rows=tuple(layout.table_rows),
        font=font,
        size=size,
        degradations=degradations,
    )


# --- content -------------------------------------------------------------------------------------------

_MEDICINES = (
    ("Ibuprofen", (200, 400), "tablets"),
    ("Paracetamol", (500,), "tablets"),
    ("Amoxicillin", (250, 500), "capsules"),
    ("Cetirizine", (10,), "tablets"),
    ("Omeprazole", (20, 40), "capsules"),
    ("Loratadine", (10,), "tablets"),
    ("Aspirin", (75, 300), "tablets"),
    ("Naproxen", (250, 500), "tablets"),
)
_FOODS = (
    "Greek Style Yogurt",
    "Wholemeal Bread",
    "Tomato Soup",
    "Oat Granola",
    "Cheddar Cheese",
    "Orange Juice",
    "Chicken Curry",
    "Basmati Rice",
)
_CAFE_ITEMS = (
    "Latte",
    "Flat White",
    "Croissant",
    "Tea",
    "Cappuccino",
    "Water",
    "Scone",
    "Soup of the day",
    "Cheese toastie",
    "Orange juice",
    "Muffin",
    "Espresso",
    "Hot chocolate",
    "Bagel",
)
_SHOPS = ("CORNER CAFE", "THE GREEN GROCER", "HIGH STREET BAKERY", "STATION KIOSK")
_STREETS = ("High Street", "Mill Lane", "Station Road", "Church Street", "Park Avenue")
_TOWNS = (
    "Leeds",
    "York",
    "Derby",
    "Bristol",
    "Oxford",
    "London Kings Cross",
    "Manchester Piccadilly",
    "Sheffield",
    "Newcastle",
    "Edinburgh",
    "Cardiff Central",
    "Brighton",
)
_PRODUCE = (
    "Organic Bananas",
    "Cherry Tomatoes",
    "Free Range Eggs",
    "Semi Skimmed Milk",
    "Basmati Rice",
    "Olive Oil",
    "Dark Chocolate",
    "Fresh Basil",
)
_NAMES = ("Mr Patel", "Ms Okafor", "Mrs Jones", "Dr Nowak", "Mr Evans", "Miss Khan")
_PROSE = (
    "The library opens at 9:30 on weekdays and closes at 17:00 on Saturdays, with late opening "
    "until 20:00 on Thursdays for students and visitors.",
    "The new bus route 42 runs every 15 minutes between the hospital and the station from 06:45 "
    "in the morning, and the last bus leaves at 23:10.",
    "Tickets cost 4.50 for adults and 2.25 for children under 16, and a family pass for two adults "
    "and three children costs 12.00 for the whole day.",
    "The council voted to repair the old bridge over the river, which was built in 1887 and has been "
    "closed to cars since March, at a cost of about 2.4 million.",
    "Volunteers planted 350 trees along the canal path last winter, and another 120 will go in "
    "before the end of the year if the weather allows it.",
    "The swimming pool will be closed from 03/06/2026 to 17/06/2026 while the changing rooms are "
    "painted, and the gym stays open as usual during that time.",
    "Doctors recommend at least 150 minutes of moderate exercise a week, such as brisk walking, "
    "and strength exercises on 2 or more days.",
    "The market in the square has 64 stalls every Saturday from 8am to 3pm, selling fruit, bread, "
    "cheese, flowers and hot food.",
)


def _money(rng: random.Random, low: int, high: int) -> str:
    return f"{rng.randint(low, high) / 100:.2f}"


def _date(rng: random.Random) -> str:
    return f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(2025, 2028)}"


def _code(rng: random.Random) -> str:
    letter = rng.choice("ABCDEFHKMNPRTX")
    return f"{letter}{rng.randint(1000, 99999)}"


def _medicine(rng: random.Random, font: ImageFont.FreeTypeFont, size: int) -> _Layout:
    name, doses, form = rng.choice(_MEDICINES)
    dose = rng.choice(doses)
    count = rng.choice((12, 16, 24, 28, 30, 32))
    glued = rng.random() < 0.3  # some boxes print "500mg"
    dose_text = f"{dose}mg" if glued else f"{dose} mg"
    every = rng.choice(("4 to 6", "6", "8", "12"))
    most = rng.choice((3, 4, 6, 8))
    expiry = f"EXP {rng.randint(1, 12):02d}/{rng.randint(2026, 2029)}"
    lot = f"LOT {_code(rng)}"
    lines = [
        f"{name} {dose_text}",
        f"{count} {form}",
        f"Take 1 {form[:-1]} every {every} hours",
        f"Do not take more than {most} in 24 hours",
        rng.choice(
            ("Keep out of the reach of children", "Store below 25°C", "Store below 30°C in a dry place")
        ),
    ]
    layout = _column(lines, font, size, x=40)
    if rng.random() < 0.5:
        _add_row(layout, [expiry, lot], font, size, gap=rng.uniform(2.0, 5.0), table=True)
    else:
        for line in (expiry, lot):
            _add_row(layout, [line], font, size)
    return layout


def _food(rng: random.Random, font: ImageFont.FreeTypeFont, size: int) -> _Layout:
    food = rng.choice(_FOODS)
    weight = rng.choice(("400 g", "500 g", "250 g", "1 kg", "750 ml", "1 l"))
    kj = rng.randint(180, 1900)
    rows = [
        ("Energy", f"{kj} kJ / {round(kj / 4.184)} kcal"),
        ("Fat", f"{rng.randint(1, 250) / 10:.1f} g"),
        ("of which saturates", f"{rng.randint(1, 90) / 10:.1f} g"),
        ("Sugars", f"{rng.randint(1, 300) / 10:.1f} g"),
        ("Salt", f"{rng.randint(1, 250) / 100:.2f} g"),
    ]
    layout = _column([food, f"Net weight {weight}", "Nutrition per 100 g"], font, size, x=40)
    value_x = 40 + max(font.getlength(name) for name, _ in rows) + size * rng.uniform(2.5, 4.0)
    for name, value in rows[: rng.randint(4, 5)]:
        _add_row(layout, [name, value], font, size, x_cells=[40, value_x], table=True)
    _add_row(layout, [f"Best before {_date(rng)}"], font, size)
    _add_row(layout, [rng.choice(("Keep refrigerated below 5°C", "Store in a cool dry place"))], font, size)
    return layout


def _receipt(rng: random.Random, font: ImageFont.FreeTypeFont, size: int) -> _Layout:
    shop = rng.choice(_SHOPS)
    pound = rng.random() < 0.4  # some tills print the currency sign on every price
    items = rng.sample(_CAFE_ITEMS, rng.randint(4, 6))
    prices = [rng.randint(90, 650) for _ in items]
    layout = _column([shop, f"{rng.randint(1, 99)} {rng.choice(_STREETS)}"], font, size, x=40)
    right = (
        40
        + max(font.getlength(item) for item in items)
        + size * rng.uniform(4.0, 9.0)
        + font.getlength("00.00")
    )

    def price(pence: int) -> str:
        return f"£{pence / 100:.2f}" if pound else f"{pence / 100:.2f}"

    for item, pence in zip(items, prices, strict=True):
        _add_row(
            layout,
            [item, price(pence)],
            font,
            size,
            x_cells=[40, right],
            aligns=["left", "right"],
            table=True,
        )
    _add_row(
        layout,
        ["Total", price(sum(prices))],
        font,
        size,
        x_cells=[40, right],
        aligns=["left", "right"],
        table=True,
        skip=0.5,
    )
    _add_row(
        layout, [f"{_date(rng)} {rng.randint(7, 21):02d}:{rng.randint(0, 59):02d}"], font, size, skip=0.5
    )
    return layout


def _timetable(rng: random.Random, font: ImageFont.FreeTypeFont, size: int) -> _Layout:
    towns = rng.sample(_TOWNS, rng.randint(4, 6))
    hour = rng.randint(5, 18)
    minute = rng.randint(0, 59)
    layout = _column([rng.choice(("Departures", "Next trains", "Bus departures"))], font, size, x=40)
    time_x, town_x = 40, 40 + font.getlength("00:00") + size * rng.uniform(1.5, 3.0)
    platform_x = town_x + max(font.getlength(town) for town in towns) + size * rng.uniform(1.5, 3.0)
    header = ["Time", "Destination", "Platform"]
    _add_row(layout, header, font, size, x_cells=[time_x, town_x, platform_x], table=True)
    for town in towns:
        minute += rng.randint(4, 25)
        hour, minute = hour + minute // 60, minute % 60
        cells = [f"{hour:02d}:{minute:02d}", town, str(rng.randint(1, 12))]
        _add_row(layout, cells, font, size, x_cells=[time_x, town_x, platform_x], table=True)
    return layout


def _price_tag(rng: random.Random, font: ImageFont.FreeTypeFont, size: int) -> _Layout:
    product = rng.choice(_PRODUCE)
    now = rng.randint(50, 900)
    was = now + rng.randint(20, 300)
    lines = [product, rng.choice((f"£{now / 100:.2f}", f"Now £{now / 100:.2f} was £{was / 100:.2f}"))]
    unit = rng.choice(("per kg", "per 100 g", "per litre", "each"))
    lines.append(f"£{now * rng.randint(2, 9) / 100:.2f} {unit}")
    if rng.random() < 0.5:
        lines.append(rng.choice(("2 for £5.00", "3 for 2", "Save 25%", "Offer ends 14/09/2026")))
    lines.append(f"Code {rng.randint(100000, 999999)}")
    return _column(lines, font, size, x=40)


def _sign(rng: random.Random, font: ImageFont.FreeTypeFont, size: int) -> _Layout:
    choices = [
        [
            "CAR PARK",
            f"Open {rng.randint(6, 9)}am to {rng.randint(8, 11)}pm",
            f"Max height {rng.choice(('1.9', '2.1', '2.4'))} m",
            f"Tariff £{rng.randint(1, 4)}.{rng.choice(('00', '50'))} per hour",
        ],
        [
            "PLATFORM " + str(rng.randint(1, 12)),
            f"Trains to {rng.choice(_TOWNS)}",
            f"Next train {rng.randint(5, 22):02d}:{rng.randint(0, 59):02d}",
        ],
        ["SPEED LIMIT", f"{rng.choice((20, 30, 40))} mph", "Cameras in use"],
        [
            "SURGERY HOURS",
            f"Mon to Fri {rng.randint(7, 9)}:{rng.choice(('00', '30'))} to {rng.randint(17, 19)}:00",
            f"Sat {rng.randint(8, 10)}:00 to 12:{rng.choice(('00', '30'))}",
            f"Phone 0{rng.randint(113, 199)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
        ],
        ["NO ENTRY", f"Loading bay {rng.randint(1, 9)}", f"Clearance {rng.choice((8, 10, 12))} in"],
    ]
    return _column(rng.choice(choices), font, size, x=40)


def _letter(rng: random.Random, font: ImageFont.FreeTypeFont, size: int) -> _Layout:
    day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.randint(2025, 2027)
    hour, minute = rng.randint(8, 16), rng.choice((0, 10, 15, 20, 30, 40, 45, 50))
    body = (
        f"Your appointment is on {day:02d}/{month:02d}/{year} at {hour:02d}:{minute:02d} in room "
        f"{rng.randint(1, 40)}. Please arrive 10 minutes early and bring this letter with you."
    )
    lines = [
        f"Reference {rng.choice('ABCHKMNRX')}{rng.choice('ABCHKMNRX')}{rng.randint(1000, 9999)}",
        f"Dear {rng.choice(_NAMES)},",
        *_wrap(body, font, rng.uniform(420, 560)),
        f"To change it, call 0{rng.randint(113, 199)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}.",
        "Yours sincerely,",
    ]
    return _column(lines, font, size, x=40)


def _two_column(rng: random.Random, font: ImageFont.FreeTypeFont, size: int) -> _Layout:
    left_text, right_text = rng.sample(_PROSE, 2)
    column_width = size * rng.uniform(13.0, 16.0)
    gutter = size * rng.uniform(1.6, 3.0)
    title = (
        rng.choice(("NEWS FROM THE VALLEY", "COMMUNITY NEWSLETTER", "PARISH NOTES"))
        + f" {rng.randint(1, 52)}"
    )
    left, right = _wrap(left_text, font, column_width), _wrap(right_text, font, column_width)
    layout = _Layout(width=int(40 + 2 * column_width + gutter + 40))
    layout.rows.append((0.0, [_Cell(title, 40)]))
    layout.lines.append(title)
    step = 1.5
    top = 1.8
    for number, line in enumerate(left):
        layout.rows.append((top + number * step, [_Cell(line, 40)]))
        layout.lines.append(line)
    for number, line in enumerate(right):
        layout.rows.append((top + number * step, [_Cell(line, 40 + column_width + gutter)]))
        layout.lines.append(line)
    return layout


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and font.getlength(f"{lines[-1]} {word}") <= width:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return lines


_SIZES = {
    "medicine": (20, 34),
    "food": (18, 28),
    "receipt": (18, 26),
    "timetable": (18, 26),
    "price_tag": (24, 44),
    "sign": (28, 48),
    "letter": (17, 24),
    "two_column": (15, 20),
}
_BUILDERS: dict[str, Callable[[random.Random, ImageFont.FreeTypeFont, int], _Layout]] = {
    "medicine": _medicine,
    "food": _food,
    "receipt": _receipt,
    "timetable": _timetable,
    "price_tag": _price_tag,
    "sign": _sign,
    "letter": _letter,
    "two_column": _two_column,
}


def _column(lines: Sequence[str], font: ImageFont.FreeTypeFont, size: int, x: float) -> _Layout:
    layout = _Layout(width=0)
    for line in lines:
        _add_row(layout, [line], font, size, x_cells=[x])
    return layout


def _add_row(
    layout: _Layout,
    cells: Sequence[str],
    font: ImageFont.FreeTypeFont,
    size: int,
    x_cells: Sequence[float] | None = None,
    aligns: Sequence[str] | None = None,
    gap: float = 2.0,
    table: bool = False,
    skip: float = 0.0,
) -> None:
    """A row below the last one (in line heights); cells at `x_cells`, or `gap` line heights apart."""
    if x_cells is None:
        x_cells, x = [], 40.0
        for cell in cells:
            x_cells.append(x)
            x += font.getlength(cell) + gap * size
    aligns = aligns or ["left"] * len(cells)
    top = (layout.rows[-1][0] + 1.5 if layout.rows else 0.0) + skip
    layout.rows.append(
        (top, [_Cell(text, x, align) for text, x, align in zip(cells, x_cells, aligns, strict=True)])
    )
    if table:
        layout.table_rows.append(len(layout.lines))
    layout.lines.append(" ".join(cells))


# --- drawing and spoiling ------------------------------------------------------------------------------


def _draw(
    layout: _Layout, font: ImageFont.FreeTypeFont, size: int, low_contrast: bool, rng: random.Random
) -> Image.Image:
    margin = 40
    right = max(
        cell.x if cell.align == "right" else cell.x + font.getlength(cell.text)
        for _, cells in layout.rows
        for cell in cells
    )
    width = int(max(layout.width, right + margin))
    height = int(margin * 2 + (layout.rows[-1][0] + 1.2) * size)
    # Some padding all round, so that rotation and perspective keep the text inside the picture.
    pad = int(0.12 * max(width, height)) + 10
    paper, ink = (
        ((rng.randint(185, 205),) * 3, (rng.randint(105, 130),) * 3)
        if low_contrast
        else ((255,) * 3, (0,) * 3)
    )
    picture = Image.new("RGB", (width + 2 * pad, height + 2 * pad), paper)
    draw = ImageDraw.Draw(picture)
    for top, cells in layout.rows:
        y = pad + margin + top * size
        for cell in cells:
            x = cell.x - font.getlength(cell.text) if cell.align == "right" else cell.x
            draw.text((pad + x, y), cell.text, fill=ink, font=font)
    return picture


def _spoil(picture: Image.Image, degradations: Sequence[str], rng: random.Random, seed: int) -> Image.Image:
    paper = cast(tuple[int, ...], picture.getpixel((0, 0)))  # an RGB picture's pixel is a tuple
    if "rotate" in degradations:
        angle = rng.uniform(4.0, 10.0) * rng.choice((-1, 1))
        picture = picture.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=paper)
    if "perspective" in degradations:
        picture = _perspective(picture, rng, paper)
    if "blur" in degradations:
        picture = picture.filter(ImageFilter.GaussianBlur(rng.uniform(0.9, 1.6)))
    if "noise" in degradations:
        noise = np.random.default_rng(seed).normal(
            0.0, rng.uniform(8.0, 14.0), (picture.height, picture.width, 1)
        )
        picture = Image.fromarray(
            np.clip(np.asarray(picture, dtype=np.float64) + noise, 0, 255).astype(np.uint8)
        )
    if "jpeg" in degradations:
        buffer = io.BytesIO()
        picture.save(buffer, "JPEG", quality=rng.randint(25, 45))
        picture = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    return picture


def _perspective(picture: Image.Image, rng: random.Random, paper: tuple[int, ...]) -> Image.Image:
    """The page seen from a little to one side and above: one edge shorter than the other."""
    width, height = picture.size
    squeeze = rng.uniform(0.05, 0.10)
    corners: list[tuple[float, float]]
    if rng.random() < 0.5:  # the right edge is further away
        corners = [(0, 0), (width, height * squeeze), (width, height * (1 - squeeze)), (0, height)]
    else:  # the top edge is further away
        corners = [(width * squeeze, 0), (width * (1 - squeeze), 0), (width, height), (0, height)]
    source: list[tuple[float, float]] = [(0, 0), (width, 0), (width, height), (0, height)]
    coefficients = _perspective_coefficients(corners, source)
    return picture.transform(
        picture.size, Image.Transform.PERSPECTIVE, coefficients, Image.Resampling.BICUBIC, fillcolor=paper
    )


def _perspective_coefficients(
    target: Sequence[tuple[float, float]], source: Sequence[tuple[float, float]]
) -> tuple[float, ...]:
    """Pillow's 8 coefficients mapping output pixels (`target` corners) to input pixels (`source`)."""
    matrix = []
    for (x, y), (u, v) in zip(target, source, strict=True):
        matrix.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        matrix.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    solution = np.linalg.solve(
        np.asarray(matrix, dtype=np.float64), np.asarray(source, dtype=np.float64).reshape(8)
    )
    return tuple(float(value) for value in solution)


# --- scoring -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelScore:
    """How well one reading of a label matches its lines; counts, so that scores add up over a set."""

    numbers: int  # numeric tokens on the label ("500", "03/2027", "£3.40", "B7741")
    numbers_exact: int  # of those, read exactly
    numbers_wrong: int  # numeric tokens read that are not on the label (misreads, split or glued numbers)
    words: int
    words_found: int  # words of the label found in the reading, in order
    table_rows: int
    table_rows_kept: int  # rows read as one line, cells in order
    order_pairs: int  # consecutive lines of the label that were both found
    order_pairs_right: int  # of those, read in the right order

    def __add__(self, other: LabelScore) -> LabelScore:
        return LabelScore(*(a + b for a, b in zip(self._counts(), other._counts(), strict=True)))

    def _counts(self) -> tuple[int, ...]:
        return tuple(getattr(self, name) for name in self.__dataclass_fields__)


EMPTY_SCORE = LabelScore(0, 0, 0, 0, 0, 0, 0, 0, 0)


def tokens(line: str) -> list[str]:
    """Words and numbers as compared: split at spaces, without the punctuation that ends a clause."""
    stripped = (token.strip(".,;:!?()\"'") for token in line.split())
    return [token for token in stripped if token]


def is_numeric(token: str) -> bool:
    return any(character.isdigit() for character in token)


def score_reading(label: Label, read_lines: Sequence[str]) -> LabelScore:
    """Compare the lines a reader gave (in its order) with the label's."""
    expected_tokens = [token for line in label.lines for token in tokens(line)]
    read_line_tokens = [tokens(line) for line in read_lines]
    read_tokens = [token for line in read_line_tokens for token in line]

    expected_numbers = [token for token in expected_tokens if is_numeric(token)]
    read_numbers = [token for token in read_tokens if is_numeric(token)]
    unmatched = list(read_numbers)
    exact = 0
    for token in expected_numbers:
        if token in unmatched:
            unmatched.remove(token)
            exact += 1

    words_found = _common_subsequence([t.lower() for t in expected_tokens], [t.lower() for t in read_tokens])

    kept = sum(_row_kept(tokens(label.lines[row]), read_line_tokens) for row in label.table_rows)

    positions = [_position(tokens(line), read_line_tokens) for line in label.lines]
    pairs = [(a, b) for a, b in itertools.pairwise(positions) if a is not None and b is not None]
    return LabelScore(
        numbers=len(expected_numbers),
        numbers_exact=exact,
        numbers_wrong=len(unmatched),
        words=len(expected_tokens),
        words_found=words_found,
        table_rows=len(label.table_rows),
        table_rows_kept=kept,
        order_pairs=len(pairs),
        order_pairs_right=sum(a <= b for a, b in pairs),
    )


def _common_subsequence(first: Sequence[str], second: Sequence[str]) -> int:
    """Length of the longest common subsequence."""
    previous = [0] * (len(second) + 1)
    for a in first:
        current = [0]
        for index, b in enumerate(second):
            current.append(previous[index] + 1 if a == b else max(previous[index + 1], current[-1]))
        previous = current
    return previous[-1]


def _row_kept(row: Sequence[str], read_lines: Sequence[Sequence[str]]) -> bool:
    """One read line holds the row's first and last cells' words, in order, and most of the rest."""
    wanted = [token.lower() for token in row]
    for line in read_lines:
        got = [token.lower() for token in line]
        if (
            wanted[0] in got
            and wanted[-1] in got
            and got.index(wanted[0]) < len(got) - got[::-1].index(wanted[-1])
        ):
            if _common_subsequence(wanted, got) >= 0.75 * len(wanted):
                return True
    return False


def _position(line: Sequence[str], read_lines: Sequence[Sequence[str]]) -> int | None:
    """The read line that holds most of a label line's words (at least half of them), or None."""
    wanted = [token.lower() for token in line]
    best, best_found = None, 0
    for index, read in enumerate(read_lines):
        found = _common_subsequence(wanted, [token.lower() for token in read])
        if found > best_found:
            best, best_found = index, found
    return best if wanted and best_found * 2 >= len(wanted) else None
