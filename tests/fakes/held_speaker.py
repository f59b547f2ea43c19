"""A `Speaker` that "speaks" until the test lets it finish: it stands for the eSpeak NG voice behind the
speech controller, so a test can hold an utterance in the middle and check what happens meanwhile (the
finder's tone must stay quiet). No audio is made; `spoken` records each text."""

from __future__ import annotations

import threading

import numpy as np

from assistant.voice.speaker import AudioArray, StopSignal, UtteranceTiming, Voice


class HeldSpeaker:
    def __init__(self) -> None:
        self.spoken: list[str] = []
        self.speaking = threading.Event()
        self.release = threading.Event()

    @property
    def sample_rate(self) -> int:
        return 22050

    @property
    def last_timing(self) -> UtteranceTiming:
        return UtteranceTiming()

    def open(self) -> None:
        pass

    def voices(self) -> list[Voice]:
        return []

    def configure(
        self, *, rate: int | None = None, volume: float | None = None, voice: str | None = None
    ) -> None:
        pass

    def synthesize(self, text: str) -> AudioArray:
        return np.zeros(10, dtype=np.float32)

    def speak(self, text: str, stop: StopSignal) -> bool:
        self.spoken.append(text)
        self.speaking.set()
        stop.add_listener(self.release.set)
        self.release.wait(10)
        self.release.clear()
        self.speaking.clear()
        return not stop.is_set()

    def close(self) -> None:
        pass
