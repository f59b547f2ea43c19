"""Saving captions never loses work: a full disk (a real file-size limit, RLIMIT_FSIZE) fails soft, an
existing transcript is continued rather than replaced, SIGTERM and SIGHUP save the utterance in progress
like Ctrl+C, and `transcribe -o` says a bad destination before the slow work and keeps the text when the
write fails. Each fault is caused for real, in a real process."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import srt

from assistant.errors import AssistantError
from assistant.speech.transcripts import TranscriptSegment, TranscriptWriter, check_writable
from tests.helpers.data import SPEECH_DIR
from tests.helpers.polling import poll_until

CLIP = SPEECH_DIR / "jfk.flac"  # 11 s, several sentences
ASSISTANT = [sys.executable, "-m", "assistant"]


def _limit_file_size(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def _segments(count: int) -> list[TranscriptSegment]:
    return [TranscriptSegment(float(n), n + 0.9, f"Caption number {n} of the meeting.") for n in range(count)]


def _write_with_limit(path: Path, count: int, limit: int) -> subprocess.CompletedProcess[str]:
    """Write `count` captions with a TranscriptWriter in a process whose files may not grow past `limit`."""
    script = (
        "import sys\n"
        "from assistant.speech.transcripts import TranscriptWriter, TranscriptSegment\n"
        "problems = []\n"
        f"writer = TranscriptWriter({str(path)!r}, on_problem=problems.append)\n"
        f"for n in range({count}):\n"
        "    writer.add(TranscriptSegment(float(n), n + 0.9, f'Caption number {n} of the meeting.'))\n"
        "writer.close()\n"
        "print(writer.count, writer.waiting, len(problems))\n"
        "print(problems[0] if problems else '')\n"
    )
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
        preexec_fn=lambda: _limit_file_size(limit),
    )  # fmt: skip


@pytest.mark.parametrize("suffix", [".txt", ".srt", ".vtt", ".json"])
def test_a_full_disk_keeps_every_caption_written_whole_and_says_so_once(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"meeting{suffix}"
    result = _write_with_limit(path, count=40, limit=600)
    assert result.returncode == 0, result.stderr
    written, waiting, problems = (int(n) for n in result.stdout.split("\n")[0].split())
    assert written > 0 and waiting > 0 and written + waiting == 40 and problems == 1
    assert "Cannot write the transcript" in result.stdout and "wait in memory" in result.stdout
    text = path.read_text()
    assert os.path.getsize(path) <= 600
    if suffix == ".json":
        assert [item["text"] for item in json.loads(text)] == [s.text for s in _segments(written)]
    elif suffix == ".srt":
        assert [cue.content for cue in srt.parse(text)] == [s.text for s in _segments(written)]
    elif suffix == ".txt":
        assert text.splitlines() == [s.text for s in _segments(written)]
    else:
        assert text.count(" --> ") == written and text.rstrip().endswith("meeting.")


def test_captions_wait_in_memory_and_go_in_when_writing_works_again(tmp_path: Path) -> None:
    path = tmp_path / "meeting.json"
    script = (
        "import resource\n"
        "from assistant.speech.transcripts import TranscriptWriter, TranscriptSegment\n"
        "problems = []\n"
        f"writer = TranscriptWriter({str(path)!r}, on_problem=problems.append)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (600, resource.RLIM_INFINITY))  # the disk fills\n"
        "for n in range(20):\n"
        "    writer.add(TranscriptSegment(float(n), n + 0.9, f'Caption number {n} of the meeting.'))\n"
        "waiting = writer.waiting\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))\n"
        "print(waiting, writer.retry(), writer.waiting, len(problems))\n"
        "print(problems[-1])\n"
        "writer.close()\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    waited, retried, left, problems = result.stdout.split("\n")[0].split()
    assert int(waited) > 0 and retried == "True" and left == "0" and problems == "2"
    assert "saving again; nothing was lost" in result.stdout
    assert [item["text"] for item in json.loads(path.read_text())] == [s.text for s in _segments(20)]


@pytest.mark.parametrize("suffix", [".txt", ".srt", ".vtt", ".json"])
def test_an_existing_transcript_is_continued_never_replaced(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"notes{suffix}"
    with TranscriptWriter(path) as first:
        for segment in _segments(2):
            first.add(segment)
    with TranscriptWriter(path) as second:
        assert second.appended == 2
        second.add(TranscriptSegment(0.0, 1.0, "The next meeting."))
    text = path.read_text()
    assert "Caption number 0" in text and "The next meeting." in text
    if suffix == ".json":
        assert len(json.loads(text)) == 3
    if suffix == ".srt":
        assert [cue.index for cue in srt.parse(text)] == [1, 2, 3]


def test_a_foreign_json_file_is_not_broken(tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    path.write_text('{"not": "ours"}')
    with pytest.raises(AssistantError, match="did not write"):
        TranscriptWriter(path).open()
    assert path.read_text() == '{"not": "ours"}'


def test_captions_cli_on_a_full_disk_goes_on_to_the_end_and_says_what_was_saved(tmp_path: Path) -> None:
    out = tmp_path / "meeting.txt"
    result = subprocess.run(
        [*ASSISTANT, "captions", "--input", str(CLIP), "--save", str(out)],
        capture_output=True, text=True, timeout=240, preexec_fn=lambda: _limit_file_size(60),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("Cannot write the transcript") == 1
    assert "could not be written" in result.stderr
    assert "country" in result.stdout.lower()  # captions went on after the disk filled
    saved = out.read_text()
    assert saved and saved.endswith("\n")  # whole lines only


def test_captions_save_adds_to_an_existing_file(tmp_path: Path) -> None:
    out = tmp_path / "notes.txt"
    out.write_text("Notes from Monday.\n")
    result = subprocess.run(
        [*ASSISTANT, "captions", "--input", str(CLIP), "--save", str(out)],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "already holds 1 captions" in result.stderr
    saved = out.read_text()
    assert saved.startswith("Notes from Monday.\n\n") and "country" in saved.lower()


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_save_the_utterance_in_progress_like_ctrl_c(
    tmp_path: Path, signal_number: signal.Signals
) -> None:
    out = tmp_path / "meeting.txt"
    process = subprocess.Popen(
        [*ASSISTANT, "captions", "--input", str(CLIP), "--realtime", "--save", str(out), "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        poll_until(lambda: out.exists() and bool(out.read_text().strip()), 120, "a first saved caption")
        before = out.read_text()
        process.send_signal(signal_number)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert "saved" in stderr and "Traceback" not in stderr
    finals = [json.loads(line) for line in stdout.splitlines() if '"final"' in line]
    assert out.read_text().count("\n") == len(finals) and len(out.read_text()) >= len(before)


def test_transcribe_says_a_bad_destination_before_any_work(tmp_path: Path) -> None:
    for bad, reason in [
        (tmp_path / "missing" / "out.txt", "does not exist"),
        (tmp_path, "folder"),
        (tmp_path / "out.docx", "use a file name ending in"),
    ]:
        with pytest.raises(AssistantError, match=reason):
            check_writable(bad)
    result = subprocess.run(
        [*ASSISTANT, "transcribe", str(CLIP), "-o", str(tmp_path / "missing" / "out.txt")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and "does not exist" in result.stderr and "Traceback" not in result.stderr


def test_transcribe_that_cannot_write_prints_the_text_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    result = subprocess.run(
        [*ASSISTANT, "transcribe", str(CLIP), "-o", str(out)],
        capture_output=True, text=True, timeout=240, preexec_fn=lambda: _limit_file_size(40),
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "country" in result.stdout.lower() and "printed above instead" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no 0-byte or half-written file
