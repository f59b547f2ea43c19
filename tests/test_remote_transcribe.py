"""`assistant transcribe FILE --server URL` for real: a `transformers serve` process with Whisper tiny.en
(real weights, `tests/helpers/whisper_server_model.py`) behind `/v1/audio/transcriptions`; a server that
cannot transcribe (the scripted SmolVLM) makes this computer transcribe instead."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import threading
import wave
from collections.abc import Iterator
from pathlib import Path

import jiwer
import numpy as np
import pytest
import soundfile

from assistant.audio.sources import load_audio_file
from assistant.cli import main
from assistant.remote.transcribe import SAMPLE_RATE, chunk_bounds
from tests.helpers.fault_proxy import Fault, FaultProxy
from tests.helpers.model_server import TransformersServer
from tests.helpers.polling import poll_until
from tests.helpers.whisper_server_model import build_whisper_tiny_en

pytestmark = pytest.mark.timeout(300)

LIBRIVOX = [f"librivox_sense_and_sensibility_01_austen_64kb-08{n}0.wav" for n in (7, 8, 9)]


@pytest.fixture(scope="module")
def whisper_server(
    tmp_path_factory: pytest.TempPathFactory, openai_whisper_checkpoint: Path
) -> Iterator[TransformersServer]:
    folder = build_whisper_tiny_en(tmp_path_factory.mktemp("whisper-hf"), openai_whisper_checkpoint)
    with TransformersServer(folder, tmp_path_factory.mktemp("serve") / "whisper-serve.log") as server:
        yield server


def _normal(text: str) -> str:
    return " ".join("".join(c for c in text.lower() if c.isalnum() or c.isspace()).split())


def test_a_recording_is_transcribed_on_the_server(
    whisper_server: TransformersServer, test_data: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert main(["transcribe", str(test_data / "speech" / "jfk.flac"), "--server", whisper_server.url]) == 0
    out, err = capfd.readouterr()
    assert "ask not what your country can do for you" in _normal(out)
    assert f"sending the recording to 127.0.0.1:{whisper_server.port}" in err


def test_a_long_recording_goes_in_pieces_cut_in_pauses_and_keeps_its_timing(
    whisper_server: TransformersServer, test_data: Path, tmp_path: Path
) -> None:
    references = {
        clip["file"]: clip["reference"]
        for clip in json.loads((test_data / "speech" / "transcripts.json").read_text())
    }
    names = ["jfk.flac", *LIBRIVOX, "librispeech_1089-134686-0000.flac"]
    # A second of a quiet room between the clips (digital silence makes Whisper end its text early).
    pause = (np.random.default_rng(0).standard_normal(SAMPLE_RATE) * 0.002).astype(np.float32)
    audio = np.concatenate(
        [part for name in names for part in (load_audio_file(test_data / "speech" / name), pause)]
    )
    recording = tmp_path / "long.wav"
    with wave.open(str(recording), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes((audio * 32767).astype("<i2").tobytes())
    pieces = chunk_bounds(audio)
    assert len(pieces) == 2 and pieces[0][1] - pieces[0][0] <= 25 * SAMPLE_RATE
    cut = pieces[0][1]
    assert np.abs(audio[cut - 800 : cut + 800]).max() < 0.02  # the cut is in a pause, not in a word

    srt = tmp_path / "long.srt"
    assert main(["transcribe", str(recording), "--server", whisper_server.url, "-o", str(srt)]) == 0
    cues = [block.splitlines() for block in srt.read_text().strip().split("\n\n")]
    assert len(cues) == 2 and cues[1][1].startswith("00:00:2")  # the second piece starts after 20 s
    heard = _normal(" ".join(" ".join(cue[2:]) for cue in cues))
    said = _normal(" ".join(references[name] for name in names))
    assert jiwer.wer(said, heard) < 0.2


def test_a_server_that_cannot_transcribe_leaves_it_to_this_computer(
    model_server: TransformersServer, test_data: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert main(["transcribe", str(test_data / "speech" / "jfk.flac"), "--server", model_server.url]) == 0
    out, err = capfd.readouterr()
    assert "ask not what your country can do for you" in _normal(out)  # faster-whisper, here
    assert "Transcribing on this computer instead." in err and "Traceback" not in err


# The peak is taken after the imports (their own transient peak would hide the audio's): writing 5 to
# /proc/self/clear_refs resets the kernel's high-water mark (VmHWM) to what is in use now.
_PEAK_SCRIPT = """
import re, sys
from pathlib import Path
import av, openai
import assistant.audio.sources, assistant.cli.captions, assistant.remote.transcribe, assistant.speech.engines
from assistant.cli import main
Path("/proc/self/clear_refs").write_text("5")
code = main(sys.argv[1:])
print(code, int(re.search(r"VmHWM:\\s+(\\d+)", Path("/proc/self/status").read_text())[1]) // 1024)
"""


def _transcribe_peak_mb(recording: Path, url: str, srt: Path) -> int:
    """`assistant transcribe RECORDING --server URL -o SRT` in a process of its own; its peak RSS."""
    result = subprocess.run(
        [sys.executable, "-c", _PEAK_SCRIPT, "transcribe", str(recording), "--server", url, "-o", str(srt)],
        capture_output=True, text=True, timeout=240,
        env={**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    code, peak = map(int, result.stdout.split())
    assert code == 0 and "Transcribing on this computer" not in result.stderr, result.stderr
    return peak


def _sent_seconds(body: bytes) -> float:
    """The length of the WAV inside a multipart transcription request."""
    riff = body.index(b"RIFF")
    with wave.open(io.BytesIO(body[riff:]), "rb") as sent:
        return sent.getnframes() / sent.getframerate()


def test_hours_of_recording_go_to_the_server_five_minutes_at_a_time_in_order_and_in_time(
    whisper_server: TransformersServer, test_data: Path, tmp_path: Path
) -> None:
    """30 minutes (a quiet room; speech at the start, at 5:40 and at 29:00): it is decoded and sent a
    piece at a time, never held whole (a 30-minute recording is 115 MB of samples, twice that while it
    is joined), its silent pieces are not sent, and the transcript keeps the order and times."""
    clips = {0.0: "jfk.flac", 340.0: LIBRIVOX[0], 1740.0: "librispeech_1089-134686-0000.flac"}
    references = {
        clip["file"]: clip["reference"]
        for clip in json.loads((test_data / "speech" / "transcripts.json").read_text())
    }
    audio = np.zeros(30 * 60 * SAMPLE_RATE, np.float32)
    lengths = {}
    for at, name in clips.items():
        speech = load_audio_file(test_data / "speech" / name)
        audio[int(at * SAMPLE_RATE) : int(at * SAMPLE_RATE) + len(speech)] = speech
        lengths[at] = len(speech) / SAMPLE_RATE
    long_recording = tmp_path / "long.flac"
    soundfile.write(long_recording, audio, SAMPLE_RATE, subtype="PCM_16")
    short_recording = tmp_path / "short.flac"
    soundfile.write(short_recording, audio[: 20 * SAMPLE_RATE], SAMPLE_RATE, subtype="PCM_16")
    del audio

    proxy = FaultProxy(whisper_server.url).start()
    try:
        short_peak = _transcribe_peak_mb(short_recording, proxy.url, tmp_path / "short.srt")
        proxy.bodies.clear()
        srt = tmp_path / "long.srt"
        long_peak = _transcribe_peak_mb(long_recording, proxy.url, srt)
    finally:
        proxy.stop()

    sent = [_sent_seconds(body) for body in proxy.bodies if b"RIFF" in body]
    assert 3 <= len(sent) <= 6 and max(sent) <= 25.0, sent  # only the pieces with speech, 25 s at most
    # Whole, the recording is 115 MB of samples, twice that while it is joined; a piece of 5 min 20 s is
    # 22 MB, held at most twice or three times while the next one is cut.
    assert long_peak < short_peak + 100, (short_peak, long_peak)

    cues = [block.splitlines() for block in srt.read_text().strip().split("\n\n")]
    assert len(cues) == len(sent)
    starts = [_srt_seconds(cue[1].split(" --> ")[0]) for cue in cues]
    assert starts == sorted(starts)
    for at, name in clips.items():
        # The clip's text is in the cues around its place in the recording: each piece is timed from the
        # start of the whole recording, not of its five minutes.
        near = [cue for start, cue in zip(starts, cues, strict=True) if at - 25 <= start <= at + lengths[at]]
        assert near, (at, starts)
        heard = _normal(" ".join(" ".join(cue[2:]) for cue in near))
        assert jiwer.wer(_normal(references[name]), heard) < 0.3, (name, heard)


def _srt_seconds(stamp: str) -> float:
    hours, minutes, seconds = re.split(r"[:]", stamp.replace(",", "."))
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def test_a_server_that_fails_part_way_is_left_where_it_stopped_and_its_text_kept(
    whisper_server: TransformersServer, test_data: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """JFK at the start, a LJ Speech sentence at 5:40 (the second five-minute piece): the server answers
    the first piece and fails on the second; this computer transcribes from there on, in time."""
    audio = np.zeros(6 * 60 * SAMPLE_RATE, np.float32)
    jfk = load_audio_file(test_data / "speech" / "jfk.flac")
    later = load_audio_file(test_data / "speech" / "ljspeech_LJ001-0001.flac")
    audio[: len(jfk)] = jfk
    audio[340 * SAMPLE_RATE : 340 * SAMPLE_RATE + len(later)] = later
    recording = tmp_path / "six.flac"
    soundfile.write(recording, audio, SAMPLE_RATE, subtype="PCM_16")
    srt = tmp_path / "six.srt"

    proxy = FaultProxy(whisper_server.url).start()

    def fail_after_the_first_piece() -> None:
        poll_until(lambda: any(b"RIFF" in body for body in proxy.bodies), 120, "the first piece sent")
        proxy.fault = Fault(status=500)

    failing = threading.Thread(target=fail_after_the_first_piece, daemon=True)
    failing.start()
    try:
        assert main(["transcribe", str(recording), "--server", proxy.url, "-o", str(srt)]) == 0
    finally:
        failing.join(5)
        proxy.stop()
    _, err = capfd.readouterr()
    assert "Transcribing on this computer instead from 4:" in err and "Traceback" not in err
    assert sum(b"RIFF" in body for body in proxy.bodies) == 2  # the first piece, and the one that failed
    cues = [block.splitlines() for block in srt.read_text().strip().split("\n\n")]
    starts = [_srt_seconds(cue[1].split(" --> ")[0]) for cue in cues]
    text = [_normal(" ".join(cue[2:])) for cue in cues]
    assert starts[0] == 0.0 and "ask not what your country can do for you" in text[0]  # the server's
    printing = [start for start, words in zip(starts, text, strict=True) if "printing" in words]
    assert printing and 339.0 <= printing[0] <= 341.5, (starts, text)  # this computer's, in time
