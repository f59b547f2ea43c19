"""The finder's guidance tone: a short beep, faster and higher as the match grows, like a metal detector.

`GuidanceTone.update(level, t)` is called with each score (0-1); it beeps when the interval for that
level has passed since the last beep, and never while the speech controller is speaking (`is_speaking`):
a beep over "keys, on the left" would hide the words the user is waiting for. `play` is injectable; the
default plays through PortAudio on a short-lived thread, so the caller never waits for the sound.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import numpy as np

from assistant.errors import AssistantError
from assistant.voice.speaker import AudioArray

log = logging.getLogger(__name__)

TONE_RATE = 22050
LOW_HZ, HIGH_HZ = 440.0, 1320.0
SLOW_S, FAST_S = 1.0, 0.15
"""Seconds between beeps at level 0 and at level 1."""
BEEP_S = 0.06


def beep(frequency: float, seconds: float = BEEP_S, rate: int = TONE_RATE, volume: float = 0.3) -> AudioArray:
    """A sine beep with 5 ms fades (no clicks), float32 in -1..1."""
    count = max(1, round(seconds * rate))
    t = np.arange(count, dtype=np.float32) / rate
    wave = volume * np.sin(2 * np.pi * frequency * t).astype(np.float32)
    fade = min(count // 2, round(0.005 * rate))
    if fade:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        wave[:fade] *= ramp
        wave[-fade:] *= ramp[::-1]
    return wave.astype(np.float32)


def pitch_for(level: float) -> float:
    level = float(np.clip(level, 0.0, 1.0))
    return float(LOW_HZ * (HIGH_HZ / LOW_HZ) ** level)


def interval_for(level: float) -> float:
    level = float(np.clip(level, 0.0, 1.0))
    return SLOW_S + (FAST_S - SLOW_S) * level


def play_through_portaudio(audio: AudioArray, rate: int) -> None:
    """Play `audio` on a daemon thread; an output problem is logged once per beep, never raised."""

    def run() -> None:
        from assistant.voice.player import StreamingPlayer
        from assistant.voice.speaker import StopSignal

        player = StreamingPlayer(rate)
        try:
            player.start()
            player.write(audio)
            player.end_of_audio()
            player.wait(StopSignal())
        except AssistantError as error:
            log.info("tone: not played (%s)", error)
        finally:
            player.close()

    threading.Thread(target=run, name="guidance-tone", daemon=True).start()


class GuidanceTone:
    """Decides when to beep and at what pitch. Call from one thread (the search loop)."""

    def __init__(
        self,
        is_speaking: Callable[[], bool],
        play: Callable[[AudioArray, int], None] = play_through_portaudio,
        *,
        enabled: bool = True,
    ) -> None:
        self.is_speaking = is_speaking
        self.play = play
        self.enabled = enabled
        self._last_beep: float | None = None
        self.beeps: list[tuple[float, float]] = []
        """(time, frequency) of every beep played, newest last (kept short)."""

    def update(self, level: float, t: float) -> bool:
        """Beep if one is due at `level`; True when it beeped."""
        if not self.enabled or self.is_speaking():
            return False
        if self._last_beep is not None and t - self._last_beep < interval_for(level):
            return False
        frequency = pitch_for(level)
        self.play(beep(frequency), TONE_RATE)
        self._last_beep = t
        self.beeps.append((t, frequency))
        del self.beeps[:-50]
        return True
