"""Cutting a streamed answer into sentences, so each can be spoken the moment it is complete.

`SentenceSplitter` is a pure object: `feed(text)` takes the next piece of the stream and returns the
sentences it completed, `finish()` returns what is left. A sentence is complete when its closing `.`, `!`,
`?` or `…` is followed by white space (so "3.5" and a "." that is still waiting for its next token are not
cut), or at a line break (models write lists). Abbreviations ("Mr.", "e.g."), initials and list numbers
("1.") do not end a sentence. A very long sentence is cut at a clause (", " or "; ") so the voice is not
kept waiting for it.

`speakable` takes the markup a chat model writes (bold, bullets, headings) out of a sentence, and the
"The image shows" preamble a blind user does not need.
"""

from __future__ import annotations

import re

LONG_SENTENCE = 240
"""A pending sentence longer than this (characters) is cut at its last clause boundary."""

_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)|\n")
_CLAUSE = re.compile(r"[,;:](?=\s)")
_ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "st", "prof", "sr", "jr", "vs", "e.g", "i.e", "approx", "no", "fig", "cf", "ca"}
)
_MARKUP = re.compile(r"\*\*|__|`+|^#+\s*|^\s*(?:[-*•]|\d+[.)])\s+", re.MULTILINE)
_PREAMBLE = re.compile(
    r"^(?:(?:the|this) (?:image|picture|photo(?:graph)?|scene) (?:shows|depicts|contains|features)"
    r"|in (?:the|this) (?:image|picture|photo(?:graph)?|scene),?)\s+",
    re.IGNORECASE,
)


class SentenceSplitter:
    """Streamed text in, complete sentences out (see the module docstring for the rules)."""

    def __init__(self, long_sentence: int = LONG_SENTENCE) -> None:
        self._buffer = ""
        self._long = long_sentence

    def feed(self, text: str) -> list[str]:
        """Add the next piece of the stream; the sentences it completed, in order."""
        self._buffer += text
        sentences: list[str] = []
        start = 0
        for match in _END.finditer(self._buffer):
            candidate = self._buffer[start : match.end()]
            if match.group() != "\n" and not _ends_sentence(candidate):
                continue
            if candidate.strip():
                sentences.append(candidate.strip())
            start = match.end()
        self._buffer = self._buffer[start:]
        if len(self._buffer) > self._long:
            clauses = list(_CLAUSE.finditer(self._buffer))
            if clauses:
                cut = clauses[-1].end()
                sentences.append(self._buffer[:cut].strip())
                self._buffer = self._buffer[cut:]
        return sentences

    def finish(self) -> list[str]:
        """The stream ended: whatever is left is the last sentence."""
        rest, self._buffer = self._buffer.strip(), ""
        return [rest] if rest else []


def _ends_sentence(candidate: str) -> bool:
    """False when the full stop belongs to an abbreviation, an initial or a list number."""
    text = candidate.rstrip("\"'”’)]")
    if not text.endswith("."):
        return True
    words = text[:-1].split()
    if not words:
        return False
    last = words[-1].lower().lstrip("(\"'“‘")
    if last in _ABBREVIATIONS:
        return False
    if len(last) == 1 and last.isalpha() and words[-1][-1].isupper():
        return False  # an initial: "J. Smith"
    return not (len(words) == 1 and last.isdigit())  # a list number: "1."


def speakable(sentence: str) -> str:
    """The sentence without chat markup, and without a "The image shows" preamble (capitalised again)."""
    text = _MARKUP.sub("", sentence).strip()
    stripped = _PREAMBLE.sub("", text, count=1)
    if stripped != text and stripped:
        text = stripped[0].upper() + stripped[1:]
    return text
