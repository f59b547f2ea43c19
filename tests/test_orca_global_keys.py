"""End to end with a screen reader nobody here wrote: Debian's Orca, headless, speaking through a private
speech-dispatcher (its output written to a file), in a private desktop (Xvfb, D-Bus, the AT-SPI bus,
openbox). Another program's window has the focus, as it would while a blind user works in it; the
assistant's system-wide keys, pressed there, make it read that window's text and describe it, and the
screen reader's speech service says both, window title first.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.desktop.x11 import active_window
from tests.helpers import speechd
from tests.helpers.app_process import PROJECT_ROOT, AppProcess
from tests.helpers.desktop import (
    DesktopSession,
    DesktopUnavailableError,
    activate,
    client_windows,
    screen_reader_desktop,
)
from tests.helpers.polling import poll_until
from tests.helpers.x11 import XDisplay

TITLE = "Invoice.pdf — Document Viewer"
STARTUP_S = 60.0
SPEECH_S = 30.0  # reading loads the OCR models on first use


@pytest.fixture
def desktop(tmp_path: Path) -> Iterator[tuple[str, DesktopSession, speechd.SpeechDispatcherServer]]:
    try:
        with screen_reader_desktop(tmp_path, ["orca"], size=(1600, 1000), prefix="orca-") as desktop:
            yield desktop
    except DesktopUnavailableError as error:
        pytest.fail(str(error))


def test_a_system_wide_key_in_another_window_reads_and_describes_it_through_the_screen_reader(
    desktop: tuple[str, DesktopSession, speechd.SpeechDispatcherServer], tmp_path: Path
) -> None:
    display, session, speech = desktop
    orca_log = session.root / "orca-debug.log"
    orca = session.start(
        "orca", ["orca", "-u", str(session.root / "orca-prefs"), f"--debug-file={orca_log}"],
        SPEECHD_ADDRESS=speech.address,
    )  # fmt: skip
    poll_until(lambda: "SPEECH OUTPUT" in _read(orca_log), 30, "Orca speaking", interval=0.3)

    (tmp_path / "settings.ini").write_text("[speech]\noutput=screen reader\n")
    env = session.environment(
        SPEECHD_ADDRESS=speech.address, QT_ACCESSIBILITY="1", QT_LINUX_ACCESSIBILITY_ALWAYS_ON="1"
    )
    app = AppProcess(display, tmp_path, ["--camera", "", "--no-captions", "--settings",
                                         str(tmp_path / "settings.ini")], env=env)  # fmt: skip
    other = session.start(
        "text-window", [sys.executable, "-m", "tests.helpers.text_window", TITLE, "1280x800"],
        QT_QPA_PLATFORM="xcb", QT_ACCESSIBILITY="1", PYTHONPATH=str(PROJECT_ROOT),
    )  # fmt: skip
    try:
        app.start()
        app.wait_for(lambda e: e["event"] == "exposed", STARTUP_S, "the assistant's window")
        # The assistant has its own connection to the speech service once it is the second client (after
        # Orca). Its greeting is not waited for: it is said at the lowest priority, which the service drops
        # when Orca speaks at the same moment, as it does when a window opens.
        poll_until(lambda: speech.log().count("Adding client on fd") >= 2, STARTUP_S, "the assistant's voice")

        # The other program's window opens last and openbox gives it the focus, as a user's click would.
        poll_until(lambda: _focus(display, TITLE), 30, "the other program's window with the focus")
        with XDisplay(display) as x:
            poll_until(lambda: TITLE in _read(orca_log), 30, "Orca noticing the other window", interval=0.3)
            x.press("Ctrl+Alt+Shift+T")  # read the active window
            # Said as it is read: the title and first line at once, the rest after.
            read = poll_until(lambda: _said_after(speech, f"{TITLE}: ", "thirty days"), SPEECH_S,
                              "the window's text spoken")  # fmt: skip
            assert read.startswith(f"{TITLE}: Invoice number 4711")
            x.press("Ctrl+Alt+Shift+W")  # describe the active window
            described = poll_until(lambda: _said_after(speech, f"{TITLE}: No scene model"), SPEECH_S,
                                   "the window's description spoken")  # fmt: skip
            assert "quick look" in described and "text in view" in described.lower()
        commands = [(e["id"], e["via"]) for e in app.events() if e["event"] == "command"]
        assert commands == [("read_window", "system-wide key"), ("describe_window", "system-wide key")]
        assert orca.running(), "Orca kept running throughout"
    finally:
        app.terminate()
        other.stop()
        orca.stop()


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _said_after(
    speech: speechd.SpeechDispatcherServer, start: str, until: str = "text in view"
) -> str | None:
    """What was said from the piece starting with `start` on, once `until` (a sentence about text in
    view, by default) came."""
    said = speech.said()
    first = next((index for index, line in enumerate(said) if line.startswith(start)), None)
    if first is None:
        return None
    text = " ".join(said[first:])
    return text if until in text.lower() else None


def _focus(display: str, title: str) -> bool:
    """Give the window titled `title` the focus; True once it is the active window."""
    found = [window for window, name in client_windows(display).items() if name == title]
    if not found:
        return False
    active = active_window(display)
    if active is not None and active.title == title:
        return True
    activate(display, found[0])
    return False
