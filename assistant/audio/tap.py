"""A source fed by another source's reader: how a second listener shares one capture.

Live captions read the microphone; sound alerts must hear the same audio without opening the device a
second time. The captioning loop hands every chunk it reads to `AudioTap.push` (cheap: a copy into a
bounded buffer), and the alert loop reads the tap like any other `AudioSource`. A reader that falls
behind loses the oldest audio, counted in `dropped_seconds`, never a growing backlog. A reader that is
done closes the tap, which then takes no more audio (the producer may go on pushing to it: nothing is
kept).
"""

from __future__ import annotations

import collections
import threading

import numpy as np

from assistant.audio.source import SAMPLE_RATE, AudioArray
from assistant.errors import EndOfAudio

_EMPTY: AudioArray = np.zeros(0, dtype=np.float32)


class AudioTap:
    """An `AudioSource` whose audio is pushed in by another loop (`push`) until it calls `end()`."""

    def __init__(self, description: str = "shared capture", buffer_seconds: float = 10.0) -> None:
        self.description = description
        self._max_samples = int(buffer_seconds * SAMPLE_RATE)
        self._blocks: collections.deque[AudioArray] = collections.deque()
        self._size = 0
        self._dropped = 0
        self._ended = False
        self._closed = False
        self._ready = threading.Condition()

    @property
    def dropped_seconds(self) -> float:
        with self._ready:
            return self._dropped / SAMPLE_RATE

    def push(self, chunk: AudioArray) -> None:
        """Hand over a chunk (any thread). Keeps at most `buffer_seconds`, dropping the oldest."""
        if not len(chunk):
            return
        with self._ready:
            if self._closed:
                return
            self._blocks.append(np.array(chunk, dtype=np.float32, copy=True))
            self._size += len(chunk)
            while self._size > self._max_samples and len(self._blocks) > 1:
                oldest = self._blocks.popleft()
                self._size -= len(oldest)
                self._dropped += len(oldest)
            self._ready.notify_all()

    def end(self) -> None:
        """The producer is done: readers get the rest, then `EndOfAudio`."""
        with self._ready:
            self._ended = True
            self._ready.notify_all()

    def open(self) -> None:
        return None

    def read(self, timeout: float = 0.5) -> AudioArray:
        with self._ready:
            if not self._blocks and not self._ended:
                self._ready.wait(timeout)
            if not self._blocks:
                if self._ended:
                    raise EndOfAudio(self.description)
                return _EMPTY
            blocks = list(self._blocks)
            self._blocks.clear()
            self._size = 0
        return blocks[0] if len(blocks) == 1 else np.concatenate(blocks)

    def close(self) -> None:
        """The reader is done (a recording made, alerts stopped or restarted): keep nothing more."""
        with self._ready:
            self._closed = True
            self._ended = True
            self._blocks.clear()
            self._size = 0
            self._ready.notify_all()
