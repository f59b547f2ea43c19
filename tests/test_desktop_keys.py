"""System-wide keys on a real X server (a private Xvfb): what the X11 listener grabs fires whatever has the
focus, with Num Lock or Caps Lock on too, once per press however long the key is held; a key another
client grabbed first is refused and named, and the others still work. Also the chord parsing they rely on
and what the active-window and pointer queries say."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from assistant.desktop.keys import ChordError, parse_chord, portal_trigger
from assistant.desktop.x11 import (
    HELD_ELSEWHERE,
    GlobalKeyListener,
    GrabOutcome,
    KeyEvent,
    active_window,
    open_display,
    pointer_position,
)
from tests.helpers.polling import poll_until
from tests.helpers.x11 import XDisplay, XUnavailableError, XvfbServer

WAIT_S = 5.0


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    server = XvfbServer()
    try:
        name = server.start()
    except XUnavailableError as error:
        pytest.fail(f"{error} (scripts/setup.sh --test installs it)")
    yield name
    server.stop()


class Running:
    """A listener on its own thread, with what it reported."""

    def __init__(self, display: str, keys: dict[str, str]) -> None:
        self.listener = GlobalKeyListener(display)
        self.keys: list[KeyEvent] = []
        self.grabs: list[GrabOutcome] = []
        self.stop = threading.Event()
        self.listener.set_keys(keys)
        self.thread = threading.Thread(
            target=self.listener.run, args=(self.stop, self.keys.append, self.grabs.extend), daemon=True
        )
        self.thread.start()
        poll_until(lambda: len(self.grabs) >= sum(bool(k) for k in keys.values()), WAIT_S, "grab outcomes")

    def presses(self, command_id: str) -> int:
        return sum(1 for event in self.keys if event.command_id == command_id and event.pressed)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(WAIT_S)
        assert not self.thread.is_alive()


@pytest.fixture
def hands(display: str) -> Iterator[XDisplay]:
    with XDisplay(display) as x:
        yield x


def test_a_grabbed_key_fires_once_per_press_and_release_with_num_lock_and_caps_lock(
    display: str, hands: XDisplay
) -> None:
    running = Running(display, {"describe_window": "Ctrl+Alt+Shift+W", "stop_speech": "Ctrl+Alt+Shift+X"})
    try:
        assert all(outcome.ok for outcome in running.grabs)
        hands.press("Ctrl+Alt+Shift+W")
        poll_until(lambda: len(running.keys) >= 2, WAIT_S, "press and release")
        assert [(e.command_id, e.pressed) for e in running.keys] == [
            ("describe_window", True),
            ("describe_window", False),
        ]
        running.keys.clear()
        for lock in ("Num_Lock", "Caps_Lock"):
            hands.press(lock)  # on
            hands.press("Ctrl+Alt+Shift+X")
            poll_until(
                lambda: len(running.keys) == 2, WAIT_S, f"the key, pressed and released, with {lock} on"
            )
            hands.press(lock)  # off again
            running.keys.clear()
        hands.press("Ctrl+Shift+W")  # not a system-wide key: left to whoever has the focus
        hands.press("Ctrl+Alt+Shift+W")
        poll_until(lambda: running.presses("describe_window") == 1, WAIT_S, "the second press")
        assert running.presses("stop_speech") == 0
    finally:
        running.close()


def test_auto_repeat_of_a_held_key_is_one_press_and_one_release(display: str, hands: Any) -> None:
    running = Running(display, {"ask_voice": "Ctrl+Alt+Shift+V"})
    x11, xtst, handle = hands._x11, hands._xtst, hands._handle
    try:
        names = (b"Control_L", b"Alt_L", b"Shift_L", b"v")
        codes = [x11.XKeysymToKeycode(handle, x11.XStringToKeysym(name)) for name in names]
        for code in codes:
            xtst.XTestFakeKeyEvent(handle, code, 1, 0)
        x11.XSync(handle, 0)
        poll_until(lambda: running.presses("ask_voice") == 1, WAIT_S, "the press")
        # The user holds the key past the server's auto-repeat delay (660 ms): X sends release and press
        # again, with one time stamp, about 25 times a second. (Holding is the act under test, not a wait.)
        time.sleep(1.5)
        assert [(e.command_id, e.pressed) for e in running.keys] == [("ask_voice", True)]
        for code in reversed(codes):
            xtst.XTestFakeKeyEvent(handle, code, 0, 0)
        x11.XSync(handle, 0)
        poll_until(lambda: any(not e.pressed for e in running.keys), WAIT_S, "the release")
        assert [(e.command_id, e.pressed) for e in running.keys] == [
            ("ask_voice", True),
            ("ask_voice", False),
        ]
    finally:
        running.close()


def test_a_key_another_program_holds_is_refused_and_named_and_the_rest_work(
    display: str, hands: XDisplay
) -> None:
    from Xlib import XK, X

    other = open_display(display)  # another program, which grabbed Ctrl+Alt+Shift+B first
    keycode = other.keysym_to_keycode(XK.string_to_keysym("b"))
    other.screen().root.grab_key(
        keycode, X.ControlMask | X.Mod1Mask | X.ShiftMask, True, X.GrabModeAsync, X.GrabModeAsync
    )
    other.sync()
    running = Running(display, {"describe_clipboard": "Ctrl+Alt+Shift+B", "repeat_last": "Ctrl+Alt+Shift+A"})
    try:
        outcomes = {outcome.command_id: outcome for outcome in running.grabs}
        assert not outcomes["describe_clipboard"].ok
        assert outcomes["describe_clipboard"].reason == HELD_ELSEWHERE
        assert outcomes["describe_clipboard"].chord == "Ctrl+Alt+Shift+B"
        assert outcomes["repeat_last"].ok
        hands.press("Ctrl+Alt+Shift+A")
        poll_until(lambda: running.presses("repeat_last") == 1, WAIT_S, "the key that was free")
        # New keys take effect in the running loop: the refused one moved to a free key.
        running.grabs.clear()
        running.listener.set_keys({"describe_clipboard": "Ctrl+Alt+Shift+K"})
        poll_until(lambda: len(running.grabs) > 0, WAIT_S, "the new grab")
        assert running.grabs[0].ok
        hands.press("Ctrl+Alt+Shift+K")
        poll_until(lambda: running.presses("describe_clipboard") == 1, WAIT_S, "the moved key")
        hands.press("Ctrl+Alt+Shift+A")  # no longer grabbed
        assert running.presses("repeat_last") == 1
    finally:
        running.close()
        other.close()


def test_the_active_window_is_the_focused_one_with_its_title_and_place(display: str, hands: XDisplay) -> None:
    from Xlib import X

    connection = open_display(display)
    try:
        root = connection.screen().root
        window = root.create_window(40, 30, 300, 200, 0, X.CopyFromParent)
        window.set_wm_name("Invoice.pdf - Document Viewer")  # WM_NAME is Latin-1
        window.change_property(connection.intern_atom("_NET_WM_NAME"), connection.intern_atom("UTF8_STRING"),
                               8, "Invoice.pdf — Document Viewer".encode())  # fmt: skip
        window.map()
        connection.sync()
        hands.focus(int(window.id))
        found = active_window(display)
        assert found is not None
        assert found.title == "Invoice.pdf — Document Viewer"
        assert (found.x, found.y, found.width, found.height) == (40, 30, 300, 200)
        assert pointer_position(display) == (512, 384)  # Xvfb starts with it in the middle
    finally:
        connection.close()


def test_chords_are_read_the_way_qt_writes_them() -> None:
    chord = parse_chord("Ctrl+Alt+Shift+W")
    assert chord.modifiers == {"Ctrl", "Alt", "Shift"} and chord.keysym == "w"
    assert parse_chord("F9").keysym == "F9" and not parse_chord("F9").modifiers
    assert parse_chord("Ctrl+=").keysym == "equal"
    assert parse_chord("Ctrl++").keysym == "plus"
    assert portal_trigger(chord) == "CTRL+ALT+SHIFT+w"
    for bad in ("", "Ctrl+Shift", "Hyper+W"):
        with pytest.raises(ChordError):
            parse_chord(bad)
