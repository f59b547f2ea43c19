"""The window as a screen reader sees it, through Debian's own AT-SPI client (pyatspi, run by the system
Python as `tests/helpers/atspi_check.py`) on a private accessibility bus, under Xvfb with openbox.

The app runs on a photo as its camera and a recording as its microphone, set to speak through the
screen reader. Checked: every interactive control of the window, the settings dialog and the caption
overlay has a name; Tab walks the window in its documented order; a description and a whole caption
sentence arrive as `object:announcement` events; and the captions view only grows at its end (the
partial text at the end is replaced, nothing before it is ever deleted), so a reader reviewing earlier
lines keeps its place.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import speechd
from tests.helpers.app_process import PROJECT_ROOT, AppProcess
from tests.helpers.desktop import DesktopSession, DesktopUnavailableError, screen_reader_desktop

SYSTEM_PYTHON = "/usr/bin/python3"
CHECK = PROJECT_ROOT / "tests" / "helpers" / "atspi_check.py"
STARTUP_S = 60.0
TAB_ORDER = [  # from the question, where the window starts
    "push button 'Ask'",
    "text 'Latest description'",
    "list 'Description history'",
    "text 'Live captions'",
    "list 'Sound history'",
    "list 'Status messages'",
    "text 'Question about the picture'",
]


def _pyatspi_problem() -> str | None:
    done = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import pyatspi"], capture_output=True, text=True, check=False
    )
    return None if done.returncode == 0 else done.stderr.strip().splitlines()[-1]


@pytest.fixture
def session(tmp_path: Path) -> Iterator[tuple[str, DesktopSession, speechd.SpeechDispatcherServer]]:
    problem = _pyatspi_problem() if Path(SYSTEM_PYTHON).exists() else f"{SYSTEM_PYTHON} is missing"
    if problem:
        pytest.fail(f"{problem} (scripts/setup.sh --test installs python3-pyatspi)")
    try:
        with screen_reader_desktop(tmp_path, ["xdotool"], prefix="atspi-") as desktop:
            yield desktop
    except DesktopUnavailableError as error:
        pytest.fail(str(error))


def unnamed_interactive(nodes: list[dict[str, Any]]) -> list[str]:
    interactive = {"push button", "check box", "combo box", "text", "spin button", "list", "page tab",
                   "page tab list", "menu item", "check menu item", "slider", "toggle button", "menu bar",
                   "menu", "table", "tree", "link"}  # fmt: skip
    return [f"{n['role']} (depth {n['depth']}, {n['states']})" for n in nodes
            if n["role"] in interactive and "showing" in n["states"] and not n["name"].strip()]  # fmt: skip


def replay(start: str, events: list[dict[str, Any]]) -> tuple[str, list[str], list[int]]:
    """The captions view's text rebuilt from its events; every change that was not at its end or that
    took away text older than the last change (only the partial text at the end may be replaced); and how
    much text each replacement left standing (the final text, which a rewrite of the whole view would not
    leave)."""
    text, problems, kept = start, [], []
    settled = len(start)  # text that has survived a replacement is never deleted again
    for event in events:
        if event["type"] == "insert":
            if event["offset"] != len(text):
                problems.append(f"insert at {event['offset']} of {len(text)}: {event['text']!r}")
            text = text[: event["offset"]] + event["text"] + text[event["offset"] :]
        elif event["type"] == "delete":
            end = event["offset"] + event["length"]
            if end != len(text) or event["offset"] < settled:
                problems.append(f"delete {event['offset']}..{end} of {len(text)}: {event['text']!r}")
            text = text[: event["offset"]] + text[end:]
            settled = len(text)
            kept.append(settled)
    return text, problems, kept


def test_a_screen_reader_finds_every_control_named_the_tab_order_announcements_and_appending_captions(
    session: tuple[str, DesktopSession, speechd.SpeechDispatcherServer], tmp_path: Path, test_data: Path
) -> None:
    display, desktop, speech = session
    settings = tmp_path / "settings.ini"
    settings.write_text("[speech]\noutput=screen reader\nannounce_captions=true\n")
    env = desktop.environment(
        SPEECHD_ADDRESS=speech.address, QT_ACCESSIBILITY="1", QT_LINUX_ACCESSIBILITY_ALWAYS_ON="1"
    )
    app = AppProcess(display, tmp_path, [
        "--camera", str(test_data / "images" / "skimage_coffee.png"),
        "--input", str(test_data / "speech" / "jfk.flac"), "--no-captions", "--settings", str(settings),
    ], env=env)  # fmt: skip
    try:
        app.start()
        app.wait_for(lambda e: e["event"] == "exposed", STARTUP_S, "the window")
        out = tmp_path / "atspi.json"
        done = subprocess.run(
            [SYSTEM_PYTHON, str(CHECK), "--pid", str(app.pid), "--out", str(out),
             "--caption", "your country"],
            env=env, capture_output=True, text=True, timeout=240, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        result = json.loads(out.read_text())
    finally:
        app.terminate()

    for tree in ("main", "settings", "overlay"):
        assert result["trees"].get(tree), f"the {tree} window was not found: {result['steps']}"
        assert unnamed_interactive(result["trees"][tree]) == [], tree
    overlay_text = [n for n in result["trees"]["overlay"] if n["role"] in ("text", "label", "static")]
    assert overlay_text, "the overlay exposes its caption text"

    assert result["tab_focus"][1:] == TAB_ORDER, result["tab_focus"]

    announced = [a["text"] for a in result["announcements"]]
    assert any("quick look" in text for text in announced), announced
    sentences = [text for text in announced if "your country" in text.lower()]
    assert sentences, announced
    for sentence in sentences:  # whole sentences, as the recogniser punctuated them: never fragments
        assert len(sentence.split()) >= 4 and sentence.rstrip()[-1] in ".!?", sentence

    final_text, problems, kept = replay(result["caption_text_at_start"], result["caption_events"])
    assert [e for e in result["caption_events"] if e["type"] == "insert"], "captions were added"
    assert problems == [], problems
    assert kept and max(kept) > 0, "a partial was replaced while the final text before it stayed"
    assert "country" in final_text
    assert not any(e["type"] == "caret" and e["offset"] == 0 for e in result["caption_events"])
