"""How read text is said aloud: numbers with units, money, times and dates in words a voice gets right.

A speech engine reads "500 mg" as "five hundred em gee", "£3.40" as "pound three point four oh" and
"07:15" as "zero seven fifteen". `spoken_form` rewrites only those tokens: "500 milligrams",
"3 pounds 40", "7 15". Numbers stay digits (every engine says digits well); words that are not part of
a number, a unit after a number, money, a time or a date are never changed, and the printed text a
person reads stays exactly what was on the page.

Dates with two numbers before the year are read day first ("12/05/2026" is 12 May 2026), as in the UK
and most of Europe, unless the first number cannot be a month but the second cannot be a day.
"""

from __future__ import annotations

import re

# unit -> (singular, plural); matched case-sensitively first, then by lower case (see `_unit_words`)
_UNITS: dict[str, tuple[str, str]] = {
    "mg": ("milligram", "milligrams"),
    "g": ("gram", "grams"),
    "kg": ("kilogram", "kilograms"),
    "mcg": ("microgram", "micrograms"),
    "µg": ("microgram", "micrograms"),
    "μg": ("microgram", "micrograms"),  # Greek mu, which some fonts and keyboards give instead of micro
    "ug": ("microgram", "micrograms"),
    "ml": ("millilitre", "millilitres"),
    "l": ("litre", "litres"),
    "cl": ("centilitre", "centilitres"),
    "iu": ("international unit", "international units"),
    "%": ("percent", "percent"),
    "°c": ("degree Celsius", "degrees Celsius"),
    "°f": ("degree Fahrenheit", "degrees Fahrenheit"),
    "km": ("kilometre", "kilometres"),
    "m": ("metre", "metres"),
    "cm": ("centimetre", "centimetres"),
    "mm": ("millimetre", "millimetres"),
    "in": ("inch", "inches"),
    "kj": ("kilojoule", "kilojoules"),
    "kcal": ("kilocalorie", "kilocalories"),
    "oz": ("ounce", "ounces"),
    "lb": ("pound", "pounds"),
    "lbs": ("pound", "pounds"),
}
# A unit that is also an English word is a unit when glued to its number ("8in") or where nothing but
# punctuation or "x" follows it: "8 in" and "8 in x 10 in" are inches, "take 2 in the morning" and
# "2 in 1" are not.
_WORD_UNITS = frozenset({"in"})
_MIXED_CASE_UNITS = frozenset({"mL", "L", "IU", "°C", "°F", "kJ", "kCal"})

# currency symbol -> (major singular, major plural, minor singular, minor plural)
_CURRENCIES: dict[str, tuple[str, str, str, str]] = {
    "£": ("pound", "pounds", "penny", "pence"),
    "$": ("dollar", "dollars", "cent", "cents"),
    "€": ("euro", "euros", "cent", "cents"),
}

_MONTHS = "January February March April May June July August September October November December".split()

_NUMBER = r"\d+(?:[.,]\d+)*"
_UNIT_ALTERNATIVES = "|".join(re.escape(unit) for unit in sorted(_UNITS, key=len, reverse=True))
# A number, an optional space, a unit, optionally "/ number unit" or "/unit" (a rate: "mg/5 ml").
_MEASURE = re.compile(
    rf"(?<![\w.,/:])(?P<number>{_NUMBER})\s?(?P<unit>{_UNIT_ALTERNATIVES})"
    rf"(?:/(?P<per_number>{_NUMBER})?\s?(?P<per_unit>{_UNIT_ALTERNATIVES}))?"
    r"(?![\w°])(?=(?P<after>\s*\S*))",
    re.IGNORECASE,
)
_MONEY = re.compile(
    r"(?<![\w.,])(?P<sign>-?)(?P<symbol>[£$€])\s?(?P<major>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<minor>\d{2}))?(?![\w.,]?\d)"
)
_TIME = re.compile(
    r"(?<![\w.:/])(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?\s?(?P<meridiem>am|pm|a\.m\.|p\.m\.)?(?![\w:/])",
    re.IGNORECASE,
)
_DATE = re.compile(
    r"(?<![\w./-])(?:(?P<first>\d{1,2})(?P<sep>[/.])(?P<second>\d{1,2})(?P=sep)(?P<year>\d{4}|\d{2})"
    r"|(?P<month_only>\d{1,2})/(?P<month_year>\d{4})"
    r"|(?P<iso_year>\d{4})-(?P<iso_month>\d{2})-(?P<iso_day>\d{2}))(?![\w/.-]?\d)"
)


def spoken_form(text: str) -> str:
    """`text` as it should be said: units, money, times and dates in words; everything else as it is.

    >>> spoken_form("Ibuprofen 500 mg, EXP 03/2027, Latte £3.40, departs 07:15")
    'Ibuprofen 500 milligrams, EXP March 2027, Latte 3 pounds 40, departs 7 15'
    """
    text = _DATE.sub(_say_date, text)
    text = _MONEY.sub(_say_money, text)
    text = _MEASURE.sub(_say_measure, text)
    return _TIME.sub(_say_time, text)


def _say_measure(match: re.Match[str]) -> str:
    unit = match["unit"]
    per_unit = match["per_unit"]
    if not _is_unit_spelling(unit) or (per_unit and not _is_unit_spelling(per_unit)):
        return match[0]
    glued = not match[0][len(match["number"]) :].startswith(" ")
    if unit.lower() in _WORD_UNITS and not per_unit and not glued and not _ends_measure(match["after"]):
        return match[0]
    number = match["number"]
    said = f"{number} {_unit_words(unit, number)}"
    if per_unit:
        per_number = match["per_number"]
        if per_number:
            said += f" per {per_number} {_unit_words(per_unit, per_number)}"
        else:
            said += f" per {_unit_words(per_unit, '1')}"
    return said


def _is_unit_spelling(unit: str) -> bool:
    """Units as printed: "mg", "MG", "mL", "°C"; not "M" or "G" alone (mega, a network) nor "IN"."""
    if unit in _UNITS or unit in _MIXED_CASE_UNITS:
        return True
    return unit.isupper() and len(unit) >= 2 and unit.lower() not in _WORD_UNITS


def _unit_words(unit: str, number: str) -> str:
    singular, plural = _UNITS[unit.lower()]
    return singular if number == "1" else plural


def _ends_measure(following: str) -> bool:
    """Whether what follows "8 in" makes it a measure: nothing, punctuation, or "x" ("8 in x 10 in")."""
    token = following.strip().lower()
    return token in ("", "x", "×") or not token[0].isalnum()


def _say_money(match: re.Match[str]) -> str:
    major_one, major_many, minor_one, minor_many = _CURRENCIES[match["symbol"]]
    major = match["major"]
    minor = match["minor"] or ""
    minus = "minus " if match["sign"] else ""
    major_value = int(major.replace(",", ""))
    minor_value = int(minor) if minor else 0
    if major_value == 0 and minor:
        return f"{minus}{minor_value} {minor_one if minor_value == 1 else minor_many}"
    said = f"{minus}{major} {major_one if major_value == 1 else major_many}"
    if minor_value:
        said += f" {minor}" if minor_value >= 10 else f" {minor_value}"
    return said


def _say_time(match: re.Match[str]) -> str:
    hour, minute, meridiem = int(match["hour"]), match["minute"], match["meridiem"]
    if minute is None and meridiem is None:
        return match[0]  # a bare number
    if meridiem is not None:
        if not 1 <= hour <= 12:
            return match[0]
        suffix = " a.m." if meridiem.lower().startswith("a") else " p.m."
    else:
        if hour > 23:
            return match[0]
        suffix = ""
    if minute is None:
        return f"{hour}{suffix}"
    minutes = int(minute)
    if minutes > 59:
        return match[0]
    if minutes == 0:
        said = f"{hour} o'clock" if not suffix else f"{hour}"
    elif minutes < 10:
        said = f"{hour} oh {minutes}"
    else:
        said = f"{hour} {minutes}"
    return said + suffix


def _say_date(match: re.Match[str]) -> str:
    if match["month_only"] is not None:
        month = int(match["month_only"])
        if not 1 <= month <= 12:
            return match[0]
        return f"{_MONTHS[month - 1]} {match['month_year']}"
    if match["iso_year"] is not None:
        year, month, day = match["iso_year"], int(match["iso_month"]), int(match["iso_day"])
    else:
        first, second, year = int(match["first"]), int(match["second"]), match["year"]
        if match["sep"] == "." and len(year) == 2:
            return match[0]  # "1.5.25" is as likely a version number as a date
        day, month = (second, first) if second > 12 >= first else (first, second)
        if len(year) == 2:
            year = f"20{year}"
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return match[0]
    return f"{day} {_MONTHS[month - 1]} {year}"
