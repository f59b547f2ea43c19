"""Which audio inputs this computer has: PortAudio input devices plus, on Linux, the PulseAudio/PipeWire
monitor sources (what each output plays), so the user can pick one with `--input`.

Listing never fails: with no sound system at all it returns an empty list.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

# Names that PortAudio host APIs give to inputs that carry an output's sound rather than a microphone.
_SYSTEM_AUDIO_MARKERS = ("monitor", "loopback", "stereo mix", "what u hear", "blackhole")


@dataclass(frozen=True)
class InputDevice:
    """One audio input. `index` is the PortAudio index, or -1 for a PulseAudio-only source."""

    index: int
    name: str
    host_api: str
    channels: int
    default_samplerate: float
    is_default: bool
    is_system_audio: bool

    @property
    def spec(self) -> str:
        """What to pass to `--input` (and `open_audio_source`) to use this device."""
        return f"pulse:{self.name}" if self.index < 0 else str(self.index)


def _is_system_audio(name: str) -> bool:
    lowered = name.lower()
    return any(marker in lowered for marker in _SYSTEM_AUDIO_MARKERS)


def _portaudio_inputs() -> list[InputDevice]:
    try:
        import sounddevice as sd
    except OSError as error:  # no PortAudio library
        log.info("devices: PortAudio unavailable: %s", error)
        return []
    try:
        devices: Any = sd.query_devices()
        host_apis: Any = sd.query_hostapis()
        default_input = sd.default.device[0]
    except sd.PortAudioError as error:
        log.info("devices: PortAudio query failed: %s", error)
        return []
    found = []
    for device in devices:
        if device["max_input_channels"] < 1:
            continue
        found.append(
            InputDevice(
                index=int(device["index"]),
                name=str(device["name"]),
                host_api=str(host_apis[device["hostapi"]]["name"]),
                channels=int(device["max_input_channels"]),
                default_samplerate=float(device["default_samplerate"]),
                is_default=int(device["index"]) == default_input,
                is_system_audio=_is_system_audio(str(device["name"])),
            )
        )
    return found


def _pactl(*args: str) -> str | None:
    pactl = shutil.which("pactl")
    if pactl is None:
        return None
    try:
        done = subprocess.run([pactl, *args], capture_output=True, text=True, timeout=3.0, check=False)
    except subprocess.TimeoutExpired:
        return None
    return done.stdout if done.returncode == 0 else None


def _pulse_monitor_sources() -> list[InputDevice]:
    """Monitor sources from `pactl list short sources` (index, name, driver, format, state)."""
    listing = _pactl("list", "short", "sources")
    if listing is None:
        return []
    found = []
    for line in listing.splitlines():
        fields = line.split("\t")
        if len(fields) < 4 or not fields[1].endswith(".monitor"):
            continue
        channels, rate = 2, 48_000.0
        for part in fields[3].split():  # e.g. "s16le 2ch 44100Hz"
            if part.endswith("ch") and part[:-2].isdigit():
                channels = int(part[:-2])
            elif part.endswith("Hz") and part[:-2].isdigit():
                rate = float(part[:-2])
        found.append(
            InputDevice(
                index=-1,
                name=fields[1],
                host_api="PulseAudio",
                channels=channels,
                default_samplerate=rate,
                is_default=False,
                is_system_audio=True,
            )
        )
    return found


def list_input_devices() -> list[InputDevice]:
    """Every audio input we could use; an empty list when there is no sound system."""
    devices = _portaudio_inputs()
    if sys.platform.startswith("linux"):
        devices.extend(_pulse_monitor_sources())
    return devices
