"""Bad options and stalled inputs give one clear line, never a traceback or a hang: thread counts out of
range, a server that accepts a connection and never answers (a captive portal, a broken proxy), each
caused for real in a real process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from assistant.audio.sources import _decode_file
from assistant.errors import AudioInputError
from tests.helpers.data import SPEECH_DIR
from tests.helpers.stalled_server import StalledServer

CLIP = SPEECH_DIR / "jfk.flac"

ASSISTANT = [sys.executable, "-m", "assistant"]


@pytest.mark.parametrize("threads", ["-1", "0", "1000", "two"])
def test_a_thread_count_out_of_range_is_refused_with_one_line(threads: str) -> None:
    result = subprocess.run(
        [*ASSISTANT, "transcribe", "--threads", threads, "meeting.wav"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"from 1 to {2 * (os.cpu_count() or 1)}" in result.stderr.splitlines()[-1]


def _online_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"}}
    env.update(HF_HOME=str(tmp_path / "hf"), XDG_CACHE_HOME=str(tmp_path / "cache"), **extra)
    return env


def test_a_download_from_a_server_that_never_answers_gives_up_and_says_what_it_waited_for(
    tmp_path: Path,
) -> None:
    with StalledServer() as server:
        started = time.monotonic()
        result = subprocess.run(
            [*ASSISTANT, "models", "download", "small.en", "--yes", "--quiet", "--timeout", "1"],
            capture_output=True, text=True, timeout=60, env=_online_env(tmp_path, HF_ENDPOINT=server.url),
        )  # fmt: skip
        elapsed = time.monotonic() - started
    assert server.accepted >= 1  # it really connected, and was really left waiting
    assert result.returncode != 0 and elapsed < 30
    assert f"Connecting to 127.0.0.1:{server.port} for small.en" in result.stderr
    assert "Download of small.en" in result.stderr and "Traceback" not in result.stderr


def test_a_url_whose_server_never_answers_gives_up_with_the_url_whole() -> None:
    with StalledServer() as server:
        started = time.monotonic()
        with pytest.raises(AudioInputError) as caught:
            _decode_file(Path(f"{server.url}/meeting.mp3"), timeout=1.0)  # Path() once turned :// into :/
        elapsed = time.monotonic() - started
    assert server.accepted >= 1 and elapsed < 10
    assert str(caught.value) == f"cannot read {server.url}/meeting.mp3: the server sent nothing for 1 s"


def _transcribe(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*ASSISTANT, "transcribe", "--model", "tiny.en", *args], capture_output=True, input=stdin, timeout=120
    )


@pytest.mark.parametrize(
    ("name", "said"), [("missing.wav", "no such file"), ("folder", "it is a folder, not an audio file")]
)
def test_a_missing_file_or_a_folder_is_named_as_such(tmp_path: Path, name: str, said: str) -> None:
    (tmp_path / "folder").mkdir()
    result = _transcribe(str(tmp_path / name))
    assert result.returncode != 0
    message = result.stderr.decode()
    assert f"{tmp_path / name}: {said}" in message and "Errno" not in message and "Traceback" not in message


def test_a_damaged_mp4_is_said_in_words_not_in_ffmpeg_lines(tmp_path: Path) -> None:
    damaged = tmp_path / "talk.m4a"
    damaged.write_bytes(b"\x00\x00\x00\x18ftypM4A " + bytes(range(256)) * 40)  # a header, no moov atom
    result = _transcribe(str(damaged))
    message = result.stderr.decode()
    assert result.returncode != 0 and "not an audio file FFmpeg understands" in message
    assert "moov atom" not in message and "@ 0x" not in message


def test_a_dash_reads_the_recording_from_standard_input() -> None:
    result = _transcribe("-", stdin=CLIP.read_bytes())
    assert result.returncode == 0, result.stderr.decode()
    assert "country" in result.stdout.decode().lower()


def test_describe_with_an_unknown_model_is_an_error_not_a_fallback(tmp_path: Path) -> None:
    picture = tmp_path / "red.png"
    Image.new("RGB", (64, 64), (200, 10, 10)).save(picture)
    result = subprocess.run(
        [*ASSISTANT, "describe", str(picture), "--model", "nope"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and "Unknown model 'nope'" in result.stderr and not result.stdout


def test_an_empty_camera_name_is_refused_not_taken_for_the_current_folder() -> None:
    result = subprocess.run(
        [*ASSISTANT, "describe", "--camera", ""], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "give a camera number (0)" in result.stderr and ". is a folder" not in result.stderr
