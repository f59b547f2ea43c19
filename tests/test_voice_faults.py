"""`say` with a very long text, a full disk and a wrong file type: it speaks piece by piece (one eSpeak
call on 150 KB died with SIGSEGV), says a write failure once, and never writes WAV data into an .mp3."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

from assistant.voice.espeak import split_for_synthesis

ASSISTANT = [sys.executable, "-m", "assistant"]
LONG_TEXT = (
    "The quarterly report shows steady growth in every region, and the board thanks all staff. " * 1700
)


def test_a_long_text_is_cut_into_pieces_that_keep_every_word() -> None:
    text = LONG_TEXT + "x" * 5000 + " " + "word " * 900
    pieces = split_for_synthesis(text, limit=2000)
    assert all(len(piece) <= 2000 for piece in pieces)
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")
    assert pieces[0].endswith("staff.")  # cut after a sentence, not inside one


def test_150_kb_of_text_to_a_full_disk_is_said_once_without_a_crash(tmp_path: Path) -> None:
    limit = 2_000_000  # about 45 s of speech fits; the whole text is hours of it

    def full_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = subprocess.run(
        [*ASSISTANT, "say", "--to-file", str(tmp_path / "report.wav")], input=LONG_TEXT, capture_output=True,
        text=True, timeout=120, preexec_fn=full_disk,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr  # not -11 (SIGSEGV) nor -25 (SIGXFSZ)
    assert result.stderr.count("cannot write") == 1
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr


def test_an_mp3_name_is_refused_rather_than_filled_with_wav_data(tmp_path: Path) -> None:
    result = subprocess.run(
        [*ASSISTANT, "say", "--to-file", str(tmp_path / "out.mp3"), "hello"], capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and "name it out.wav" in result.stderr
    assert not (tmp_path / "out.mp3").exists()
