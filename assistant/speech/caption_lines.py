"""How captions are broken into lines a person can read: one policy for the window, the overlay and the
terminal.

The recognizer finalises a few words at a time. Each final joins the current line until one of three
rules starts a new one:
- **sentence and pause**: the line ends a sentence and the next words start at least `PAUSE_SECONDS`
  later, as a new turn in a conversation would;
- **width**: the line is already `MAX_LINE_CHARS` long;
and two rules keep lines clean: text that starts with punctuation (", setting or printing") always joins
the line before it, so no line starts with a comma; and a sound alert's marker ("[Smoke alarm]") is a
line of its own.
"""

from __future__ import annotations

import re

from assistant.speech.types import CaptionEvent, CharSpan

PAUSE_SECONDS = 1.0
"""A sentence followed by at least this much silence starts a new line."""
MAX_LINE_CHARS = 90
"""A line this long ends at the next final, so N lines on screen stay about N lines tall."""
_SENTENCE_END = re.compile(r"[.?!…][\"')\]]*$")
# "-" too: a final that starts with one is the rest of the word before it, which the model continued
# with a piece that has no leading space ("fat" then "-mutton pieces"); a spoken dash has spaces.
_NO_SPACE_BEFORE = (",", ".", "?", "!", ";", ":", "…", "'", "%", ")", "-")


def ends_sentence(text: str) -> bool:
    """True when `text` ends a sentence ("done.", "really?", "(yes.)")."""
    return bool(_SENTENCE_END.search(text.rstrip()))


def starts_with_punctuation(text: str) -> bool:
    return text.startswith(_NO_SPACE_BEFORE)


def is_marker(text: str) -> bool:
    """A sound alert's marker line in the captions ("[Smoke alarm]"), not speech."""
    return text.startswith("[") and text.endswith("]")


def join_text(line: str, text: str) -> str:
    """`line` followed by `text`, with a space unless `text` starts with punctuation."""
    if not line:
        return text
    return line + ("" if starts_with_punctuation(text) else " ") + text


class CaptionLines:
    """Final captions grouped into lines, plus the partial text that may still change.

    A partial replaces the previous partial, and a final replaces the partial (the contract of
    `CaptionEvent`). `apply` returns the lines that were closed by this event, so a terminal can print
    each line once, when it is complete. The words the recogniser was unsure of are kept beside the
    text, as character spans of each line (`unsure`, parallel to `lines`) and of the partial."""

    def __init__(self, keep: int = 500) -> None:
        self.lines: list[str] = []
        self.unsure: list[tuple[CharSpan, ...]] = []
        self.partial = ""
        self.partial_unsure: tuple[CharSpan, ...] = ()
        self.partial_joins = False
        """Whether the partial text continues the last line (rather than starting a new one)."""
        self.started = 0
        """How many lines have been started, the ones no longer kept included."""
        self._keep = keep
        self._last_end = 0.0

    @property
    def last_line(self) -> str:
        return self.lines[-1] if self.lines else ""

    @property
    def last_unsure(self) -> tuple[CharSpan, ...]:
        return self.unsure[-1] if self.unsure else ()

    def apply(self, event: CaptionEvent) -> list[str]:
        text = event.text.strip()
        unsure = _shifted(event.unsure, -(len(event.text) - len(event.text.lstrip())))
        if event.kind == "partial":
            self.partial = text
            self.partial_unsure = unsure
            self.partial_joins = self._continues_line(text, event.start)
            return []
        self.partial = ""
        self.partial_unsure = ()
        self.partial_joins = False
        if not text:
            return []
        closed: list[str] = []
        if self.lines and self._continues_line(text, event.start):
            self.lines[-1] = join_text(self.lines[-1], text)
            self.unsure[-1] += _shifted(unsure, len(self.lines[-1]) - len(text))
        else:
            if self.lines:
                closed.append(self.lines[-1])
            self.lines.append(text)
            self.unsure.append(unsure)
            self.started += 1
            del self.lines[: -self._keep]
            del self.unsure[: -self._keep]
        self._last_end = event.end
        return closed

    def _continues_line(self, text: str, start: float) -> bool:
        if not self.lines:
            return False
        line = self.lines[-1]
        if is_marker(text) or is_marker(line):
            return False  # "[Smoke alarm]" stands on a line of its own
        if starts_with_punctuation(text):
            return True
        if len(line) >= MAX_LINE_CHARS:
            return False
        return not (ends_sentence(line) and start - self._last_end >= PAUSE_SECONDS)


def _shifted(spans: tuple[CharSpan, ...], by: int) -> tuple[CharSpan, ...]:
    return tuple((max(0, start + by), end + by) for start, end in spans if end + by > 0)


SPOKEN_MIN_WORDS = 4
"""A caption said to a screen reader has at least this many words, unless a pause ends it."""
SPOKEN_MAX_CHARS = 240
UNFINISHED_PAUSE_SECONDS = 2.5
"""How long, with no new caption, held-back text that does not end a sentence waits for the rest of
it before it is said anyway (a speaker's pause mid-sentence, on a slow machine, is longer than
`PAUSE_SECONDS`)."""


class SpokenCaptions:
    """Final captions gathered into what a screen reader should say: a whole sentence, or what was said
    before a pause, never a fragment every second.

    `add` returns what is ready to say now; the caller calls `flush` when no final has come for
    `PAUSE_SECONDS` (a timer), since a pause is only known from the silence after it."""

    def __init__(self) -> None:
        self._pending = ""
        self._last_end = 0.0

    def add(self, event: CaptionEvent) -> list[str]:
        text = event.text.strip()
        if event.kind != "final" or not text:
            return []
        ready: list[str] = []
        paused = event.start - self._last_end >= PAUSE_SECONDS
        # A pause inside a sentence the recogniser has not ended ("ask what you can do ... for your
        # country.") is a speaker's pause, not the end of what they said: the sentence is said whole.
        if self._pending and paused and ends_sentence(self._pending) and not starts_with_punctuation(text):
            ready.append(self.flush())
        self._pending = join_text(self._pending, text)
        self._last_end = event.end
        sentence_done = ends_sentence(self._pending) and len(self._pending.split()) >= SPOKEN_MIN_WORDS
        if sentence_done or len(self._pending) >= SPOKEN_MAX_CHARS:
            ready.append(self.flush())
        return ready

    def waiting_for_sentence_end(self) -> bool:
        """Held-back text that the recogniser has not ended as a sentence yet."""
        return bool(self._pending) and not ends_sentence(self._pending)

    def flush(self) -> str:
        """Everything held back (after a pause, or at the end)."""
        text, self._pending = self._pending, ""
        return text
