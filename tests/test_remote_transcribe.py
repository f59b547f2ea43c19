"""`assistant transcribe FILE --server URL` for real: a `transformers serve` process with Whisper tiny.en
(real weights, `tests/helpers/whisper_server_model.py`) behind `/v1/audio/transcriptions`; a server that
cannot transcribe (the scripted SmolVLM) makes this computer transcribe instead."""

from __future__ import annotations

import json
import wave
from collections.abc import Iterator
from pathlib import Path

import jiwer
import numpy as np
import pytest

from assistant.audio.sources import load_audio_file
from assistant.cli import main
from assistant.remote.transcribe import SAMPLE_RATE, chunk_bounds
from tests.helpers.model_server import TransformersServer
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
