"""How captions look in a terminal: partial text is rewritten in place, final lines stay."""

from __future__ import annotations

import io

from assistant.cli.captions import TerminalCaptions
from assistant.speech.types import CaptionEvent


class TerminalOutput(io.StringIO):
    """A text stream that reports itself as a terminal, the way sys.stdout does in a console."""

    def isatty(self) -> bool:
        return True


def event(kind: str, text: str) -> CaptionEvent:
    return CaptionEvent(kind, text, 0.0, 1.0, 1.0)  # type: ignore[arg-type]


def test_partial_text_is_rewritten_in_place_and_final_lines_are_kept() -> None:
    out = TerminalOutput()
    captions = TerminalCaptions(out)
    captions.show(event("partial", "Good morn"))
    captions.show(event("partial", "Good morning every"))
    captions.show(event("final", "Good morning everyone."))
    captions.show(event("partial", "Let's start"))
    captions.close()
    screen = out.getvalue()
    # every update returns to the start of the line and clears it rather than appending
    assert screen.count("\r\x1b[K") >= 4
    lines = screen.split("\n")
    assert lines[0].endswith("Good morning everyone.")
    assert "Let's start" not in lines[0]
    assert "\x1b[2;3mGood morn" in screen  # partial text is dim italic, distinct from final text


def test_piped_output_gets_only_final_lines() -> None:
    out = io.StringIO()
    captions = TerminalCaptions(out)
    captions.show(event("partial", "Good morn"))
    captions.show(event("final", "Good morning everyone."))
    captions.show(event("final", "Shall we"))
    captions.show(event("final", "begin?"))
    captions.close()
    assert out.getvalue() == "Good morning everyone.\nShall we begin?\n"
