"""What the command line tells its user besides its output: one-line notes on stderr, and the voice
that speaks results when `--speak` is asked for (or a warning, once, when there is none)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from assistant.errors import AssistantError

if TYPE_CHECKING:
    from assistant.voice import SpeechController


def note(message: str) -> None:
    """A line for the user, on stderr so that the command's own output stays clean."""
    print(f"assistant: {message}", file=sys.stderr, flush=True)


def start_voice(what: str) -> SpeechController | None:
    """The speech controller, started; or None after saying that `what` will not be spoken."""
    from assistant import voice

    controller = voice.SpeechController(voice.load_speaker)
    try:
        controller.start()
    except AssistantError as error:
        note(f"warning: {what} will not be spoken: {error}")
        return None
    return controller
