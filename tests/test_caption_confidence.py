"""Words the recogniser was unsure of: carried by the caption event as character spans, underlined in the
window's captions view, the overlay and a terminal (not only a colour), and saved as plain text in the
transcript."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor

from assistant.cli.captions import TerminalCaptions
from assistant.speech.caption_lines import CaptionLines
from assistant.speech.streaming import caption_text
from assistant.speech.transcripts import TranscriptRecorder
from assistant.speech.types import CaptionEvent, Word
from ui.captions import caption_html
from ui.main_window import MainWindow
from ui.overlay import CaptionOverlay
from ui.settings import Settings

UNSURE = QTextCharFormat.UnderlineStyle.WaveUnderline
PLAIN = QTextCharFormat.UnderlineStyle.NoUnderline


def the_library_opens() -> CaptionEvent:
    """A final caption whose fourth word the model was unsure of ("nine" heard as "mine")."""
    words = [
        Word(" The", 0.0, 0.2, 0.98),
        Word(" library", 0.2, 0.6, 0.95),
        Word(" opens", 0.6, 0.9, 0.91),
        Word(" at", 0.9, 1.0, 0.93),
        Word(" mine.", 1.0, 1.3, 0.21),
    ]
    text, unsure = caption_text(words, unsure_below=0.5)
    return CaptionEvent("final", text, 0.0, 1.3, 1.5, unsure)


def underline_at(window: MainWindow, text: str, word: str) -> QTextCharFormat.UnderlineStyle:
    """The underline of the middle character of `word` in the captions view."""
    cursor = QTextCursor(window.caption_view.document())
    cursor.setPosition(text.index(word) + len(word) // 2 + 1)  # the format of the character before
    return cursor.charFormat().underlineStyle()


def test_the_event_spans_exactly_the_unsure_words() -> None:
    event = the_library_opens()
    assert event.text == "The library opens at mine."
    assert [event.text[a:b] for a, b in event.unsure] == ["mine."]


def test_an_unsure_word_is_underlined_in_the_window_and_the_rest_is_not(qtbot: Any) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    event = the_library_opens()
    window.show_caption(event)
    assert window.caption_view.toPlainText() == event.text
    assert underline_at(window, event.text, "mine") == UNSURE
    assert underline_at(window, event.text, "library") == PLAIN
    # The next final joins the line; only its own unsure word is marked.
    window.show_caption(CaptionEvent("final", "in the morning.", 1.4, 2.2, 2.4, ((7, 15),)))
    shown = window.caption_view.toPlainText()
    assert shown == "The library opens at mine. in the morning."
    assert underline_at(window, shown, "mine") == UNSURE
    assert underline_at(window, shown, "the") == PLAIN
    assert underline_at(window, shown, "morning") == UNSURE


def test_an_unsure_word_in_partial_text_is_underlined_too(qtbot: Any) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    window.show_caption(CaptionEvent("partial", "closes at sick", 0.0, 1.0, 1.1, ((10, 14),)))
    shown = window.caption_view.toPlainText()
    assert underline_at(window, shown, "sick") == UNSURE
    assert underline_at(window, shown, "closes") == PLAIN


def test_the_overlay_underlines_unsure_words(qtbot: Any, tmp_path: Path) -> None:
    overlay = CaptionOverlay(Settings(tmp_path / "settings.ini"))
    qtbot.addWidget(overlay)
    overlay.on_caption(the_library_opens())
    assert "at <u>mine.</u>" in overlay.label.text()
    # the line policy keeps the marks on earlier lines as later words join them
    captions = CaptionLines()
    captions.apply(the_library_opens())
    captions.apply(CaptionEvent("final", ", and closes at sick", 1.4, 2.2, 2.4, ((16, 20),)))
    shown = caption_html(captions, 3, QColor("white"), QColor("grey"))
    assert "at <u>mine.</u>, and closes at <u>sick</u>" in shown


def test_the_transcript_keeps_unsure_words_as_plain_text(tmp_path: Path) -> None:
    recorder = TranscriptRecorder()
    path = recorder.start(tmp_path / "captions.txt")
    recorder.add(the_library_opens())
    recorder.close()
    assert path.read_text(encoding="utf-8") == "The library opens at mine.\n"


class TerminalOutput(io.StringIO):
    """A text stream that reports itself as a terminal, the way sys.stdout does in a console."""

    def isatty(self) -> bool:
        return True


def test_the_terminal_underlines_unsure_words_only_when_it_is_a_terminal() -> None:
    screen, piped = TerminalOutput(), io.StringIO()
    for out in (screen, piped):
        captions = TerminalCaptions(out)
        captions.show(the_library_opens())
        captions.show(CaptionEvent("partial", "It closes at sick", 3.0, 3.8, 3.9, ((13, 17),)))
        captions.show(CaptionEvent("final", "It closes at six.", 3.0, 4.0, 4.2))
        captions.close()
    assert "The library opens at \x1b[4mmine.\x1b[24m\n" in screen.getvalue()
    assert "at \x1b[4msick\x1b[24m" in screen.getvalue()  # in the partial text too
    assert piped.getvalue() == "The library opens at mine.\nIt closes at six.\n"
