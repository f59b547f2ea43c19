"""Voice output: the speech controller and its engines.

`SpeechController` is the one queue every part of the app speaks through; `load_speaker()` opens the
eSpeak NG speaker; `speak_text_blocking()` is the helper behind the commands' `--speak` flags.
"""

from __future__ import annotations

import sys

from assistant.errors import AssistantError
from assistant.voice.controller import Priority, SpeechController
from assistant.voice.espeak import DEFAULT_RATE, EspeakSpeaker, SpeechUnavailableError, load_speaker
from assistant.voice.player import AudioOutputError
from assistant.voice.speaker import Speaker, StopSignal, UtteranceTiming, Voice, write_wav

__all__ = [
    "DEFAULT_RATE",
    "AudioOutputError",
    "EspeakSpeaker",
    "Priority",
    "Speaker",
    "SpeechController",
    "SpeechUnavailableError",
    "StopSignal",
    "UtteranceTiming",
    "Voice",
    "load_speaker",
    "speak_text_blocking",
    "write_wav",
]


def speak_text_blocking(
    text: str, *, rate: int | None = None, volume: float | None = None, voice: str | None = None
) -> None:
    """Speak `text` on the default output and return when it has been said.

    When speech is unavailable (no engine, no output device, a bad voice) it prints one warning line to
    standard error and returns: the caller has already shown the text, so that is enough."""
    try:
        speaker = load_speaker(
            rate=DEFAULT_RATE if rate is None else rate, volume=1.0 if volume is None else volume, voice=voice
        )
        try:
            speaker.check_output()
            speaker.speak(text, StopSignal())
        finally:
            speaker.close()
    except AssistantError as error:
        print(f"assistant: warning: not spoken: {error}", file=sys.stderr)
