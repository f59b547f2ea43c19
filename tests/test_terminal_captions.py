"""How captions look in a terminal: partial text is rewritten in place, final lines stay."""

from __future__ import annotations

import io

from assistant.cli.captions import TerminalCaptions
from assistant.speech.types import CaptionEvent


class TerminalOutput(io.StringIO):
    """A text stream that reports itself as a terminal, the way sys.stdout does in a console."""

    def isatty(self) -> bool:
        return True


def event(kind: str, text: str, start: float = 0.0, end: float = 1.0) -> CaptionEvent:
    return CaptionEvent(kind, text, start, end, end)  # type: ignore[arg-type]


def test_partial_text_is_rewritten_in_place_and_final_lines_are_kept() -> None:
    out = TerminalOutput()
    captions = TerminalCaptions(out)
    captions.show(event("partial", "Good morn"))
    captions.show(event("partial", "Good morning every"))
    captions.show(event("final", "Good morning everyone."))
    captions.show(event("final", "Let's start.", 3.0, 4.0))  # after a pause: a line of its own
    captions.show(event("partial", "with the", 4.2, 4.6))
    captions.close()
    screen = out.getvalue()
    # every update returns to the start of the line and clears it rather than appending
    assert screen.count("\r\x1b[K") >= 4
    lines = screen.split("\n")
    assert lines[0].endswith("Good morning everyone.")
    assert "Let's start" not in lines[0] and "Let's start." in lines[1]
    assert "\x1b[2;3mGood morn" in screen  # partial text is dim italic, distinct from final text


def test_piped_output_gets_each_line_once_when_it_is_complete() -> None:
    out = io.StringIO()
    captions = TerminalCaptions(out)
    captions.show(event("partial", "Good morn"))
    captions.show(event("final", "Good morning everyone."))
    assert out.getvalue() == ""  # the line may still go on
    captions.show(event("final", "Shall we", 2.5, 3.0))  # after a pause: the first line is complete
    assert out.getvalue() == "Good morning everyone.\n"
    captions.show(event("final", "begin?", 3.0, 3.4))
    captions.close()
    assert out.getvalue() == "Good morning everyone.\nShall we begin?\n"
