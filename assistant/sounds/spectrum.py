"""The one short-time spectrum every sound detector reads, computed once per chunk of audio.

`Spectrogram.push(chunk)` turns 16 kHz mono float32 audio, in chunks of any size, into power spectra of
32 ms Hann windows every 10 ms (`FrameBlock`). The alarm-pattern detector and the taught-sound matcher
both read the same blocks, so the Fourier transforms are paid for once, however many detectors listen.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from assistant.audio.source import SAMPLE_RATE, AudioArray

WINDOW = 512
"""Samples per analysis window (32 ms): 31.25 Hz between frequency bins."""
HOP = 160
"""Samples between windows (10 ms): fine enough to time a 0.1 s carbon-monoxide beep."""
BIN_HZ = SAMPLE_RATE / WINDOW
FRAMES_PER_SECOND = SAMPLE_RATE / HOP

FloatMatrix = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

PROMINENCE_GUARD = 3
"""Bins either side of a tone left out of its background: a Hann-windowed tone spreads over +-2."""
PROMINENCE_REACH = 12
"""The background reaches +-12 bins (375 Hz) from the tone."""
FULL_SCALE_TONE = 1.5 * (WINDOW / 4) ** 2
"""Power of a full-scale sine summed over its three bins (Hann window)."""


@dataclass(frozen=True)
class FrameBlock:
    """Power spectra of consecutive frames: `power[i]` is frame `first + i`, `WINDOW // 2 + 1` bins."""

    first: int
    power: FloatMatrix

    def __len__(self) -> int:
        return int(self.power.shape[0])

    @cached_property
    def tones(self) -> tuple[FloatMatrix, FloatMatrix]:
        """(prominence in dB, tone power) at every bin of `TONE_BINS`: computed once, read by every
        detector that looks for tones."""
        return tone_prominence(self.power, TONE_BINS)


def frame_time(index: float) -> float:
    """Audio seconds at the centre of frame `index`."""
    return (index * HOP + WINDOW / 2) / SAMPLE_RATE


def hz_to_bin(hz: float) -> int:
    return int(round(hz / BIN_HZ))


def prominence_bins(low_hz: float, high_hz: float) -> IntArray:
    """The bins from `low_hz` to `high_hz` that have a whole background on either side."""
    low = max(hz_to_bin(low_hz), PROMINENCE_REACH + 1)
    high = min(hz_to_bin(high_hz), WINDOW // 2 - PROMINENCE_REACH - 1)
    return np.arange(low, high + 1, dtype=np.int64)


TONE_LOW_HZ, TONE_HIGH_HZ = 200.0, 6000.0
TONE_BINS = prominence_bins(TONE_LOW_HZ, TONE_HIGH_HZ)
"""The bins `FrameBlock.tones` covers: 200 Hz to 6 kHz."""


def tone_prominence(power: FloatMatrix, bins: IntArray) -> tuple[FloatMatrix, FloatMatrix]:
    """(prominence in dB, tone power) of every frame of `power` at `bins`.

    A bin's prominence is the power of the bin and its two neighbours (a tone between bins is caught
    whole), over the geometric mean of the bins 3-12 away on both sides. A steady tone stands 20-50 dB
    out; noise about 2 dB; the harmonics of a voice mostly under 12 dB, and only for a moment."""
    floor = np.float32(1e-12)
    three = power[:, bins - 1] + power[:, bins] + power[:, bins + 1]
    logs = np.log10(power + floor)
    cumulative = np.zeros((len(power), logs.shape[1] + 1), np.float32)
    np.cumsum(logs, axis=1, out=cumulative[:, 1:])
    guard, reach = PROMINENCE_GUARD, PROMINENCE_REACH
    below = cumulative[:, bins - guard + 1] - cumulative[:, bins - reach]
    above = cumulative[:, bins + reach + 1] - cumulative[:, bins + guard]
    background = (below + above) / (2 * (reach - guard + 1))
    prominence = 10 * (np.log10(three / 3 + floor) - background)
    return prominence.astype(np.float32), three.astype(np.float32)


class Spectrogram:
    """Streaming short-time power spectrum (Hann window, `WINDOW` samples, `HOP` apart)."""

    def __init__(self) -> None:
        self._window = np.hanning(WINDOW).astype(np.float32)
        self._pending: AudioArray = np.zeros(0, dtype=np.float32)
        self._next_frame = 0

    @property
    def frames_done(self) -> int:
        return self._next_frame

    def push(self, chunk: AudioArray) -> FrameBlock:
        """Every whole frame that `chunk` completes (possibly none)."""
        audio = np.concatenate([self._pending, np.asarray(chunk, dtype=np.float32)])
        count = 0 if len(audio) < WINDOW else (len(audio) - WINDOW) // HOP + 1
        if count == 0:
            self._pending = audio
            return FrameBlock(self._next_frame, np.zeros((0, WINDOW // 2 + 1), np.float32))
        frames = np.lib.stride_tricks.sliding_window_view(audio, WINDOW)[: count * HOP : HOP]
        spectrum = np.fft.rfft(frames * self._window, axis=1)
        power = (spectrum.real**2 + spectrum.imag**2).astype(np.float32)
        self._pending = audio[count * HOP :]
        block = FrameBlock(self._next_frame, power)
        self._next_frame += count
        return block
