"""Numbers read exactly: letter/digit repair inside numbers, and numbers split from words they run into.

The recogniser confuses a few letters and digits ("2oo mg", "15o minutes", "O7:15") and runs labels
into their values ("EXP03/2027", "LOTB7741", "17/10/202609:41"). A wrong dose is worse than no dose, so
the repairs here are narrow and only ever apply inside numeric context:

- `repair_digits`: O/o -> 0, l/I/| -> 1, S -> 5, B -> 8 where a letter sits between digits of one
  number ("2.o0", "1O5"), O/o where they trail a number ("2oo", "15o": no word or unit starts with "oo"),
  and any of them at the start of a number only when the whole is then a time, date or decimal
  ("O7:15", "O3/2027"). A letter that starts a code is kept ("B7741", "MP3"), and so is a number that
  is part of a longer word or code ("A5S", "LOTB7741" before it is split).
  Just before a dose unit, a token of look-alikes is an amount: "soo mg" -> "500 mg"; `missing_dose`
  says when a unit follows something that is still not a number.
- `split_glued`: a label keyword run into its value ("EXP 03/2027", "LOT B7741", "BATCH 4471"), and a
  date run into the time after it ("17/10/2026 09:41").
- `restore_currency`: a price whose pound sign the recogniser read as "f" ("f3.40" -> "£3.40"); the
  bundled recogniser has no "£" or "€" in its alphabet at all.
- `normalise_code_case`: a code the recogniser read with a small letter that looks like its capital
  ("Ak2159", "Kx3688").
- `normalise_marks`: the recogniser's full-width Chinese punctuation as the Latin marks on the page.
- `is_numeric_token`: a token that the word segmenter must leave alone because it is a number or a code.
"""

from __future__ import annotations

import itertools
import re

# Letters the recogniser reads for digits, and the digit each stands for.
CONFUSABLE_DIGITS = {"O": "0", "o": "0", "l": "1", "I": "1", "|": "1", "S": "5", "B": "8"}
_TRAILING_ZEROS = {"O": "0", "o": "0"}
# Label words that are followed by a number or a code on packaging, tickets and letters.
LABEL_KEYWORDS = ("EXP", "LOT", "BATCH", "MFG", "MFD", "REF", "TEL")

# Units of a dose: the token before one is an amount, so look-alike letters there are digits ("soo mg").
DOSE_UNITS = frozenset({"mg", "mcg", "µg", "ug", "ml", "mL", "IU", "MG", "ML"})
_DOSE_DIGITS = {**CONFUSABLE_DIGITS, "s": "5"}
_DOSE_LOOKALIKE = re.compile(r"(?=.*[0-9OoSs])[0-9OoSslIB.,]{2,}")
_JOINERS = ".,:/-"
_RUN = re.compile(rf"[0-9{''.join(map(re.escape, CONFUSABLE_DIGITS))}{re.escape(_JOINERS)}]+")
_STRICT_NUMBER = re.compile(
    r"\d{1,2}:\d{2}(?::\d{2})?"  # a time
    r"|\d{1,2}/\d{1,2}(?:/\d{2,4})?|\d{1,2}/\d{4}"  # a date
    r"|\d{1,2}\.\d{1,2}\.\d{2,4}"  # a dotted date
    r"|\d+[.,]\d+"  # a decimal
)
_KEYWORD_GLUE = re.compile(
    rf"^(?P<keyword>{'|'.join(LABEL_KEYWORDS)})(?P<value>[A-Z]?\d[\w/.\-]*)$", re.IGNORECASE
)
# Full-width forms (U+FF01-U+FF5E) are their ASCII characters moved up by 0xFEE0; and the ideographic marks.
_FULLWIDTH: dict[int, int | str] = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {
    ord("。"): ".",
    ord("、"): ",",
    ord("\u2103"): "°C",  # the recogniser has a one-character degree Celsius, which labels spell as two
    ord("\u2109"): "°F",
}
_DEGREE_TWICE = re.compile("[°º]\\s*\u2103")
_GREEK_MU = re.compile("\u03bc(?=[gmlLs])")
_MIXED_CASE_CODE = re.compile(r"^(?P<letters>[A-Z][A-Zckopsuvwxz]{0,2})\d{3,}[.,;:]?$")
_DATE_TIME_GLUE = re.compile(r"^(?P<date>\d{1,2}/\d{1,2}/\d{4})(?P<time>\d{1,2}:\d{2})$")
_POUND_MISREAD = re.compile(r"^[fF](?P<amount>[0-9Oo]*\d[0-9Oo]*\.[0-9Oo]{2}[.,;:]?)$")
_NUMBER_CHARACTERS = frozenset("0123456789%°" + _JOINERS + "".join(CONFUSABLE_DIGITS))


def repair_digits(text: str) -> str:
    """`text` with letters that stand for digits inside numbers turned into those digits."""
    tokens = [_repair_token(token) for token in text.split(" ")]
    for index, token in enumerate(tokens[:-1]):
        if tokens[index + 1] in DOSE_UNITS and _DOSE_LOOKALIKE.fullmatch(token):
            tokens[index] = "".join(_DOSE_DIGITS.get(character, character) for character in token)
    return " ".join(tokens)


def missing_dose(text: str) -> bool:
    """Whether a dose unit follows something that is not a number ("Sog mg"): the amount was not read."""
    tokens = text.split(" ")
    return any(
        unit in DOSE_UNITS and not any(character.isdigit() for character in before)
        for before, unit in itertools.pairwise(tokens)
    )


def _repair_token(token: str) -> str:
    pieces: list[str] = []
    last = 0
    for match in _RUN.finditer(token):
        start, end = match.span()
        pieces.append(token[last:start])
        pieces.append(_repair_run(token, start, end))
        last = end
    pieces.append(token[last:])
    return "".join(pieces)


def _repair_run(token: str, start: int, end: int) -> str:
    """One run of digits, look-alike letters and joiners inside `token`."""
    run = token[start:end]
    digits = [index for index, character in enumerate(run) if character.isdigit()]
    if not digits:
        return run
    if start > 0 and token[start - 1].isalnum():
        return run  # part of a code or a word: "LOTB7741", "A5S", "MP3"
    first, last = digits[0], digits[-1]
    characters = list(run)
    # Between the first and last digit: every look-alike is a digit ("2.o0", "1O5").
    for index in range(first, last + 1):
        characters[index] = CONFUSABLE_DIGITS.get(characters[index], characters[index])
    # After the last digit: only zeros ("2oo", "15o"), and only up to the end of the token or a unit.
    tail = last + 1
    while tail < len(run) and run[tail] in _TRAILING_ZEROS:
        tail += 1
    if (
        tail > last + 1
        and (end == len(token) or not token[end].isalpha())
        and tail == len(run.rstrip(_JOINERS))
    ):
        for index in range(last + 1, tail):
            characters[index] = _TRAILING_ZEROS[run[index]]
    # Before the first digit: only when the whole then reads as a time, a date or a decimal ("O7:15").
    if first > 0 and all(character in CONFUSABLE_DIGITS for character in run[:first]):
        candidate = "".join(CONFUSABLE_DIGITS.get(character, character) for character in characters)
        if _STRICT_NUMBER.fullmatch(candidate.rstrip(_JOINERS)):
            characters = list(candidate)
    return "".join(characters)


def split_glued(text: str) -> str:
    """`text` with label keywords split from their values and dates from the times run into them."""
    out: list[str] = []
    for token in text.split(" "):
        keyword = _KEYWORD_GLUE.match(token)
        # "EXP03/2027", "Lot B7741"; not "lot3" in running lower-case text.
        if keyword and (keyword["keyword"].isupper() or keyword["keyword"].istitle()):
            out.extend((keyword["keyword"], keyword["value"]))
            continue
        date_time = _DATE_TIME_GLUE.match(token)
        if date_time:
            out.extend((date_time["date"], date_time["time"]))
            continue
        out.append(token)
    return " ".join(out)


def restore_currency(text: str) -> str:
    """Prices whose "£" was read as "f" ("f3.40") get their pound sign back."""
    out: list[str] = []
    for token in text.split(" "):
        match = _POUND_MISREAD.match(token)
        out.append(f"£{match['amount']}" if match else token)
    return " ".join(out)


def normalise_code_case(text: str) -> str:
    """Codes in capitals: "Ak2159" -> "AK2159" where the small letter looks like its capital (c, k, o, p,
    s, u, v, w, x, z differ only in size), the code starts with a capital and ends in 3 or more digits."""
    out: list[str] = []
    for token in text.split(" "):
        match = _MIXED_CASE_CODE.match(token)
        out.append(token[: match.end("letters")].upper() + token[match.end("letters") :] if match else token)
    return " ".join(out)


def is_numeric_token(token: str) -> bool:
    """Whether `token` is a number, perhaps with look-alike letters ("2oo", "O7:15", "3.40", "25%")."""
    core = token.strip(".,;:!?()[]\"'")
    return any(character.isdigit() for character in core) and all(
        character in _NUMBER_CHARACTERS for character in core
    )


def normalise_marks(text: str) -> str:
    """The recogniser's Chinese punctuation ("，", "：", "（") as the Latin marks printed on the page, its
    one-character "℃" as "°C", and a Greek mu before a unit ("μg") as the micro sign ("µg") it stands for."""
    text = _DEGREE_TWICE.sub("\u2103", text)  # "5°℃": the degree sign read on its own and again in "℃"
    text = text.translate(_FULLWIDTH)
    return _GREEK_MU.sub("\u00b5", text)


def repair_line(text: str) -> str:
    """All the repairs of this module, in order: split, then the pound sign, then digits."""
    return repair_digits(normalise_code_case(restore_currency(split_glued(normalise_marks(text)))))
