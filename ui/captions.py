"""What caption text is on screen: final lines plus the one partial line that may still change.

Both the main window and the overlay render a `CaptionBuffer`; a partial replaces the previous partial,
and a final replaces the partial (the contract of `assistant.speech.types.CaptionEvent`).
"""

from __future__ import annotations

import html

from PySide6.QtGui import QColor

from assistant.speech.types import CaptionEvent

SENTENCE_END = (".", "?", "!", "…")
PAUSE_SECONDS = 1.0
"""A sentence followed by at least this much silence starts a new line, as a new speaker turn would."""
MAX_LINE_CHARS = 90
"""A line longer than this ends at the next final, so the overlay's N lines stay about N lines tall."""
_NO_SPACE_BEFORE = (",", ".", "?", "!", ";", ":", "…", "'", "%", ")")


class CaptionBuffer:
    """Final captions grouped into readable lines, plus the partial text that continues the last one.

    The recognizer finalises a few words at a time; each final joins the current line (no space before
    punctuation) until a sentence ends before a pause, or the line is long."""

    def __init__(self, keep: int = 500) -> None:
        self.finals: list[str] = []  # the lines
        self.partial = ""
        self._keep = keep
        self._line_open = False
        self._last_end = 0.0
        self._partial_joins = False

    def apply(self, event: CaptionEvent) -> None:
        text = event.text.strip()
        if event.kind == "partial":
            self.partial = text
            self._partial_joins = self._continues_line(event)
            return
        self.partial = ""
        if not text:
            return
        if self._continues_line(event):
            self.finals[-1] = _joined(self.finals[-1], text)
        else:
            self.finals.append(text)
            del self.finals[: -self._keep]
        self._line_open = True
        self._last_end = event.end

    def _continues_line(self, event: CaptionEvent) -> bool:
        if not self._line_open or not self.finals:
            return False
        line = self.finals[-1]
        if len(line) >= MAX_LINE_CHARS:
            return False
        sentence_over = line.endswith(SENTENCE_END)
        return not (sentence_over and event.start - self._last_end >= PAUSE_SECONDS)

    @property
    def last_final(self) -> str:
        return self.finals[-1] if self.finals else ""

    def html(self, lines: int, text: QColor, partial: QColor) -> str:
        """The last `lines` lines: finals in `text`, the partial in italics in `partial`, continuing the
        last line where its words will land once final."""
        joins = bool(self.partial) and self._partial_joins
        room = lines - (1 if self.partial and not joins else 0)
        shown = self.finals[-room:] if room > 0 else []
        parts = [f'<span style="color:{text.name()}">{html.escape(line)}</span>' for line in shown]
        if self.partial:
            italic = f'<i style="color:{partial.name()}">{html.escape(self.partial)}</i>'
            if joins and parts:
                parts[-1] += ("" if self.partial.startswith(_NO_SPACE_BEFORE) else " ") + italic
            else:
                parts.append(italic)
        return "<br>".join(parts)


def _joined(line: str, text: str) -> str:
    return line + ("" if text.startswith(_NO_SPACE_BEFORE) else " ") + text
