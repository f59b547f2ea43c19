"""End to end through a real sound server: speech played into a virtual speaker comes back, intact and at
the right length, through the virtual microphone (MicrophoneSource via PortAudio) and through the
speaker's monitor (SystemAudioSource via parec)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from assistant.audio.source import SAMPLE_RATE, AudioSource
from assistant.audio.sources import FileSource, MicrophoneSource, SystemAudioSource
from assistant.errors import EndOfAudio
from tests.helpers.polling import poll_until
from tests.helpers.pulse import PulseServer

CLIP = "librispeech_1089-134686-0001.flac"  # 3.27 s of real speech


def _decode(path: Path) -> np.ndarray:
    source = FileSource(path, chunk_seconds=1.0)
    source.open()
    pieces = []
    try:
        while True:
            pieces.append(source.read())
    except EndOfAudio:
        return np.concatenate(pieces)


def _wait_until_flowing(sources: list[AudioSource], seconds: float = 6.0) -> None:
    waiting = list(sources)

    def all_flowing() -> bool:
        waiting[:] = [source for source in waiting if len(source.read(timeout=0.1)) == 0]
        return not waiting

    poll_until(all_flowing, seconds, lambda: f"audio from {[s.description for s in waiting]}", interval=0)


def _aligned_correlation(reference: np.ndarray, captured: np.ndarray) -> tuple[float, int]:
    """Normalised correlation of `reference` with the best-aligned stretch of `captured`, and the lag."""
    size = 1 << int(np.ceil(np.log2(len(captured) + len(reference))))
    cross = np.fft.irfft(np.fft.rfft(captured, size) * np.conj(np.fft.rfft(reference, size)), size)
    lag = int(np.argmax(cross[: len(captured) - len(reference) + 1]))
    segment = captured[lag : lag + len(reference)]
    score = float(np.dot(segment, reference) / (np.linalg.norm(segment) * np.linalg.norm(reference) + 1e-12))
    return score, lag


@pytest.mark.pulse
def test_speech_played_into_the_speaker_is_captured_by_mic_and_system_audio(
    pulse_server: PulseServer, test_data: Path
) -> None:
    clip = test_data / "speech" / CLIP
    reference = _decode(clip)
    mic = MicrophoneSource(None)  # the server's default source is its virtual microphone
    system = SystemAudioSource()
    captured: dict[str, list[np.ndarray]] = {"mic": [], "system": []}
    mic.open()
    system.open()
    try:
        _wait_until_flowing([mic, system])
        player = pulse_server.play(clip)
        # Keep reading (as the captions loop would) until playback ends, plus a little tail.
        deadline: float | None = None
        while deadline is None or time.monotonic() < deadline:
            captured["mic"].append(mic.read(timeout=0.05))
            captured["system"].append(system.read(timeout=0.05))
            if deadline is None and player.poll() is not None:
                deadline = time.monotonic() + 0.7
        assert player.returncode == 0
    finally:
        mic.close()
        system.close()

    for name, pieces in captured.items():
        audio = np.concatenate(pieces)
        assert len(audio) >= len(reference), f"{name}: captured {len(audio) / SAMPLE_RATE:.2f} s"
        score, lag = _aligned_correlation(reference, audio)
        assert score > 0.9, f"{name}: correlation {score:.3f}"
        # What follows the aligned clip is the silence after playback: the clip arrived at its own length.
        after = audio[lag + len(reference) + int(0.05 * SAMPLE_RATE) :]
        assert len(after) == 0 or np.abs(after).max() < 0.01, f"{name}: sound after the clip ended"
        voiced = np.flatnonzero(np.abs(audio) > 0.01)
        voiced_seconds = (voiced[-1] - voiced[0]) / SAMPLE_RATE
        reference_voiced = np.flatnonzero(np.abs(reference) > 0.01)
        expected_seconds = (reference_voiced[-1] - reference_voiced[0]) / SAMPLE_RATE
        assert voiced_seconds == pytest.approx(expected_seconds, abs=0.1), name
