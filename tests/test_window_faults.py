"""A full disk while the window saves its captions (issue 13, item 1): the window said to choose another
*source*, froze at a partial, and printed a traceback at exit. Now the captions go on to the end, the
status says once that the transcript cannot be written, and what was already in the file is kept.

The full disk is a real file-size limit (RLIMIT_FSIZE) on this process, set just past the transcript's
earlier notes, so the first caption that would grow the file fails with EFBIG as on a full disk; Python
ignores SIGXFSZ, so the write fails instead of the process. The limit is lifted before the test ends."""

from __future__ import annotations

import resource
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.session import Overrides
from tests.helpers.data import SPEECH_DIR
from ui.controller import AppController
from ui.settings import Settings

CLIP = SPEECH_DIR / "jfk.flac"
EARLIER_NOTES = "Notes from last week's meeting, kept.\n" * 50


@pytest.fixture
def controller(qtbot: Any, settings: Settings) -> Iterator[AppController]:
    app = AppController(settings, Overrides(captions_at_start=False))
    app.start(load_models=False)
    app.window.show()
    yield app
    app.shutdown()
    app.window.close()


@pytest.fixture
def full_disk_past(tmp_path: Path) -> Iterator[Path]:
    """A transcript with earlier notes in it, on a 'disk' that is full right after them."""
    transcript = tmp_path / "captions.txt"
    transcript.write_text(EARLIER_NOTES)
    previous = resource.getrlimit(resource.RLIMIT_FSIZE)
    limit = transcript.stat().st_size + 8  # room for a line break, not for a caption
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, previous[1]))
    try:
        yield transcript
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, previous)


def test_a_full_disk_in_the_window_keeps_captioning_and_says_so_once(
    qtbot: Any, controller: AppController, full_disk_past: Path
) -> None:
    from assistant.speech.live import build_live_captioner

    def factory(on_event: Any, on_status: Any) -> Any:
        return build_live_captioner(str(CLIP), realtime=False, on_event=on_event, on_status=on_status)

    controller.captions.start_transcript(str(full_disk_past))
    handle = controller.captions.start_captions_with(factory)
    qtbot.waitUntil(lambda: not handle.is_running(), timeout=120_000)
    window = controller.window
    text = " ".join(window.captions.lines).lower()
    assert "can do for your country" in text  # captioned to the last words, not frozen at a partial
    statuses = [window.status_list.item(i).text() for i in range(window.status_list.count())]
    problems = [s for s in statuses if "transcript" in s.lower() and "write" in s.lower()]
    assert len(problems) == 1, statuses  # said once
    assert not any("another source" in s or "choose another input" in s for s in statuses), statuses
    assert full_disk_past.read_text().startswith(EARLIER_NOTES)  # the earlier notes are whole
