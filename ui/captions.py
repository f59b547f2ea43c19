"""Caption text as rich text for the window and the overlay.

Which words make a line is decided in the core (`assistant.speech.caption_lines`); this module only
draws it: final lines in the text colour, the partial in italics in a softer colour, continuing the last
line where its words will land once final.
"""

from __future__ import annotations

import html

from PySide6.QtGui import QColor

from assistant.speech.caption_lines import CaptionLines, starts_with_punctuation


def caption_html(captions: CaptionLines, lines: int, text: QColor, partial: QColor) -> str:
    """The last `lines` lines of `captions` as HTML."""
    joins = bool(captions.partial) and captions.partial_joins
    room = lines - (1 if captions.partial and not joins else 0)
    shown = captions.lines[-room:] if room > 0 else []
    parts = [f'<span style="color:{text.name()}">{html.escape(line)}</span>' for line in shown]
    if captions.partial:
        italic = f'<i style="color:{partial.name()}">{html.escape(captions.partial)}</i>'
        if joins and parts:
            parts[-1] += ("" if starts_with_punctuation(captions.partial) else " ") + italic
        else:
            parts.append(italic)
    return "<br>".join(parts)
