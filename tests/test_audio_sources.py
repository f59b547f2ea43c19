"""Audio sources: files decode to 16 kHz mono at the right length, pace like a microphone when asked,
fail with a message naming the file; microphones fail clearly when there is none, report a device that
vanishes, and open again when it is back. Live cases use a real PulseAudio server (tests/pulse.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from assistant.audio.source import SAMPLE_RATE, AudioSource
from assistant.audio.sources import (
    FileSource,
    MicrophoneSource,
    PulseSource,
    SystemAudioSource,
    open_audio_source,
)
from assistant.errors import AudioInputError, DeviceLostError, EndOfAudio
from tests.helpers.polling import poll_until
from tests.helpers.pulse import PulseServer
from tests.helpers.speech import write_wav

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _clips(test_data: Path) -> dict[str, dict[str, object]]:
    entries = json.loads((test_data / "speech" / "transcripts.json").read_text())
    return {entry["file"]: entry for entry in entries}


def _read_all(source: AudioSource) -> np.ndarray:
    pieces = []
    while True:
        try:
            pieces.append(source.read())
        except EndOfAudio:
            return np.concatenate(pieces) if pieces else np.zeros(0, np.float32)


@pytest.mark.parametrize(
    "name",
    [
        "jfk.flac",  # 44.1 kHz stereo
        "librispeech_1089-134686-0001.flac",  # 16 kHz mono
        "librivox_sense_and_sensibility_01_austen_64kb-0880.wav",  # 16 kHz wav
        "ljspeech_LJ001-0002.flac",  # 22.05 kHz
    ],
)
def test_file_decodes_to_16k_mono_float32_with_the_clip_duration(test_data: Path, name: str) -> None:
    expected = float(_clips(test_data)[name]["duration_s"])  # type: ignore[arg-type]
    source = FileSource(test_data / "speech" / name)
    source.open()
    audio = _read_all(source)
    source.close()
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert len(audio) / SAMPLE_RATE == pytest.approx(expected, abs=0.05)
    assert 0.05 < np.abs(audio).max() <= 1.0  # speech, not silence or clipping garbage


def test_44k_stereo_tone_keeps_its_pitch_after_resampling(tmp_path: Path) -> None:
    rate, seconds = 44_100, 2.0
    t = np.arange(int(rate * seconds)) / rate
    left = 0.5 * np.sin(2 * np.pi * 1000 * t)
    stereo = np.stack([left, left], axis=1).reshape(-1)
    wav = write_wav(tmp_path / "tone.wav", stereo, rate, channels=2)
    flac = tmp_path / "tone.flac"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(wav), str(flac)], check=True)
    source = FileSource(flac)
    source.open()
    audio = _read_all(source)
    assert len(audio) / SAMPLE_RATE == pytest.approx(seconds, abs=0.01)
    spectrum = np.abs(np.fft.rfft(audio))
    peak_hz = np.argmax(spectrum) * SAMPLE_RATE / len(audio)
    assert peak_hz == pytest.approx(1000, abs=2)
    assert np.abs(audio).max() == pytest.approx(0.5, abs=0.03)  # downmix averages, does not add


def test_file_chunks_have_the_requested_size_and_end_with_end_of_audio(tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "one.wav", np.zeros(SAMPLE_RATE), SAMPLE_RATE)
    source = FileSource(wav, chunk_seconds=0.25)
    source.open()
    sizes = [len(source.read()) for _ in range(4)]
    assert sizes == [4000] * 4
    with pytest.raises(EndOfAudio):
        source.read()
    source.close()


@pytest.mark.timing
def test_realtime_file_takes_about_as_long_as_the_audio(tmp_path: Path) -> None:
    wav = write_wav(
        tmp_path / "one.wav", 0.1 * np.random.default_rng(0).standard_normal(SAMPLE_RATE), SAMPLE_RATE
    )
    source = FileSource(wav, realtime=True, chunk_seconds=0.1)
    source.open()
    started = time.monotonic()
    audio = _read_all(source)
    elapsed = time.monotonic() - started
    assert len(audio) == SAMPLE_RATE
    assert 0.9 <= elapsed <= 1.3


def test_realtime_file_drops_the_oldest_audio_when_the_reader_falls_behind(tmp_path: Path) -> None:
    now = [0.0]
    wav = write_wav(tmp_path / "two.wav", np.zeros(2 * SAMPLE_RATE), SAMPLE_RATE)
    source = FileSource(wav, realtime=True, buffer_seconds=0.5, clock=lambda: now[0])
    source.open()
    assert len(source.read(timeout=0)) == 0  # nothing has "arrived" yet
    now[0] = 1.5  # the consumer stalled for 1.5 s
    assert len(source.read()) == int(0.5 * SAMPLE_RATE)
    assert source.dropped_seconds == pytest.approx(1.0)


def _png(path: Path) -> Path:
    from PIL import Image

    Image.new("RGB", (8, 8), "red").save(path)
    return path


@pytest.mark.parametrize(
    ("name", "make", "problem"),
    [
        ("missing.wav", lambda p: p, "not found"),
        ("empty.wav", lambda p: (p.write_bytes(b""), p)[1], "empty"),
        ("corrupt.flac", lambda p: (p.write_bytes(b"fLaC" + os.urandom(3000)), p)[1], "cannot read"),
        ("notes.txt", lambda p: (p.write_text("these are not sounds\n" * 50), p)[1], "cannot read"),
        ("picture.png", _png, "no audio"),
    ],
)
def test_unreadable_files_raise_audio_input_error_naming_the_file(
    tmp_path: Path, name: str, make: object, problem: str
) -> None:
    path = make(tmp_path / name)  # type: ignore[operator]
    source = FileSource(path)  # constructing never touches the disk
    with pytest.raises(AudioInputError, match=problem) as raised:
        source.open()
    assert name in str(raised.value)
    source.close()


def test_factory_builds_the_named_source_without_opening_it(tmp_path: Path) -> None:
    assert isinstance(open_audio_source("mic"), MicrophoneSource)
    assert open_audio_source("3").device == 3  # type: ignore[attr-defined]
    assert open_audio_source("USB Audio").device == "USB Audio"  # type: ignore[attr-defined]
    assert isinstance(open_audio_source("system"), SystemAudioSource)
    assert isinstance(open_audio_source("pulse:alsa_output.x.monitor"), PulseSource)
    missing = open_audio_source(str(tmp_path / "later.flac"), realtime=True)
    assert isinstance(missing, FileSource) and missing.realtime
    assert all(isinstance(open_audio_source(spec), AudioSource) for spec in ("mic", "system", "x.wav"))


_NO_SERVER_PROBE = """
import json, sys
from assistant.audio.sources import MicrophoneSource, SystemAudioSource
from assistant.audio.devices import list_input_devices
from assistant.errors import AudioInputError
result = {"devices": len(list_input_devices())}
for key, source in (("mic", MicrophoneSource()), ("system", SystemAudioSource())):
    try:
        source.open()
        result[key] = "opened"
        source.close()
    except AudioInputError as error:
        result[key] = "AudioInputError: " + str(error)
print(json.dumps(result))
"""


def test_without_a_sound_server_sources_fail_with_advice(tmp_path: Path) -> None:
    # A subprocess, because this process's PortAudio may already know the session's PulseAudio server.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULSE_", "XDG_RUNTIME"))}
    env.update(XDG_RUNTIME_DIR=str(tmp_path), PULSE_SERVER=f"unix:{tmp_path}/nothing-here")
    done = subprocess.run(
        [sys.executable, "-c", _NO_SERVER_PROBE],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["mic"] == "opened":
        pytest.skip("this machine has a real microphone, so 'no input device' cannot be shown here")
    assert result["mic"].startswith("AudioInputError: no microphone found")
    assert "--input" in result["mic"] and "assistant devices" in result["mic"]
    assert result["system"].startswith("AudioInputError:")
    assert "PulseAudio" in result["system"] or "pulseaudio" in result["system"]


def test_devices_command_prints_json_and_text() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "devices", "--json"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    listing = json.loads(done.stdout)
    assert isinstance(listing["audio_inputs"], list)
    assert "cameras" in listing


def _read_until_audio(source: AudioSource, seconds: float) -> np.ndarray:
    def audio() -> np.ndarray | None:
        chunk = source.read(timeout=0.2)
        return chunk if len(chunk) else None

    return poll_until(audio, seconds, f"audio from {source.description}", interval=0)


@pytest.mark.pulse
@pytest.mark.timing
def test_microphone_reports_a_vanished_server_and_reopens_when_it_is_back() -> None:
    # A private server we can kill, so the session's server (if any) stays up for other tests.
    private = PulseServer()
    private.start()
    try:
        with private.environment():
            mic = MicrophoneSource(None)
            system = SystemAudioSource()
            mic.open()
            system.open()
            _read_until_audio(mic, 5.0)
            _read_until_audio(system, 5.0)
            private.stop()  # the device vanishes mid-stream
            lost_at = time.monotonic()
            for source in (mic, system):
                with pytest.raises(DeviceLostError):
                    while time.monotonic() - lost_at < 5.0:
                        source.read(timeout=0.2)
                source.close()
            assert time.monotonic() - lost_at < 4.0

        revived = PulseServer()
        revived.start()
        try:
            with revived.environment():
                mic.open()
                assert len(_read_until_audio(mic, 5.0)) > 0
                mic.close()
        finally:
            revived.stop()
    finally:
        private.stop()


@pytest.mark.pulse
def test_microphone_buffer_is_bounded_and_counts_what_it_dropped(pulse_server: PulseServer) -> None:
    mic = MicrophoneSource(None, buffer_seconds=0.3)
    mic.open()
    try:
        _read_until_audio(mic, 5.0)
        time.sleep(1.2)  # the consumer falls behind; the device keeps delivering
        audio = mic.read()
        assert len(audio) <= int(0.35 * SAMPLE_RATE)
        assert mic.dropped_seconds >= 0.5
    finally:
        mic.close()


@pytest.mark.pulse
def test_unknown_device_names_fail_with_advice(pulse_server: PulseServer) -> None:
    with pytest.raises(AudioInputError, match="no-such-microphone.*assistant devices"):
        MicrophoneSource("no-such-microphone").open()
    with pytest.raises(AudioInputError, match="no source named 'nowhere.monitor'"):
        PulseSource("nowhere.monitor").open()
