"""What caption text is on screen: final lines plus the one partial line that may still change.

Both the main window and the overlay render a `CaptionBuffer`; a partial replaces the previous partial,
and a final replaces the partial (the contract of `assistant.speech.types.CaptionEvent`).
"""

from __future__ import annotations

import html

from PySide6.QtGui import QColor

from assistant.speech.types import CaptionEvent


class CaptionBuffer:
    def __init__(self, keep: int = 500) -> None:
        self.finals: list[str] = []
        self.partial = ""
        self._keep = keep

    def apply(self, event: CaptionEvent) -> None:
        text = event.text.strip()
        if event.kind == "partial":
            self.partial = text
            return
        self.partial = ""
        if text:
            self.finals.append(text)
            del self.finals[: -self._keep]

    @property
    def last_final(self) -> str:
        return self.finals[-1] if self.finals else ""

    def html(self, lines: int, text: QColor, partial: QColor) -> str:
        """The last `lines` lines: finals in `text`, the partial line in italics in `partial`."""
        shown = self.finals[-(lines - 1) :] if lines > 1 else []
        if not self.partial and lines > 0:
            shown = self.finals[-lines:]
        parts = [f'<span style="color:{text.name()}">{html.escape(line)}</span>' for line in shown]
        if self.partial:
            parts.append(f'<i style="color:{partial.name()}">{html.escape(self.partial)}</i>')
        return "<br>".join(parts)
