"""Key chords as the settings store them (Qt's portable text: "Ctrl+Alt+Shift+W", "F9", "Ctrl+=") turned
into what X11 and the desktop portals understand, without Qt.

`parse_chord` gives the modifiers and the key's X keysym name; `portal_trigger` writes the chord the way
the GlobalShortcuts portal's `preferred_trigger` wants it ("CTRL+ALT+SHIFT+w").
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.errors import AssistantError

MODIFIERS = ("Ctrl", "Alt", "Shift", "Meta")
"""In the order Qt writes them."""

# Qt's names (and the punctuation it writes as itself) for keys whose X keysym name differs.
_KEYSYM_NAMES = {
    "=": "equal", "-": "minus", "+": "plus", ",": "comma", ".": "period", "/": "slash", ";": "semicolon",
    "'": "apostrophe", "[": "bracketleft", "]": "bracketright", "\\": "backslash", "`": "grave",
    "Space": "space", "Esc": "Escape", "Return": "Return", "Enter": "Return", "Backspace": "BackSpace",
    "Del": "Delete", "Ins": "Insert", "PgUp": "Prior", "PgDown": "Next", "Print": "Print",
    "Pause": "Pause", "Menu": "Menu", "Tab": "Tab", "Home": "Home", "End": "End", "Left": "Left",
    "Right": "Right", "Up": "Up", "Down": "Down",
}  # fmt: skip


class ChordError(AssistantError):
    """A key chord that cannot be used as a system-wide key."""


@dataclass(frozen=True)
class Chord:
    """A key with its modifiers: `text` as written, `modifiers` a subset of `MODIFIERS`, `keysym` the X
    keysym name of the key ("w", "F9", "equal")."""

    text: str
    modifiers: frozenset[str]
    keysym: str


def parse_chord(text: str) -> Chord:
    """ "Ctrl+Alt+Shift+W" → modifiers {Ctrl, Alt, Shift}, keysym "w". Raises `ChordError` for an empty or
    unknown chord, or one that is only modifiers."""
    text = text.strip()
    if not text:
        raise ChordError("no key given")
    # "Ctrl++" is Ctrl and the plus key; split on "+" but keep a trailing "+" as the key.
    parts = text[:-1].split("+") + ["+"] if text.endswith("++") or text == "+" else text.split("+")
    parts = [part for part in parts if part]
    if not parts:
        raise ChordError(f"{text!r} names no key")
    *modifier_names, key = parts
    unknown = [name for name in modifier_names if name not in MODIFIERS]
    if unknown:
        raise ChordError(f"{text!r}: {', '.join(unknown)} is not a modifier ({', '.join(MODIFIERS)})")
    if key in MODIFIERS:
        raise ChordError(f"{text!r} is only modifiers; add a key")
    return Chord(text, frozenset(modifier_names), keysym_name(key))


def keysym_name(key: str) -> str:
    """The X keysym name of one key as Qt writes it: letters lower case, F-keys and names as they are."""
    if len(key) == 1 and key.isalpha():
        return key.lower()
    return _KEYSYM_NAMES.get(key, key)


def portal_trigger(chord: Chord) -> str:
    """The chord in the GlobalShortcuts portal's trigger syntax (XDG shortcuts spec): "CTRL+ALT+SHIFT+w"."""
    names = {"Ctrl": "CTRL", "Alt": "ALT", "Shift": "SHIFT", "Meta": "LOGO"}
    modifiers = [names[name] for name in MODIFIERS if name in chord.modifiers]
    return "+".join([*modifiers, chord.keysym])
