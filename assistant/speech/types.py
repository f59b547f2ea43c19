"""Plain data that flows out of speech recognition: recognised words and caption events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

CaptionKind = Literal["partial", "final"]
CharSpan = tuple[int, int]
"""Characters [start, end) of a caption's text."""


@dataclass(frozen=True)
class Word:
    """One recognised word with its audio times in seconds (stream time, not clip time).

    `text` keeps the leading space Whisper gives a word (none before punctuation), so joining words
    with "" restores the spacing."""

    text: str
    start: float
    end: float
    probability: float = 1.0


@dataclass(frozen=True)
class CaptionEvent:
    """A caption update.

    `partial` text is shown at once and may still change; `final` text never changes. `start`/`end` are
    audio seconds since the stream began; `t_emit` is wall seconds since the first audio sample arrived.
    A new partial replaces the previous partial; a final replaces the partial that covered its words.
    `unsure` spans the words of `text` the recogniser was unsure of: shown distinctly (underlined), never
    written into a saved transcript, which keeps the plain text.
    """

    kind: CaptionKind
    text: str
    start: float
    end: float
    t_emit: float
    unsure: tuple[CharSpan, ...] = ()

    def to_json_dict(self) -> dict[str, object]:
        return {
            "type": self.kind,
            "text": self.text,
            "t_emit": round(self.t_emit, 3),
            "start": round(self.start, 3),
            "end": round(self.end, 3),
        }
