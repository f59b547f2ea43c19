"""Text reading: real rapidocr models on text rendered with DejaVu fonts, and on the evaluation photos;
the repair rules (spaces, numbers, currency signs, layout) and the spoken form as unit tests.

The rendered pages reproduce the faults of rapidocr's bundled models that `assistant.vision.ocr`
repairs: words and numbers run together ("Keepoutofreach", "EXP03/2027") and two columns read row by
row. `tests/test_ocr_labels.py` reads generated labels with their exact text.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from assistant.vision.image import Frame, load_image
from assistant.vision.numbers import is_numeric_token, missing_dose, repair_line
from assistant.vision.ocr import (
    RapidOcrReader,
    ReadResult,
    TextLine,
    layout_text,
    load_text_reader,
    order_lines,
    x_height,
)
from assistant.vision.spacing import restore_spaces
from assistant.vision.symbols import classify_sign
from assistant.vision.words import WordSegmenter, load_word_segmenter
from assistant.voice.spoken import spoken_form

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
SANS = FONT_DIR / "DejaVuSans.ttf"
SERIF = FONT_DIR / "DejaVuSerif.ttf"

LABEL = [
    "IBUPROFEN 200 mg tablets",
    "Keep out of reach of children.",
    "Take 1 tablet every 4 to 6 hours.",
    "Do not exceed 6 tablets in 24 hours.",
    "Store at room temperature.",
]
SIGN = ["EXIT", "No parking 8am to 6pm"]
WINDOW = [
    "Invoice number 4711",
    "Payment is due within thirty days.",
    "Please transfer the total amount",
    "to the account shown below.",
    "Thank you for your order.",
]
LEFT_COLUMN = ["The quick brown fox", "jumps over the lazy", "dog near the river."]
RIGHT_COLUMN = ["Meanwhile the city", "council voted to", "repair the old bridge."]


@pytest.fixture(scope="module")
def reader() -> RapidOcrReader:
    return load_text_reader()


@pytest.fixture(scope="module")
def segmenter() -> WordSegmenter:
    return load_word_segmenter()


def render(blocks: list[tuple[int, int, list[str]]], font: Path = SANS, size: int = 24) -> Frame:
    """A white 640x480 page with each block of lines drawn in black from its (x, y)."""
    if not font.is_file():
        pytest.skip(f"{font} is absent: install the Debian package fonts-dejavu-core")
    from PIL import Image, ImageDraw, ImageFont

    page = Image.new("RGB", (640, 480), "white")
    draw = ImageDraw.Draw(page)
    typeface = ImageFont.truetype(str(font), size)
    for x, y, lines in blocks:
        for index, line in enumerate(lines):
            draw.text((x, y + index * round(size * 1.5)), line, fill="black", font=typeface)
    return np.asarray(page, dtype=np.uint8).copy()


def render_window(
    lines: list[str], size: int, page: tuple[int, int] = (800, 500), dark: bool = False
) -> Frame:
    """A window of text as a screen shows it: lines of `size`-pixel DejaVu Sans, dark on light (or light
    on dark), crisp and upright."""
    if not SANS.is_file():
        pytest.skip(f"{SANS} is absent: install the Debian package fonts-dejavu-core")
    from PIL import Image, ImageDraw, ImageFont

    ink, paper = ("#e8e8e8", "#202124") if dark else ("#202124", "white")
    window = Image.new("RGB", page, paper)
    draw = ImageDraw.Draw(window)
    typeface = ImageFont.truetype(str(SANS), size)
    for index, line in enumerate(lines):
        draw.text((24, 20 + index * round(size * 1.6)), line, fill=ink, font=typeface)
    return np.asarray(window, dtype=np.uint8).copy()


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def word_accuracy(expected: list[str], text: str) -> float:
    """Fraction of the expected words found, in order (a longest common subsequence)."""
    want, got = words(" ".join(expected)), words(text)
    table = [[0] * (len(got) + 1) for _ in range(len(want) + 1)]
    for i, a in enumerate(want):
        for j, b in enumerate(got):
            table[i + 1][j + 1] = table[i][j] + 1 if a == b else max(table[i][j + 1], table[i + 1][j])
    return table[-1][-1] / len(want)


def test_medicine_label_is_read_word_for_word_with_spaces(reader: RapidOcrReader) -> None:
    result = reader.read(render([(30, 30, LABEL)]))

    assert result.has_text
    assert word_accuracy(LABEL, result.text) >= 0.9, result.text
    assert "Keep out of reach of children" in result.text
    assert len(result.lines) == len(LABEL)


def test_serif_label_words_are_spaced(reader: RapidOcrReader) -> None:
    result = reader.read(render([(30, 30, LABEL)], font=SERIF, size=22))

    assert word_accuracy(LABEL, result.text) >= 0.9, result.text


def test_sign_keeps_times_with_their_numbers(reader: RapidOcrReader) -> None:
    result = reader.read(render([(30, 40, SIGN)], size=40))

    assert result.text.splitlines() == SIGN


def test_two_columns_are_read_one_after_the_other(reader: RapidOcrReader) -> None:
    result = reader.read(render([(20, 30, LEFT_COLUMN), (340, 30, RIGHT_COLUMN)], size=20))

    assert word_accuracy(LEFT_COLUMN + RIGHT_COLUMN, result.text) >= 0.9, result.text
    left, _, right = result.text.partition("\n\n")
    assert word_accuracy(LEFT_COLUMN, left) >= 0.9, result.text
    assert word_accuracy(RIGHT_COLUMN, right) >= 0.9, result.text
    assert [line.column for line in result.lines] == [0, 0, 0, 1, 1, 1]


def test_title_over_two_columns_is_read_first_and_alone(reader: RapidOcrReader) -> None:
    title = "LOCAL NEWS FROM THE VALLEY"
    page = render([(20, 70, LEFT_COLUMN), (340, 70, RIGHT_COLUMN)], size=20)
    page[:] = np.minimum(page, render([(20, 20, [title])], size=26))

    paragraphs = reader.read(page).text.split("\n\n")

    assert len(paragraphs) == 3, paragraphs
    assert word_accuracy([title], paragraphs[0]) >= 0.9
    assert word_accuracy(LEFT_COLUMN, paragraphs[1]) >= 0.9
    assert word_accuracy(RIGHT_COLUMN, paragraphs[2]) >= 0.9


def test_a_window_is_handed_over_first_line_first_then_the_rest(reader: RapidOcrReader) -> None:
    frame = render_window(WINDOW, 24)
    handed: list[list[TextLine]] = []
    result = reader.read_screen(frame, handed.append)
    assert [line.text for line in handed[0]] == ["Invoice number 4711"]  # said while the rest is read
    assert len(handed) == 2 and handed[0] + handed[1] == result.lines
    assert word_accuracy(WINDOW, result.text) == 1.0
    assert word_accuracy(WINDOW, reader.read(frame).text) == 1.0  # as a photo's reading gives it


@pytest.mark.parametrize(("size", "dark"), [(12, False), (13, True), (40, False)])
def test_small_large_and_dark_screen_text_keeps_every_word(
    reader: RapidOcrReader, size: int, dark: bool
) -> None:
    # The detector sees a copy shrunk by the text's size: large text on a small copy, small text whole.
    lines = WINDOW[:3] if size > 30 else WINDOW
    result = reader.read_screen(render_window(lines, size, dark=dark))
    assert word_accuracy(lines, result.text) >= 0.95, result.text


@pytest.mark.parametrize("size", [11, 16, 24, 40])
def test_screen_text_size_is_measured_from_its_ink(size: int) -> None:
    light = x_height(render_window(WINDOW, size)[:, :, 0])
    dark = x_height(render_window(WINDOW, size, dark=True)[:, :, 0])
    assert 0.45 * size <= light <= 0.65 * size
    assert abs(dark - light) <= 1.0


def test_reading_a_screen_says_its_first_line_before_the_rest(reader: RapidOcrReader) -> None:
    from assistant.session import Session

    said: list[str] = []
    frame = render_window(["Total 12 kg", *WINDOW[1:3]], 24)
    result = Session(load_reader=lambda: reader).read(frame, "a window", on_sentence=said.append, screen=True)
    assert said[0] == "Total 12 kilograms"  # in words, as the whole text is said
    assert len(said) == 2 and "thirty days" in said[1]
    assert result.spoken and result.text.startswith("Total 12 kg")  # shown as printed, not said again


def test_a_window_without_text_hands_over_nothing(reader: RapidOcrReader) -> None:
    handed: list[list[TextLine]] = []
    result = reader.read_screen(render_window([], 16), handed.append)
    assert not result.has_text and handed == []


@pytest.mark.parametrize("name", ["skimage_chelsea.png", "skimage_coffee.png", "skimage_astronaut.png"])
def test_photos_without_text_read_as_no_text(reader: RapidOcrReader, test_data: Path, name: str) -> None:
    result = reader.read(load_image(test_data / "images" / name))

    assert not result.has_text, result.text
    assert result.lines == []


def test_blank_page_has_no_text(reader: RapidOcrReader) -> None:
    result = reader.read(np.full((480, 640, 3), 255, dtype=np.uint8))

    assert not result.has_text
    assert result.text == ""


def test_reader_rejects_a_frame_that_is_not_rgb(reader: RapidOcrReader) -> None:
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        reader.read(np.zeros((48, 64), dtype=np.uint8))


@pytest.mark.parametrize(
    ("ocr", "expected"),
    [
        ("Keepoutofreachofchildren.", "Keep out of reach of children."),
        ("Take1 tabletevery 4 to6hours.", "Take 1 tablet every 4 to 6 hours."),
        ("Donotexceed6tabletsin24hours.", "Do not exceed 6 tablets in 24 hours."),
        ("IBUPROFEN200mg", "IBUPROFEN 200mg"),
        ("KEEPOUTOFREACH", "KEEP OUT OF REACH"),
        ("tablets,take", "tablets, take"),
        ("hours.Take", "hours. Take"),
    ],
)
def test_missing_spaces_are_restored(segmenter: WordSegmenter, ocr: str, expected: str) -> None:
    assert segmenter.fix_spacing(ocr) == expected


@pytest.mark.parametrize(
    "text",
    [
        "No parking 8am to 6pm",
        "therapist together Meanwhile",
        "Nurofen Tylenol Advil",
        "3.5 mg 10x 4K 21st MP3 B12",
        "https://nhs.uk/medicines www.example.com/keepout info@pharmacy.com",
        "e.g. U.S. 8:30",
    ],
)
def test_words_numbers_and_addresses_are_left_alone(segmenter: WordSegmenter, text: str) -> None:
    assert segmenter.fix_spacing(text) == text


def test_words_on_one_row_are_merged_in_x_order() -> None:
    boxes = [
        TextLine("reach", (200, 10, 260, 30), 0.9),
        TextLine("Keep", (10, 11, 60, 30), 0.9),
        TextLine("out of", (70, 10, 190, 31), 0.9),
    ]

    lines = order_lines(boxes)

    assert [line.text for line in lines] == ["Keep out of reach"]
    assert lines[0].box == (10, 10, 260, 31)


def test_paragraph_gap_becomes_a_blank_line() -> None:
    lines = [
        TextLine("First paragraph", (10, 10, 200, 30), 0.9),
        TextLine("ends here.", (10, 35, 150, 55), 0.9),
        TextLine("Second one.", (10, 100, 160, 120), 0.9),
    ]

    assert layout_text(order_lines(lines)) == "First paragraph\nends here.\n\nSecond one."


# --- numbers, spaces and signs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ocr", "expected"),
    [
        ("Ibuprofen 2oo mg", "Ibuprofen 200 mg"),  # o for 0 after a digit
        ("least 15o minutes", "least 150 minutes"),
        ("Tariff f2.o0 per hour", "Tariff £2.00 per hour"),  # "£" read as "f", "o" between digits
        ("O7:15", "07:15"),  # a leading look-alike only where the whole is then a time or a date
        ("EXPO3/2027", "EXP 03/2027"),
        ("EXP03/2027", "EXP 03/2027"),
        ("LOTB7741", "LOT B7741"),  # the code's letter stays a letter
        ("Lot T3214", "Lot T3214"),
        ("17/10/202609:41", "17/10/2026 09:41"),
        ("1O5", "105"),
        ("Paracetamol soo mg", "Paracetamol 500 mg"),  # an amount before a dose unit
        ("Reference Ak2159", "Reference AK2159"),  # a code's small letter that looks like its capital
        ("painted，and", "painted,and"),  # the recogniser's full-width comma
        ("below 5℃", "below 5°C"),  # its one-character degree Celsius
        ("below 5°℃", "below 5°C"),  # and the degree sign read twice
    ],
)
def test_numbers_are_repaired_in_numeric_context(ocr: str, expected: str) -> None:
    assert repair_line(ocr) == expected


@pytest.mark.parametrize(
    "text",
    [
        "B7741",
        "MP3 B12 A4",
        "A5S",
        "10B",
        "1.5l",
        "5S",
        "Oslo SOLD OUT",
        "Lottery2",
        "so good",
        "3rd 8am 2oz",
        "II",
    ],
)
def test_letters_outside_numbers_are_left_alone(text: str) -> None:
    assert repair_line(text) == text


def test_numbers_and_codes_are_numeric_tokens_and_words_are_not() -> None:
    assert all(is_numeric_token(token) for token in ["2oo", "O7:15", "3.40", "25%", "03/2027", "B7741"])
    assert not any(is_numeric_token(token) for token in ["Oslo", "mg", "EXP03/2027", "£3.40x"])


def test_a_dose_unit_after_something_that_is_not_a_number_is_a_missing_dose() -> None:
    assert missing_dose("Paracetamol Sog mg")
    assert not missing_dose("Paracetamol 500 mg")
    assert not missing_dose("Take 2 in the morning")


@pytest.mark.parametrize(
    ("ocr", "expected"),
    [
        ("Ibuprofen2oo mg", "Ibuprofen 2oo mg"),  # the number stays whole; `repair_line` reads it as 200
        ("2oo", "2oo"),
        ("inr0om", "in room"),  # a digit read for a letter inside a word
        ("r0om", "room"),
    ],
)
def test_word_segmenter_never_splits_a_number(segmenter: WordSegmenter, ocr: str, expected: str) -> None:
    assert segmenter.fix_spacing(ocr) == expected


def gaps_between(text: str, wide: dict[int, float], narrow: float = 0.1) -> list[float | None]:
    """Gaps for each pair of neighbouring non-space characters: `narrow`, or `wide[i]` after the i-th."""
    count = len(text.replace(" ", ""))
    return [wide.get(index, narrow) for index in range(count - 1)]


@pytest.mark.parametrize(
    ("text", "wide", "expected"),
    [
        ("EXP03/2027", {2: 0.5}, "EXP 03/2027"),  # letter then digit: 0.38 of a pitch is a space
        ("LOTB7741", {2: 0.5}, "LOT B7741"),
        ("500mg", {2: 0.5}, "500 mg"),
        ("500mg", {}, "500mg"),  # no gap on the page: printed glued, read glued
        ("01317629397", {3: 0.7, 6: 0.5}, "0131 762 9397"),  # 0.66 next to a "1"
        ("13.37", {0: 0.6, 1: 0.9, 2: 0.9}, "13.37"),  # never inside a number
        ("15", {0: 0.6}, "15"),  # a "1" stands in a wide cell: 0.66 needed next to it
        ("10:12", {2: 0.9}, "10:12"),
        ("16.Please", {2: 0.6}, "16. Please"),
        ("hours.", {4: 0.9}, "hours."),  # never before closing punctuation
    ],
)
def test_spaces_come_back_where_the_page_has_a_gap(text: str, wide: dict[int, float], expected: str) -> None:
    assert restore_spaces(text, gaps_between(text, wide)) == expected


@pytest.mark.parametrize(
    ("text", "wide", "expected"),
    [
        # a phone number's groups are spaced alike: the gap before "1688" is the gap before "844"
        ("01228441688", {3: 0.63, 6: 0.63}, "0122 844 1688"),
        ("01228441688", {3: 0.63, 6: 0.5}, "0122 8441688"),  # narrower than the line's digit space
        ("15 20", {0: 0.6}, "15 20"),  # no space between other digits to compare with: a "1" in a cell
        ("01147231802", {1: 0.54, 3: 0.54, 6: 0.62}, "0114 723 1802"),  # two ones: twice a one's blank
    ],
)
def test_a_gap_next_to_a_one_is_a_space_when_as_wide_as_the_lines_digit_spaces(
    text: str, wide: dict[int, float], expected: str
) -> None:
    assert restore_spaces(text, gaps_between(text, wide)) == expected


def test_a_gap_does_not_cut_a_known_word_into_pieces_that_are_not_words(segmenter: WordSegmenter) -> None:
    # "costs" in a monospaced font can show a wide gap before its "s"; "ofwhich" is two words.
    assert restore_spaces("costs", gaps_between("costs", {3: 0.6}), segmenter) == "costs"
    assert restore_spaces("ofwhich", gaps_between("ofwhich", {1: 0.6}), segmenter) == "of which"


def test_gaps_that_do_not_belong_to_the_text_change_nothing() -> None:
    assert restore_spaces("EXP03/2027", [0.9]) == "EXP03/2027"


def glyph(character: str, font: Path, size: int = 40) -> np.ndarray:
    """A character as a boolean image cropped to its ink."""
    from PIL import Image, ImageDraw, ImageFont

    if not font.is_file():
        pytest.skip(f"{font} is absent: install the Debian package fonts-dejavu-core")
    picture = Image.new("L", (size * 2, size * 2), 0)
    ImageDraw.Draw(picture).text(
        (size // 2, size // 2), character, fill=255, font=ImageFont.truetype(str(font), size)
    )
    ink = np.asarray(picture) > 128
    rows, columns = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return ink[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]


@pytest.mark.parametrize(
    "font", [SANS, SERIF, FONT_DIR / "DejaVuSans-Bold.ttf", FONT_DIR / "DejaVuSerif-Italic.ttf"]
)
def test_unread_currency_signs_are_told_apart_by_shape(font: Path) -> None:
    assert classify_sign(glyph("£", font)) == "£"
    assert classify_sign(glyph("€", font)) == "€"
    # Shapes a sign is not; "L", "E" or a serifed "1" can look like "£", but the recogniser reads those.
    assert [classify_sign(glyph(other, font)) for other in "(8#0OBS$69"] == [None] * 10


# --- layout ---------------------------------------------------------------------------------------------


def test_receipt_rows_share_a_baseline_across_the_gap_and_stay_one_line() -> None:
    items = ["Latte", "Croissant", "Orange juice", "Total"]
    prices = ["3.40", "2.10", "1.95", "7.45"]
    boxes = [
        TextLine(item, (20, 20 + 30 * i, 20 + 12 * len(item), 40 + 30 * i), 0.9)
        for i, item in enumerate(items)
    ]
    boxes += [TextLine(price, (300, 21 + 30 * i, 345, 41 + 30 * i), 0.9) for i, price in enumerate(prices)]

    lines = order_lines(boxes)

    assert [line.text for line in lines] == [
        "Latte 3.40",
        "Croissant 2.10",
        "Orange juice 1.95",
        "Total 7.45",
    ]
    assert lines[0].cells == ("Latte", "3.40")


def test_tilted_rows_are_joined_along_their_slope() -> None:
    """A receipt turned by 8 degrees: the price sits a whole line lower than its item's left edge."""
    angle = np.radians(8)

    def turned(text: str, x: float, y: float, width: float) -> TextLine:
        corners = [(x, y), (x + width, y), (x + width, y + 20), (x, y + 20)]
        quad = tuple(
            (cx * np.cos(angle) - cy * np.sin(angle), cx * np.sin(angle) + cy * np.cos(angle))
            for cx, cy in corners
        )
        xs, ys = [p[0] for p in quad], [p[1] for p in quad]
        box = (int(min(xs)), int(min(ys)), int(max(xs)) + 1, int(max(ys)) + 1)
        return TextLine(text, box, 0.9, quad=quad)  # type: ignore[arg-type]  # four corners

    boxes = [turned("Cheese toastie with salad", 20, 20 + 30 * i, 260) for i in range(3)]
    boxes += [turned(f"{i + 2}.50", 420, 20 + 30 * i, 45) for i in range(3)]

    assert [line.text for line in order_lines(boxes)] == [
        f"Cheese toastie with salad {i + 2}.50" for i in range(3)
    ]


def test_columns_of_running_text_are_not_taken_for_a_table() -> None:
    left = ["The council voted to", "repair the old bridge", "over the river, which", "was built in 1887."]
    right = [
        "Volunteers planted 350",
        "trees along the canal",
        "path last winter, and",
        "another 120 will go in.",
    ]
    boxes = [TextLine(text, (20, 20 + 30 * i, 250, 40 + 30 * i), 0.9) for i, text in enumerate(left)]
    boxes += [TextLine(text, (300, 20 + 30 * i, 540, 40 + 30 * i), 0.9) for i, text in enumerate(right)]

    lines = order_lines(boxes)

    assert [line.text for line in lines] == left + right
    assert [line.column for line in lines] == [0] * 4 + [1] * 4


# --- what is said ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("Ibuprofen 500 mg", "Ibuprofen 500 milligrams"),
        ("500mg", "500 milligrams"),
        ("1 mg", "1 milligram"),
        ("Vitamin D 10 µg", "Vitamin D 10 micrograms"),
        ("10 mcg 400 IU", "10 micrograms 400 international units"),
        ("5 ml 1 l 250 g 2 kg", "5 millilitres 1 litre 250 grams 2 kilograms"),
        ("Save 25%", "Save 25 percent"),
        ("Store below 25°C", "Store below 25 degrees Celsius"),
        ("2 km 30 cm 4 mm", "2 kilometres 30 centimetres 4 millimetres"),
        ("Screen 8 in", "Screen 8 inches"),
        ("8in x 10in", "8 inches x 10 inches"),
        ("Latte £3.40", "Latte 3 pounds 40"),
        ("$3.40 €3.40", "3 dollars 40 3 euros 40"),
        ("£1.00 £0.99 £12 £3.05", "1 pound 99 pence 12 pounds 3 pounds 5"),
        ("Departs 07:15", "Departs 7 15"),
        ("12:00 09:05", "12 o'clock 9 oh 5"),
        ("Open 9am to 5:30pm", "Open 9 a.m. to 5 30 p.m."),
        ("EXP 03/2027", "EXP March 2027"),
        ("Best before 12/05/2026", "Best before 12 May 2026"),
        ("Paracetamol 500 mg/5 ml", "Paracetamol 500 milligrams per 5 millilitres"),
    ],
)
def test_spoken_form_says_units_money_times_and_dates_in_words(text: str, said: str) -> None:
    assert spoken_form(text) == said


@pytest.mark.parametrize(
    "text",
    [
        "Take 2 in the morning",  # "in" is a word here, not inches
        "2 in 1 shampoo",
        "Keep out of reach of children.",
        "Latte 3.40",  # no currency sign: a number, not money
        "B12 MP3 5G 3rd",
        "Platform 3, 25:00, 13/13/2026, 1.5.2",  # not a time, not a date, a version
        "Gate 5 M",
    ],
)
def test_spoken_form_leaves_words_and_other_numbers_alone(text: str) -> None:
    assert spoken_form(text) == text


def test_unsure_lines_are_said_as_unclear_and_printed_exactly() -> None:
    lines = [
        TextLine("Paracetamol 500 mg", (10, 10, 200, 30), 0.9, unsure=True),
        TextLine("EXP 03/2027", (10, 35, 120, 55), 0.99),
    ]
    result = ReadResult(lines=lines, text=layout_text(lines))

    assert result.text == "Paracetamol 500 mg\nEXP 03/2027"
    assert result.spoken == "unclear: Paracetamol 500 milligrams\nEXP March 2027"
