"""The `AudioSource` protocol: anything that delivers 16 kHz mono float32 audio in chunks.

Sources are pull-based so that the captioning loop owns the pace: `read()` returns the audio that has
arrived since the last call (or waits up to `timeout` for some). Live sources keep a bounded buffer and
drop the oldest audio when the consumer falls behind, counting what they dropped.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 16_000
"""Every source delivers audio at this rate, mono, float32 in [-1, 1]."""

AudioArray = npt.NDArray[np.float32]


@runtime_checkable
class AudioSource(Protocol):
    """A stream of 16 kHz mono float32 audio.

    - `open()` acquires the device or file; raises `AudioInputError` with a clear message on failure.
    - `read(timeout)` returns the next chunk (possibly empty when nothing arrived in time);
      raises `EndOfAudio` when a finite source is exhausted and `DeviceLostError` when a live device
      stops delivering (the caller may `close()` and `open()` again to resume).
    - `close()` releases everything; safe to call twice and from any state.
    - `dropped_seconds` counts audio discarded because the consumer fell behind.
    """

    description: str

    @property
    def dropped_seconds(self) -> float: ...

    def open(self) -> None: ...

    def read(self, timeout: float = 0.5) -> AudioArray: ...

    def close(self) -> None: ...
