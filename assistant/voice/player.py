"""Plays one utterance through PortAudio (sounddevice) as its audio arrives, and stops it at once.

Why an in-process `sounddevice.OutputStream` rather than an `aplay`/`paplay` child process: the audio
callback sees the stop flag at its next block (about 12 ms) and `abort()` drops what the device has
buffered, with no process to spawn per utterance and none to reap; the callback also tells us the moment
the first sample goes out, which is how the text→first-audio time is measured. It is the same library the
audio inputs use, so a machine that can capture through PortAudio can speak through it.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

from assistant.errors import AssistantError
from assistant.voice.speaker import AudioArray, StopSignal

log = logging.getLogger(__name__)

BLOCK_FRAMES = 256
OUTPUT_LATENCY_S = 0.1
"""Device buffer. 'low' (~23 ms) underran 45-135 times an utterance with captions running on two busy
cores (garbled speech); stopping does not wait for this buffer, because `abort()` drops it."""
"""Frames per audio callback: ~12 ms at 22.05 kHz, the longest a stop waits for the callback to see it."""

STALL_SECONDS = 5.0
"""An open stream whose callback has not run for this long is treated as a lost output device."""


class AudioOutputError(AssistantError):
    """There is no usable audio output device (speech can still be written to a file)."""


def no_output_message(detail: str) -> str:
    return (
        f"no audio output device for speech ({detail}): connect speakers or headphones, or start "
        "PulseAudio / PipeWire; `assistant say --to-file OUT.wav` still works"
    )


def _sounddevice() -> ModuleType:
    try:
        import sounddevice
    except OSError as error:  # sounddevice raises OSError when the PortAudio library is absent
        raise AudioOutputError(
            f"speech playback unavailable: PortAudio is missing ({error}); "
            "install it (Debian: apt install libportaudio2)"
        ) from error
    module: ModuleType = sounddevice
    return module


def output_device_info(device: int | str | None = None) -> dict[str, Any]:
    """PortAudio's description of the output device (the default when `device` is None).

    Raises `AudioOutputError` when there is none or the name matches nothing."""
    sd = _sounddevice()
    try:
        info = sd.query_devices(device, kind="output")
    except (ValueError, sd.PortAudioError) as error:
        raise AudioOutputError(no_output_message(str(error).strip() or "none found")) from error
    if not isinstance(info, dict) or int(info.get("max_output_channels", 0)) < 1:
        raise AudioOutputError(no_output_message(f"device {device!r} has no output channels"))
    return dict(info)


class StreamingPlayer:
    """One utterance: `start()`, `write()` chunks as they are synthesised, `end_of_audio()`, then
    `wait(stop)` until it played out or `stop` was set. Not reusable; make one per utterance."""

    def __init__(
        self,
        sample_rate: int,
        device: int | str | None = None,
        on_first_sample: Callable[[], None] | None = None,
    ) -> None:
        self.sample_rate = sample_rate
        self.device = device
        self.on_first_sample = on_first_sample  # runs on the audio thread: keep it as cheap as Event.set
        self.first_sample_at: float | None = None
        self.stopped_at: float | None = None
        self.output_latency_s: float | None = None
        self._lock = threading.Lock()
        self._chunks: collections.deque[AudioArray] = collections.deque()
        self._offset = 0  # frames of _chunks[0] already played
        self._ended = False
        self._abort = threading.Event()  # read by the audio callback: no lock in the real-time path
        self._wake = threading.Event()  # set when the stream finished or the stop signal fired
        self._last_callback_at = 0.0
        self._stream: Any = None
        self._resampler: Any = None

    def start(self) -> None:
        """Open the device and start the stream (it plays silence until audio arrives)."""
        sd = _sounddevice()
        info = output_device_info(self.device)
        rate = self.sample_rate
        try:
            self._stream = self._open(sd, rate)
        except sd.PortAudioError as error:
            # Raw ALSA devices often accept only 44.1/48 kHz: resample rather than give up.
            if "sample rate" not in str(error).lower():
                raise AudioOutputError(no_output_message(str(error))) from error
            import soxr

            rate = int(info["default_samplerate"])
            self._resampler = soxr.ResampleStream(self.sample_rate, rate, 1, dtype="float32")
            try:
                self._stream = self._open(sd, rate)
            except sd.PortAudioError as second:
                raise AudioOutputError(no_output_message(str(second))) from second
        self.output_latency_s = float(self._stream.latency)
        self._last_callback_at = time.monotonic()
        self._stream.start()
        log.info(
            "voice: playing on %r at %d Hz (latency %.0f ms)",
            info["name"],
            rate,
            1000 * self.output_latency_s,
        )

    def _open(self, sd: ModuleType, rate: int) -> Any:
        return sd.OutputStream(
            samplerate=rate,
            channels=1,
            dtype="float32",
            device=self.device,
            blocksize=BLOCK_FRAMES,
            latency=OUTPUT_LATENCY_S,
            callback=self._on_audio_needed,
            finished_callback=self._wake.set,
        )

    def write(self, chunk: AudioArray) -> None:
        """Queue audio; safe from any thread (the synthesiser calls it from its own)."""
        if self._resampler is not None:
            chunk = self._resampler.resample_chunk(chunk, last=False)
        if len(chunk):
            with self._lock:
                self._chunks.append(chunk)

    def end_of_audio(self) -> None:
        """No more audio will come: the stream stops once the queue has played out."""
        if self._resampler is not None:
            tail = self._resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True)
            if len(tail):
                with self._lock:
                    self._chunks.append(tail)
        with self._lock:
            self._ended = True

    def _on_audio_needed(self, outdata: Any, frames: int, time_info: Any, status: Any) -> None:
        import sounddevice as sd

        self._last_callback_at = time.monotonic()
        if self._abort.is_set():
            outdata.fill(0)
            raise sd.CallbackAbort
        filled = 0
        with self._lock:
            while filled < frames and self._chunks:
                chunk = self._chunks[0]
                take = min(frames - filled, len(chunk) - self._offset)
                outdata[filled : filled + take, 0] = chunk[self._offset : self._offset + take]
                filled += take
                self._offset += take
                if self._offset >= len(chunk):
                    self._chunks.popleft()
                    self._offset = 0
            finished = self._ended and not self._chunks
        outdata[filled:] = 0
        if filled and self.first_sample_at is None:
            self.first_sample_at = self._last_callback_at
            if self.on_first_sample is not None:
                self.on_first_sample()
        if finished:
            raise sd.CallbackStop  # plays out what the device holds, then calls finished_callback

    def wait(self, stop: StopSignal) -> bool:
        """Block until the audio played out (True) or `stop` was set (False); closes the stream either way.

        Raises `AudioOutputError` when the device stops asking for audio (unplugged, server gone)."""
        stop.add_listener(self._on_stop)
        try:
            while not self._wake.wait(timeout=0.5):
                if time.monotonic() - self._last_callback_at > STALL_SECONDS:
                    raise AudioOutputError(no_output_message("the output device stopped playing"))
            if stop.is_set():
                self._stream.abort()  # drops what the device still holds; returns once it is silent
                self.stopped_at = time.monotonic()
                return False
            return True
        finally:
            self.close()

    def _on_stop(self) -> None:
        self._abort.set()
        self._wake.set()

    def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.abort()
            stream.close()
