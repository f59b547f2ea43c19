"""Text reading: real rapidocr models on text rendered with DejaVu fonts, and on the evaluation photos.

The rendered pages reproduce the two faults of rapidocr's bundled models that `assistant.vision.ocr`
repairs: words run together ("Keepoutofreach") and two columns read row by row.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from assistant.vision.image import Frame, load_image
from assistant.vision.ocr import RapidOcrReader, TextLine, layout_text, load_text_reader, order_lines
from assistant.vision.words import WordSegmenter, load_word_segmenter

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
