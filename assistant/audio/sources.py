"""Concrete audio sources: a microphone, what the computer plays, and audio files.

Every source here follows the `AudioSource` protocol: it delivers 16 kHz mono float32, `open()` does the
work that can fail (and fails with an `AudioInputError` that says what to do), `read()` hands over the
audio that arrived since the last call, and `close()` releases everything. Live sources keep at most
`buffer_seconds` of audio and drop the oldest when the consumer falls behind, counting what they dropped.

A microphone that stops delivering (unplugged, its sound server gone) raises `DeviceLostError` from
`read()`; the caller closes the source and may `open()` it again once the device is back. A sound server
that hangs (stopped, or deadlocked) blocks PortAudio's calls into it forever, so a microphone is opened
and closed on a thread of its own and waited for at most `DEVICE_ANSWER_SECONDS`: the caller always gets
control back, to say so, to try again, or to end when the user asks.
"""

from __future__ import annotations

import atexit
import collections
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from assistant.audio.source import SAMPLE_RATE, AudioArray, AudioSource
from assistant.errors import AudioInputError, DeviceLostError, EndOfAudio

log = logging.getLogger(__name__)

DEFAULT_BUFFER_SECONDS = 30.0
"""Live sources keep at most this much unread audio; older audio is dropped and counted."""

_PICK_HINT = "pick one with --input; `assistant devices` lists them"
_EMPTY: AudioArray = np.zeros(0, dtype=np.float32)

DEVICE_ANSWER_SECONDS = 3.0
"""How long opening or closing a microphone may take before its sound server counts as not answering."""


class _DeviceCall:
    """One call into PortAudio on a daemon thread of its own, so that a hung sound server blocks that
    thread and never the caller. `wait()` says whether it ended in time; a call that ends after its
    caller gave up on it hands its result to `give_up`'s clean-up instead, so nothing it opened leaks."""

    def __init__(self, call: Callable[[], Any], name: str) -> None:
        self.result: Any = None
        self.error: BaseException | None = None
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._clean_up: Callable[[Any], None] | None = None
        self._abandoned = False
        threading.Thread(target=self._run, args=(call,), name=name, daemon=True).start()

    def _run(self, call: Callable[[], Any]) -> None:
        try:
            result = call()
        except BaseException as error:  # noqa: BLE001 - handed to the caller, who knows what it means
            self.error = error
            result = None
        with self._lock:
            self.result = result
            self._done.set()
            late_clean_up = self._clean_up if self._abandoned else None
        if late_clean_up is not None and result is not None:
            late_clean_up(result)

    def wait(self, seconds: float) -> bool:
        return self._done.wait(seconds)

    def give_up(self, clean_up: Callable[[Any], None] | None = None) -> None:
        """Nobody waits for this call any more; `clean_up(result)` runs if it succeeds after all."""
        with self._lock:
            if self._done.is_set():
                late_result = self.result
            else:
                self._abandoned, self._clean_up = True, clean_up
                return
        if clean_up is not None and late_result is not None:
            clean_up(late_result)


_UNANSWERED_STREAMS: list[Any] = []
"""Streams a hung sound server never let go of: kept, so that nothing frees them under PortAudio."""


class _BoundedBuffer:
    """Thread-safe FIFO of mono float32 blocks holding at most `max_samples` (oldest dropped first).

    The producer is a device callback or a reader thread; the consumer is `read()`.
    """

    def __init__(self, max_samples: int) -> None:
        self._max_samples = max_samples
        self._blocks: collections.deque[AudioArray] = collections.deque()
        self._size = 0
        self._dropped = 0
        self._ready = threading.Condition()

    @property
    def dropped_samples(self) -> int:
        with self._ready:
            return self._dropped

    def push(self, block: AudioArray) -> None:
        with self._ready:
            self._blocks.append(block)
            self._size += len(block)
            while self._size > self._max_samples:
                excess = self._size - self._max_samples
                oldest = self._blocks[0]
                if len(oldest) <= excess:
                    self._blocks.popleft()
                    self._size -= len(oldest)
                    self._dropped += len(oldest)
                else:
                    self._blocks[0] = oldest[excess:]
                    self._size -= excess
                    self._dropped += excess
            self._ready.notify_all()

    def wake(self) -> None:
        """Wake a waiting consumer early (the producer ended)."""
        with self._ready:
            self._ready.notify_all()

    def take_all(self, timeout: float) -> AudioArray:
        """Everything buffered, waiting up to `timeout` seconds for something to arrive."""
        with self._ready:
            if not self._blocks and timeout > 0:
                self._ready.wait(timeout)
            if not self._blocks:
                return _EMPTY
            blocks = list(self._blocks)
            self._blocks.clear()
            self._size = 0
        return np.concatenate(blocks) if len(blocks) > 1 else blocks[0]

    def clear(self) -> None:
        with self._ready:
            self._blocks.clear()
            self._size = 0


def _sounddevice() -> Any:
    """Import sounddevice, turning a missing PortAudio library into a clear error."""
    try:
        import sounddevice
    except OSError as error:  # sounddevice raises OSError when libportaudio is absent
        raise AudioInputError(
            f"audio input is unavailable: the PortAudio library is missing ({error}); "
            "install it (Debian/Ubuntu: apt install libportaudio2)"
        ) from error
    return sounddevice


def _device_label(device: int | str | None) -> str:
    return "the default microphone" if device is None else f"input device {device!r}"


class MicrophoneSource:
    """A live input device through PortAudio (sounddevice), converted to 16 kHz mono.

    The device is opened at its own sample rate and (up to two of) its channels, because asking a
    device for 16 kHz makes some host APIs fail and others resample badly; we downmix in the device
    callback and resample in `read()` with soxr's streaming resampler, which keeps filter state
    across chunks so there are no clicks at chunk boundaries.
    """

    def __init__(
        self,
        device: int | str | None = None,
        *,
        buffer_seconds: float = DEFAULT_BUFFER_SECONDS,
        stall_seconds: float = 2.0,
        startup_seconds: float = 5.0,
        extra_settings: Any = None,
    ) -> None:
        self.device = device
        self.description = f"microphone: {'default input' if device is None else device}"
        self._buffer_seconds = buffer_seconds
        self._stall_seconds = stall_seconds
        # Some PulseAudio/ALSA paths take over a second to deliver their first block.
        self._startup_seconds = startup_seconds
        self._extra_settings = extra_settings
        self._stream: Any = None
        self._opening: _DeviceCall | None = None  # an open the sound server has not answered yet
        self._device_name = ""
        self._buffer: _BoundedBuffer | None = None
        self._resampler: Any = None
        self._native_rate = SAMPLE_RATE
        self._finished = threading.Event()
        self._last_callback = 0.0
        self._first_block = threading.Event()

    @property
    def dropped_seconds(self) -> float:
        if self._buffer is None:
            return 0.0
        return self._buffer.dropped_samples / self._native_rate

    def open(self) -> None:
        if self._stream is not None:
            return
        sd = _sounddevice()
        label = _device_label(self.device)
        if self._opening is None:
            info = self._query_device(sd, label)
            self._native_rate = int(round(float(info["default_samplerate"]))) or SAMPLE_RATE
            import soxr

            self._resampler = soxr.ResampleStream(self._native_rate, SAMPLE_RATE, 1, dtype="float32")
            self._buffer = _BoundedBuffer(int(self._buffer_seconds * self._native_rate))
            self._finished.clear()
            self._first_block.clear()
            self._device_name = str(info["name"])
            self._opening = _DeviceCall(lambda: self._start_stream(sd, info), "audio-open")
        # An attempt that the server left unanswered is waited for again, never started twice.
        opening = self._opening
        if not opening.wait(DEVICE_ANSWER_SECONDS):
            raise DeviceLostError(
                f"{label} is not answering: its sound server may have hung. Restart the sound server "
                f"(or the computer's audio), or {_PICK_HINT}"
            )
        self._opening = None
        if isinstance(opening.error, sd.PortAudioError):
            self._release()
            raise AudioInputError(
                f"could not open {label} ({self._device_name}): {opening.error}. It may be unplugged or in "
                f"use by another program; close that program, or {_PICK_HINT}"
            ) from opening.error
        if opening.error is not None:
            self._release()
            raise opening.error
        self._stream = opening.result
        self._last_callback = time.monotonic()  # stalls are counted from when the stream is handed over

    def _start_stream(self, sd: Any, info: dict[str, Any]) -> Any:
        """Open and start the device's stream (on a `_DeviceCall` thread: this is where a server hangs)."""
        # PulseAudio's ALSA device advertises 32 channels; two is all speech needs.
        channels = max(1, min(int(info["max_input_channels"]), 2))
        stream = sd.InputStream(
            device=info["index"],
            samplerate=self._native_rate,
            channels=channels,
            dtype="float32",
            callback=self._on_block,
            finished_callback=self._finished.set,
            extra_settings=self._extra_settings,
        )
        try:
            stream.start()
        except BaseException:
            stream.close(ignore_errors=True)
            raise
        log.info(
            "audio: opened %s (%s) at %d Hz, %d channel(s)",
            _device_label(self.device), info["name"], self._native_rate, channels,
        )  # fmt: skip
        return stream

    def _query_device(self, sd: Any, label: str) -> dict[str, Any]:
        device: int | str | None = self.device
        if isinstance(device, str) and device.strip().isdigit():
            device = int(device)
        try:
            info: dict[str, Any] = dict(sd.query_devices(device, "input"))
        except (ValueError, sd.PortAudioError) as error:
            try:
                any_input = any(d["max_input_channels"] > 0 for d in sd.query_devices())
            except sd.PortAudioError:
                any_input = False
            if not any_input:
                raise AudioInputError(
                    f"no microphone found (looking for {label}): plug one in or start the sound server, "
                    f"or {_PICK_HINT}"
                ) from error
            raise AudioInputError(
                f"{label} is not an available microphone ({error}); {_PICK_HINT}"
            ) from error
        if int(info["max_input_channels"]) < 1:
            raise AudioInputError(f"{label} ({info['name']}) has no input channels; {_PICK_HINT}")
        return info

    def _on_block(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        # Runs on PortAudio's thread: keep it short and never raise.
        self._last_callback = time.monotonic()
        self._first_block.set()
        mono = indata.mean(axis=1, dtype=np.float32) if indata.shape[1] > 1 else indata[:, 0].copy()
        if self._buffer is not None:
            self._buffer.push(mono)

    def read(self, timeout: float = 0.5) -> AudioArray:
        if self._stream is None or self._buffer is None:
            raise AudioInputError(f"{self.description} is not open; call open() first")
        native = self._buffer.take_all(timeout)
        if len(native):
            return self._to_16k(native)
        now = time.monotonic()
        if self._finished.is_set() or not self._stream.active:
            raise DeviceLostError(
                f"{_device_label(self.device)} stopped delivering audio (disconnected, or its sound server "
                "stopped); plug it back in, then captions resume; or pick another with --input"
            )
        limit = self._stall_seconds if self._first_block.is_set() else self._startup_seconds
        if now - self._last_callback > limit:
            raise DeviceLostError(
                f"{_device_label(self.device)} delivered no audio for {now - self._last_callback:.1f} s; "
                f"check it is plugged in and not muted, or {_PICK_HINT}"
            )
        return _EMPTY

    def _to_16k(self, native: AudioArray) -> AudioArray:
        if self._native_rate == SAMPLE_RATE:
            return native
        out: AudioArray = self._resampler.resample_chunk(native).astype(np.float32, copy=False)
        return out

    def _release(self) -> None:
        stream, self._stream = self._stream, None
        if self._opening is not None:  # the user gave up on a device that never answered
            self._opening.give_up(_stop_stream)
            self._opening = None
        if stream is not None:
            # WORKAROUND: sounddevice's exit handler terminates PortAudio, which closes a stream that is
            # still closing again, and hangs as it does: it is put back once the stream has let go (if
            # one never does, the process's end releases it anyway).
            exit_handler = _sounddevice()._exit_handler
            atexit.unregister(exit_handler)
            closing = _DeviceCall(lambda: _stop_stream(stream), "audio-close")
            if not closing.wait(DEVICE_ANSWER_SECONDS):
                log.warning(
                    "audio: %s did not let go within %g s; left open", self.description, DEVICE_ANSWER_SECONDS
                )
                _UNANSWERED_STREAMS.append(stream)
            else:
                if not _UNANSWERED_STREAMS:
                    atexit.register(exit_handler)
                if closing.error is not None:  # a vanished device fails to close in its own ways
                    log.warning("audio: closing %s failed: %s", self.description, closing.error)
        if self._buffer is not None:
            self._buffer.clear()
        self._resampler = None

    def close(self) -> None:
        self._release()


def _stop_stream(stream: Any) -> None:
    stream.abort(ignore_errors=True)
    stream.close(ignore_errors=True)


class _PulseRecorder:
    """Records one PulseAudio/PipeWire source with the `parec` program, at 16 kHz mono float32.

    `parec` names its source explicitly (no process-wide `PULSE_SOURCE` to set and race on) and the
    sound server does the resampling; when the server or the source goes away, parec exits and we see
    end of file, which is a clean loss signal.
    """

    def __init__(self, source: str, description: str, buffer_seconds: float) -> None:
        self.source = source
        self.description = description
        self._buffer_seconds = buffer_seconds
        self._buffer: _BoundedBuffer | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._ended = threading.Event()

    @property
    def dropped_seconds(self) -> float:
        return 0.0 if self._buffer is None else self._buffer.dropped_samples / SAMPLE_RATE

    def open(self) -> None:
        if self._process is not None:
            return
        parec = shutil.which("parec")
        if parec is None:
            raise AudioInputError(
                f"cannot record {self.description}: the `parec` program is missing; "
                "install pulseaudio-utils (it works with PulseAudio and PipeWire)"
            )
        self._buffer = _BoundedBuffer(int(self._buffer_seconds * SAMPLE_RATE))
        self._ended.clear()
        self._process = subprocess.Popen(
            [
                parec,
                f"--device={self.source}",
                "--format=float32le",
                f"--rate={SAMPLE_RATE}",
                "--channels=1",
                "--latency-msec=50",
                "--client-name=assistant",
                "--stream-name=captions",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._reader = threading.Thread(target=self._read_stdout, name="audio-parec", daemon=True)
        self._reader.start()
        log.info("audio: recording %s (%s) with parec", self.description, self.source)

    def _read_stdout(self) -> None:
        process, buffer = self._process, self._buffer
        assert process is not None and process.stdout is not None and buffer is not None
        fd = process.stdout.fileno()
        pending = b""
        while True:
            data = os.read(fd, 6400)
            if not data:
                break
            pending += data
            whole = len(pending) - len(pending) % 4
            if whole:
                buffer.push(np.frombuffer(pending[:whole], dtype="<f4").astype(np.float32))
                pending = pending[whole:]
        self._ended.set()
        buffer.wake()

    def read(self, timeout: float = 0.5) -> AudioArray:
        if self._process is None or self._buffer is None:
            raise AudioInputError(f"{self.description} is not open; call open() first")
        audio = self._buffer.take_all(timeout)
        if len(audio) == 0 and self._ended.is_set():
            assert self._process.stderr is not None
            try:
                self._process.wait(timeout=1.0)
                reason = self._process.stderr.read().decode(errors="replace").strip().splitlines()
            except subprocess.TimeoutExpired:
                reason = []
            detail = f" ({reason[-1]})" if reason else ""
            raise DeviceLostError(
                f"{self.description} stopped{detail}: the sound server or the source {self.source!r} "
                "went away; restart the sound server or pick another input with --input"
            )
        return audio

    def close(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.terminate()
            try:
                process.wait(timeout=2.0)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            for stream in (process.stdout, process.stderr):
                if stream is not None:
                    stream.close()
        if self._reader is not None:
            self._reader.join(timeout=2.0)
            self._reader = None
        if self._buffer is not None:
            self._buffer.clear()


def _run_pactl(*args: str) -> str:
    """Run pactl and return its output; AudioInputError when the server is unreachable."""
    pactl = shutil.which("pactl")
    if pactl is None:
        raise AudioInputError(
            "system audio needs PulseAudio or PipeWire (with pipewire-pulse) and their tools; "
            "install pulseaudio-utils"
        )
    try:
        done = subprocess.run([pactl, *args], capture_output=True, text=True, timeout=5.0, check=False)
    except subprocess.TimeoutExpired as error:
        raise AudioInputError("the sound server did not answer `pactl` within 5 s; restart it") from error
    if done.returncode != 0:
        raise AudioInputError(
            f"no PulseAudio/PipeWire server is reachable ({done.stderr.strip() or 'pactl failed'}); "
            "start your sound server (PipeWire or PulseAudio) and try again"
        )
    return done.stdout


def default_sink_monitor() -> str:
    """The PulseAudio/PipeWire source that carries what the default output plays."""
    try:
        sink = _run_pactl("get-default-sink").strip()
    except AudioInputError:
        # pactl before 15.0 has no get-default-sink; `pactl info` has the same fact.
        sink = ""
        for line in _run_pactl("info").splitlines():
            if line.startswith("Default Sink:"):
                sink = line.split(":", 1)[1].strip()
    if not sink or sink == "@DEFAULT_SINK@":
        raise AudioInputError("the sound server has no default output device, so there is nothing to capture")
    return f"{sink}.monitor"


class PulseSource:
    """A named PulseAudio/PipeWire source (for example a sink's `.monitor`), recorded via `parec`."""

    def __init__(self, source: str, *, buffer_seconds: float = DEFAULT_BUFFER_SECONDS) -> None:
        self.source = source
        self.description = f"PulseAudio source {source}"
        self._recorder = _PulseRecorder(source, self.description, buffer_seconds)

    @property
    def dropped_seconds(self) -> float:
        return self._recorder.dropped_seconds

    def open(self) -> None:
        names = [
            line.split("\t")[1]
            for line in _run_pactl("list", "short", "sources").splitlines()
            if "\t" in line
        ]
        if self.source not in names:
            raise AudioInputError(
                f"the sound server has no source named {self.source!r}; `assistant devices` lists them"
            )
        self._recorder.open()

    def read(self, timeout: float = 0.5) -> AudioArray:
        return self._recorder.read(timeout)

    def close(self) -> None:
        self._recorder.close()


class SystemAudioSource:
    """What the computer plays (other people in a call, a video), as 16 kHz mono.

    Linux: the monitor of the PulseAudio/PipeWire default output, recorded with `parec` (see
    `_PulseRecorder` for why not PortAudio). Windows: a WASAPI loopback input if the installed PortAudio
    lists one. Elsewhere: `AudioInputError` on `open()` saying why.
    """

    description = "system audio (what this computer plays)"

    def __init__(self, *, buffer_seconds: float = DEFAULT_BUFFER_SECONDS) -> None:
        self._buffer_seconds = buffer_seconds
        self._inner: AudioSource | None = None
        self._dropped_before = 0.0

    @property
    def dropped_seconds(self) -> float:
        current = self._inner.dropped_seconds if self._inner is not None else 0.0
        return self._dropped_before + current

    def open(self) -> None:
        if self._inner is not None:
            return
        inner = self._make_inner()
        inner.open()
        self._inner = inner

    def _make_inner(self) -> AudioSource:
        if sys.platform.startswith("linux"):
            monitor = default_sink_monitor()
            return _PulseRecorder(monitor, self.description, self._buffer_seconds)
        if sys.platform == "win32":
            return MicrophoneSource(_wasapi_loopback_device(), buffer_seconds=self._buffer_seconds)
        raise AudioInputError(
            "system audio capture is not available on this system (it needs PulseAudio/PipeWire on Linux "
            "or WASAPI on Windows); on macOS install a loopback driver such as BlackHole and pick it "
            "with --input"
        )

    def read(self, timeout: float = 0.5) -> AudioArray:
        if self._inner is None:
            raise AudioInputError(f"{self.description} is not open; call open() first")
        return self._inner.read(timeout)

    def close(self) -> None:
        inner, self._inner = self._inner, None
        if inner is not None:
            self._dropped_before += inner.dropped_seconds
            inner.close()


def _wasapi_loopback_device() -> int:
    """PortAudio 19.7+ lists a '[Loopback]' input for each WASAPI output; find the default output's."""
    sd = _sounddevice()
    loopbacks = [
        d
        for d in sd.query_devices()
        if d["max_input_channels"] > 0
        and "loopback" in d["name"].lower()
        and "wasapi" in sd.query_hostapis(d["hostapi"])["name"].lower()
    ]
    if not loopbacks:
        raise AudioInputError(
            "system audio capture is not available: the installed PortAudio offers no WASAPI loopback "
            "input; enable 'Stereo Mix' in Windows sound settings and pick it with --input"
        )
    try:
        default_output = sd.query_devices(None, "output")["name"]
    except (ValueError, sd.PortAudioError):
        default_output = ""
    for device in loopbacks:
        if default_output and default_output in device["name"]:
            return int(device["index"])
    return int(loopbacks[0]["index"])


def _planar_to_mono(frame: Any) -> AudioArray:
    planes = frame.to_ndarray()  # (channels, samples) for a planar format
    mono: AudioArray = planes.mean(axis=0, dtype=np.float32) if planes.shape[0] > 1 else planes[0]
    return mono.astype(np.float32, copy=False)


URL_TIMEOUT_S = 15.0
"""Seconds to wait for a URL's server to connect, or to send the next bytes, before giving up."""

_MANGLED_URL = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):/(?!/)")


def _is_url(text: str) -> bool:
    return re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text) is not None


def _timed_out(error: BaseException) -> bool:
    """FFmpeg's own timeout shows as an "Immediate exit requested" (its interrupt callback fired)."""
    import av

    return isinstance(error, (TimeoutError, av.error.ExitError)) or "timed out" in str(error).lower()


def _ffmpeg_reason(error: BaseException) -> str:
    """FFmpeg's complaint without its `[tcp @ 0x...]` prefixes or errno numbers, in plain words."""
    text = re.sub(r"\[Errno -?\d+\]\s*", "", str(error))
    text = re.sub(r"\[\w+ @ 0x[0-9a-f]+\]\s*", "", text)
    text = re.sub(r":\s*'[^']*'$", "", text).strip()
    if "moov atom not found" in text or "Invalid data found" in text:
        return "the file is damaged or not audio FFmpeg understands"
    return text or type(error).__name__


def _silence_non_finite(audio: AudioArray) -> int:
    """Silence NaN and infinite samples (a float WAV from a broken program) in place; how many there were.
    Left in, the model decodes garbage slowly and returns nothing, with no hint why."""
    bad = ~np.isfinite(audio)
    count = int(np.count_nonzero(bad))
    if count:
        audio[bad] = 0.0
    return count


def _warn_non_finite(count: int, name: str) -> None:
    if count:
        log.warning(
            "audio: %s has %d samples that are not numbers (NaN or infinite, %.1f s in all); "
            "they were replaced with silence",
            name,
            count,
            count / SAMPLE_RATE,
        )


DECODE_BLOCK_SECONDS = 30.0
"""`iter_audio_file` hands audio over in blocks of about this length."""


def _decode_file(path: Path | str, timeout: float = URL_TIMEOUT_S) -> AudioArray:
    """Decode any audio format FFmpeg (via PyAV) reads into 16 kHz mono float32, whole."""
    blocks = list(iter_audio_file(path, timeout=timeout))
    return blocks[0] if len(blocks) == 1 else np.concatenate(blocks)


def iter_audio_file(
    path: Path | str, block_seconds: float = DECODE_BLOCK_SECONDS, timeout: float = URL_TIMEOUT_S
) -> Iterator[AudioArray]:
    """Decode any audio format FFmpeg (via PyAV) reads into 16 kHz mono float32 blocks of about
    `block_seconds`, one at a time, so a recording of hours is never in memory whole.

    `path` may be a file, `-` (standard input) or a URL FFmpeg can fetch (http, https, ...); a URL's
    server that stops sending for `timeout` seconds ends the decoding with a clear error. Problems with
    the input are raised (`AudioInputError`) before the first block, damage found later when it is met."""
    import av

    text = str(path)
    if _MANGLED_URL.match(text) and not Path(text).exists():
        text = _MANGLED_URL.sub(r"\1://", text)  # Path("http://x") is "http:/x"
    source: Any = text
    options: dict[str, Any] = {}
    if text == "-":
        source, text = sys.stdin.buffer, "standard input"
    elif _is_url(text):
        options["timeout"] = (timeout, timeout)
    else:
        local = Path(text).expanduser()
        if not local.exists():
            raise AudioInputError(f"cannot read {text}: no such file")
        if local.is_dir():
            raise AudioInputError(f"cannot read {text}: it is a folder, not an audio file")
        source = str(local)
    try:
        av.logging.set_level(None)  # FFmpeg's own `[tcp @ 0x...]` lines are not for the user
        container = av.open(source, **options)
    except (av.error.FFmpegError, UnicodeDecodeError, OSError) as error:
        if _is_url(text) and _timed_out(error):
            raise AudioInputError(f"cannot read {text}: the server sent nothing for {timeout:g} s") from error
        if _is_url(text):
            raise AudioInputError(f"cannot read {text}: {_ffmpeg_reason(error)}") from error
        reason = _ffmpeg_reason(error)
        detail = "" if reason.startswith("the file is damaged") else f" ({reason})"
        raise AudioInputError(f"cannot read {text}: not an audio file FFmpeg understands{detail}") from error
    if not container.streams.audio:
        container.close()
        raise AudioInputError(f"cannot read {text}: the file has no audio track")
    return _decoded_blocks(container, text, int(block_seconds * SAMPLE_RATE), timeout)


def _decoded_blocks(container: Any, text: str, block: int, timeout: float) -> Iterator[AudioArray]:
    import av

    total = non_finite = 0
    try:
        stream = container.streams.audio[0]
        # Resample with the file's own channel layout and average the channels ourselves: FFmpeg's
        # mono downmix adds channels at -3 dB, which pushes loud stereo (the JFK clip) past full scale.
        resampler = av.AudioResampler(format="fltp", rate=SAMPLE_RATE)
        pieces: list[AudioArray] = []
        pending = 0

        def take() -> AudioArray:
            nonlocal pending, non_finite, total
            audio = np.concatenate(pieces)
            pieces.clear()
            pending = 0
            non_finite += _silence_non_finite(audio)
            np.clip(audio, -1.0, 1.0, out=audio)  # the contract is [-1, 1]; resampling can ring past it
            total += len(audio)
            return audio

        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    pieces.append(_planar_to_mono(out))
                    pending += len(pieces[-1])
                if pending >= block:
                    yield take()
            pieces.extend(_planar_to_mono(out) for out in resampler.resample(None))
        except (av.error.FFmpegError, OSError) as error:
            if _is_url(text) and _timed_out(error):
                raise AudioInputError(
                    f"cannot read {text}: the server stopped sending for {timeout:g} s"
                ) from error
            raise AudioInputError(
                f"cannot read {text}: the audio is corrupt ({_ffmpeg_reason(error)})"
            ) from error
        if any(len(piece) for piece in pieces):
            yield take()
    finally:
        container.close()
    _warn_non_finite(non_finite, text)
    if total == 0:
        raise AudioInputError(f"cannot read {text}: it contains no audio samples")


class FileSource:
    """An audio file as a source. With `realtime=True` it delivers audio at wall-clock speed, exactly
    like a microphone would (including dropping audio the consumer leaves unread for too long)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        realtime: bool = False,
        chunk_seconds: float = 0.1,
        *,
        buffer_seconds: float = DEFAULT_BUFFER_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(path)
        self.realtime = realtime
        self.description = f"file: {self.path.name}"
        self._chunk = max(1, int(round(chunk_seconds * SAMPLE_RATE)))
        self._max_backlog = int(buffer_seconds * SAMPLE_RATE)
        self._clock = clock
        self._audio: AudioArray | None = None
        self._position = 0
        self._started_at: float | None = None
        self._dropped = 0

    @property
    def dropped_seconds(self) -> float:
        return self._dropped / SAMPLE_RATE

    def open(self) -> None:
        if self._audio is not None:
            return
        if not self.path.exists():
            raise AudioInputError(f"audio file not found: {self.path}; check the path")
        if not self.path.is_file():
            raise AudioInputError(f"cannot read {self.path}: it is not a file")
        if self.path.stat().st_size == 0:
            raise AudioInputError(f"cannot read {self.path}: the file is empty")
        self._audio = _decode_file(self.path)
        self._position = 0
        self._started_at = None
        self._dropped = 0

    def read(self, timeout: float = 0.5) -> AudioArray:
        audio = self._audio
        if audio is None:
            raise AudioInputError(f"{self.description} is not open; call open() first")
        if self._position >= len(audio):
            raise EndOfAudio(str(self.path))
        if not self.realtime:
            chunk = audio[self._position : self._position + self._chunk]
            self._position += len(chunk)
            return chunk
        if self._started_at is None:
            self._started_at = self._clock()
        arrived = self._arrived()
        if arrived <= self._position:
            # Wait for the next chunk to "arrive", but never longer than the caller allows.
            next_due = self._started_at + (self._position + self._chunk) / SAMPLE_RATE
            time.sleep(max(0.0, min(timeout, next_due - self._clock())))
            arrived = self._arrived()
            if arrived <= self._position:
                return _EMPTY
        if arrived - self._position > self._max_backlog:
            skip = arrived - self._position - self._max_backlog
            self._dropped += skip
            self._position += skip
        chunk = audio[self._position : arrived]
        self._position = arrived
        return chunk

    def _arrived(self) -> int:
        """Samples a microphone would have delivered by now, in whole chunks, capped at the file end."""
        assert self._audio is not None and self._started_at is not None
        elapsed = int((self._clock() - self._started_at) * SAMPLE_RATE)
        whole = elapsed - elapsed % self._chunk
        return min(whole, len(self._audio))

    def close(self) -> None:
        self._audio = None
        self._position = 0
        self._started_at = None


_AUDIO_SUFFIXES = {".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".aac", ".webm", ".mp4", ".mkv", ".wma"}


def open_audio_source(spec: str, realtime: bool = False) -> AudioSource:
    """Build (without opening) the source a user named.

    `spec` is `mic` (the default input), `system` (what the computer plays), `pulse:<source>` (a named
    PulseAudio/PipeWire source, as `assistant devices` prints), a device index or part of a device name,
    or an audio file path. `realtime` paces a file like a live microphone; it has no effect on devices.
    """
    text = spec.strip()
    lowered = text.lower()
    if lowered in ("", "mic", "microphone", "default"):
        return MicrophoneSource(None)
    if lowered in ("system", "loopback"):
        return SystemAudioSource()
    if lowered.startswith("pulse:"):
        return PulseSource(text.split(":", 1)[1])
    path = Path(text).expanduser()
    if path.exists() or path.suffix.lower() in _AUDIO_SUFFIXES or os.sep in text:
        return FileSource(path, realtime=realtime)
    if text.isdigit():
        return MicrophoneSource(int(text))
    return MicrophoneSource(text)


def load_audio_file(path: str | os.PathLike[str]) -> AudioArray:
    """Decode a whole audio (or video) file, `-` (standard input) or a URL to 16 kHz mono float32;
    `AudioInputError` if it can't be. For recordings of hours, `iter_audio_file` gives it block by block."""
    return _decode_file(path if isinstance(path, str) else Path(path))
