"""Caption text as rich text for the window and the overlay.

Which words make a line is decided in the core (`assistant.speech.caption_lines`); this module only
draws it: final lines in the text colour, the partial in italics in a softer colour, continuing the last
line where its words will land once final. Words the recogniser was unsure of are underlined (not only a
colour, which not everyone can tell apart).
"""

from __future__ import annotations

import html

from PySide6.QtGui import QColor

from assistant.speech.caption_lines import CaptionLines, starts_with_punctuation
from assistant.speech.types import CharSpan


def caption_html(captions: CaptionLines, lines: int, text: QColor, partial: QColor) -> str:
    """The last `lines` lines of `captions` as HTML."""
    joins = bool(captions.partial) and captions.partial_joins
    room = lines - (1 if captions.partial and not joins else 0)
    shown = list(zip(captions.lines, captions.unsure, strict=True))[-room:] if room > 0 else []
    parts = [
        f'<span style="color:{text.name()}">{marked_html(line, unsure)}</span>' for line, unsure in shown
    ]
    if captions.partial:
        italic = (
            f'<i style="color:{partial.name()}">{marked_html(captions.partial, captions.partial_unsure)}</i>'
        )
        if joins and parts:
            parts[-1] += ("" if starts_with_punctuation(captions.partial) else " ") + italic
        else:
            parts.append(italic)
    return "<br>".join(parts)


def marked_html(text: str, unsure: tuple[CharSpan, ...]) -> str:
    """`text` escaped as HTML, its unsure spans underlined."""
    pieces, at = [], 0
    for start, end in sorted(unsure):
        if start < at:
            continue
        pieces += [html.escape(text[at:start]), f"<u>{html.escape(text[start:end])}</u>"]
        at = end
    pieces.append(html.escape(text[at:]))
    return "".join(pieces)
