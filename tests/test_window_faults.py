"""A full disk while the window saves its captions (issue 13, item 1): the window said to choose another
*source*, froze at a partial, and printed a traceback at exit. Now the captions go on to the end, the
status says once that the transcript cannot be written, and what was already in the file is kept.

The full disk is a real file-size limit (RLIMIT_FSIZE) set just past the transcript's earlier notes, in
the window's own process (`tests/helpers/full_disk_window.py`), so the first caption that would grow the
file fails with EFBIG as on a full disk; Python ignores SIGXFSZ, so the write fails instead of the
process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers.app_process import PROJECT_ROOT
from tests.helpers.data import SPEECH_DIR

CLIP = SPEECH_DIR / "jfk.flac"
EARLIER_NOTES = "Notes from last week's meeting, kept.\n" * 50


def test_a_full_disk_in_the_window_keeps_captioning_and_says_so_once(tmp_path: Path) -> None:
    transcript = tmp_path / "captions.txt"
    transcript.write_text(EARLIER_NOTES)
    done = subprocess.run(
        [sys.executable, "-m", "tests.helpers.full_disk_window", str(transcript), str(CLIP),
         str(tmp_path / "settings.ini")],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["ended"], result
    text = " ".join(result["lines"]).lower()
    assert "can do for your country" in text  # captioned to the last words, not frozen at a partial
    statuses = result["statuses"]
    problems = [s for s in statuses if "transcript" in s.lower() and "write" in s.lower()]
    assert len(problems) == 1, statuses  # said once
    assert not any("another source" in s or "choose another input" in s for s in statuses), statuses
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert transcript.read_text().startswith(EARLIER_NOTES)  # the earlier notes are whole
