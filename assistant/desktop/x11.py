"""X11: keys that work while any program has focus, the active window and the mouse pointer.

Each piece opens its own connection to the X server (python-xlib speaks the protocol itself, so nothing is
shared with Qt's connection and no Xlib error handler is installed process-wide):

- `GlobalKeyListener` grabs keys on the root window (XGrabKey), so the X server sends them to us whatever
  window has focus. Each key is grabbed four times, with and without Num Lock and Caps Lock, because X
  matches modifiers exactly and a user with Num Lock on would otherwise find the key dead. A key another
  program has grabbed already fails with BadAccess; that key is reported refused (`GrabOutcome`), and the
  others still work. `run(stop, on_key, on_grab)` is the loop, on whichever thread the caller gives it
  (the window runs it as a stream worker); `set_keys` may be called from any thread and takes effect in
  the loop. Auto-repeat is folded away: a held key gives one press and one release.
- `active_window()`: `_NET_ACTIVE_WINDOW` (every EWMH window manager sets it), its title (`_NET_WM_NAME`,
  else `WM_NAME`) and where it is on the screen; without a window manager, the window with the input focus.
- `pointer_position()`: XQueryPointer on the root window.
"""

from __future__ import annotations

import logging
import os
import select
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from assistant.desktop.keys import ChordError, parse_chord
from assistant.errors import AssistantError

log = logging.getLogger("assistant.desktop.x11")

REPEAT_WINDOW_S = 0.015
"""A release followed this soon by a press of the same key at the same server time is auto-repeat (X
sends the two together; a person cannot press a key again this fast)."""
HELD_ELSEWHERE = "another program already uses it"


class X11Error(AssistantError):
    """No X server to talk to, or it went away."""


@dataclass(frozen=True)
class KeyEvent:
    """A system-wide key of `command_id` went down (`pressed`) or came up."""

    command_id: str
    pressed: bool
    wall: float
    """time.time() when the listener read it (for the trace and the benchmark)."""


@dataclass(frozen=True)
class GrabOutcome:
    """Whether `chord` could be made system-wide for `command_id`; `reason` says why not."""

    command_id: str
    chord: str
    ok: bool
    reason: str = ""


@dataclass(frozen=True)
class WindowInfo:
    """A top-level window: its id, title and where it is on the screen (root coordinates)."""

    id: int
    title: str
    x: int
    y: int
    width: int
    height: int


def _xlib() -> Any:
    try:
        from Xlib import display
    except ImportError as error:  # pragma: no cover - a declared dependency
        raise X11Error(f"python-xlib is missing ({error}); pip install python-xlib") from None
    return display


def open_display(name: str | None = None) -> Any:
    """A new connection to the X server `name` (default: $DISPLAY)."""
    display = _xlib()
    try:
        return display.Display(name)
    except Exception as error:  # noqa: BLE001 - python-xlib raises several unrelated types here
        shown = name or os.environ.get("DISPLAY", "")
        raise X11Error(f"cannot connect to the X display {shown!r}: {error}") from None


# -- system-wide keys ---------------------------------------------------------------------------------


class GlobalKeyListener:
    """System-wide keys over one X connection, used only by the thread that runs `run`."""

    def __init__(self, display_name: str | None = None) -> None:
        self._display_name = display_name
        self._lock = threading.Lock()
        self._wanted: dict[str, str] | None = None  # the next set of keys, for the loop to grab
        self._wake_read, self._wake_write = -1, -1
        self._grabbed: dict[tuple[int, int], str] = {}  # (keycode, modifiers) -> command id
        self._down: dict[int, str] = {}  # keycode -> command id, while the key is held
        self._release_pending: dict[int, tuple[str, int, float]] = {}  # keycode -> (id, server time, due)
        self._ignored_masks = 0

    def set_keys(self, keys: Mapping[str, str]) -> None:
        """Grab exactly `keys` (command id -> chord; "" for none) from now on; any thread."""
        with self._lock:
            self._wanted = dict(keys)
            if self._wake_write >= 0:
                os.write(self._wake_write, b"k")  # under the lock: the loop closes the pipe under it too

    def run(
        self,
        stop: threading.Event,
        on_key: Callable[[KeyEvent], None],
        on_grab: Callable[[list[GrabOutcome]], None],
        stop_poll_s: float = 0.1,
    ) -> None:
        """Listen until `stop` is set; keys go to `on_key`, the outcome of each `set_keys` to `on_grab`.
        Raises `X11Error` when the X server cannot be reached or goes away."""
        from Xlib import X
        from Xlib.error import ConnectionClosedError

        connection = open_display(self._display_name)
        read_end, write_end = os.pipe()
        with self._lock:
            self._wake_read, self._wake_write = read_end, write_end
        try:
            root = connection.screen().root
            self._ignored_masks = X.LockMask | _num_lock_mask(connection)
            while not stop.is_set():
                with self._lock:
                    wanted, self._wanted = self._wanted, None
                if wanted is not None:
                    on_grab(self._grab(connection, root, wanted))
                while connection.pending_events():
                    self._handle(connection.next_event(), on_key)
                timeout = stop_poll_s
                if self._release_pending:
                    due = min(entry[2] for entry in self._release_pending.values())
                    timeout = max(0.0, min(timeout, due - time.monotonic()))
                ready, _, _ = select.select([connection, read_end], [], [], timeout)
                if read_end in ready:
                    os.read(read_end, 64)
                self._flush_releases(on_key)
            self._ungrab_all(root)
            connection.sync()
        except ConnectionClosedError as error:
            raise X11Error(f"the X display closed: {error}") from None
        finally:
            with self._lock:
                self._wake_read, self._wake_write = -1, -1
                os.close(read_end)
                os.close(write_end)
            connection.close()

    # -- grabbing --

    def _variants(self) -> tuple[int, ...]:
        from Xlib import X

        num_lock = self._ignored_masks & ~X.LockMask
        return (0, X.LockMask, num_lock, X.LockMask | num_lock) if num_lock else (0, X.LockMask)

    def _ungrab_all(self, root: Any) -> None:
        for keycode, modifiers in self._grabbed:
            for variant in self._variants():
                root.ungrab_key(keycode, modifiers | variant)
        self._grabbed.clear()
        self._down.clear()
        self._release_pending.clear()

    def _grab(self, connection: Any, root: Any, keys: Mapping[str, str]) -> list[GrabOutcome]:
        from Xlib import XK, X, error

        self._ungrab_all(root)
        connection.sync()
        outcomes = []
        for command_id, text in keys.items():
            if not text:
                continue
            try:
                chord = parse_chord(text)
            except ChordError as problem:
                outcomes.append(GrabOutcome(command_id, text, False, str(problem)))
                continue
            keysym = XK.string_to_keysym(chord.keysym)
            keycode = connection.keysym_to_keycode(keysym) if keysym else 0
            if not keycode:
                outcomes.append(GrabOutcome(command_id, text, False, "this keyboard has no such key"))
                continue
            modifiers = 0
            for name in chord.modifiers:
                modifiers |= {"Ctrl": X.ControlMask, "Shift": X.ShiftMask, "Alt": X.Mod1Mask,
                              "Meta": X.Mod4Mask}[name]  # fmt: skip
            if (keycode, modifiers) in self._grabbed:
                other = self._grabbed[(keycode, modifiers)]
                outcomes.append(GrabOutcome(command_id, text, False, f"the same key as {other}"))
                continue
            catcher = error.CatchError(error.BadAccess)
            for variant in self._variants():
                root.grab_key(keycode, modifiers | variant, True, X.GrabModeAsync, X.GrabModeAsync,
                              onerror=catcher)  # fmt: skip
            connection.sync()  # BadAccess arrives only after the server has handled the requests
            if catcher.get_error() is not None:
                for variant in self._variants():
                    root.ungrab_key(keycode, modifiers | variant)
                outcomes.append(GrabOutcome(command_id, text, False, HELD_ELSEWHERE))
                continue
            self._grabbed[(keycode, modifiers)] = command_id
            outcomes.append(GrabOutcome(command_id, text, True))
        connection.sync()
        log.info("x11: %d system-wide keys grabbed, %d refused",
                 sum(o.ok for o in outcomes), sum(not o.ok for o in outcomes))  # fmt: skip
        return outcomes

    # -- events --

    def _handle(self, event: Any, on_key: Callable[[KeyEvent], None]) -> None:
        from Xlib import X

        keycode = int(event.detail) if event.type in (X.KeyPress, X.KeyRelease) else 0
        log.debug("x11: event %s key %s state %s time %s", event.type, keycode, getattr(event, "state", None),
                  getattr(event, "time", None))
        if event.type == X.KeyPress:
            pending = self._release_pending.pop(keycode, None)
            if pending is not None:
                if pending[1] == event.time:
                    return  # auto-repeat: the key never came up
                self._down.pop(keycode, None)  # a quick second press: the first one did end
                on_key(KeyEvent(pending[0], False, time.time()))
            if keycode in self._down:
                return  # a repeat without a release (detectable auto-repeat)
            modifiers = int(event.state) & ~self._ignored_masks & 0xFF
            command_id = self._grabbed.get((keycode, modifiers))
            if command_id is not None:
                self._down[keycode] = command_id
                on_key(KeyEvent(command_id, True, time.time()))
        elif event.type == X.KeyRelease and keycode in self._down:
            # The user may let go of the modifiers first, so a release is matched by its key alone.
            due = time.monotonic() + REPEAT_WINDOW_S
            self._release_pending[keycode] = (self._down[keycode], int(event.time), due)

    def _flush_releases(self, on_key: Callable[[KeyEvent], None]) -> None:
        now = time.monotonic()
        for keycode, (command_id, _server_time, due) in list(self._release_pending.items()):
            if due <= now:
                del self._release_pending[keycode]
                self._down.pop(keycode, None)
                on_key(KeyEvent(command_id, False, time.time()))


def _num_lock_mask(connection: Any) -> int:
    """The modifier bit Num Lock sets on this server (usually Mod2); 0 when the keyboard has none."""
    from Xlib import XK

    keycode = connection.keysym_to_keycode(XK.string_to_keysym("Num_Lock"))
    if not keycode:
        return 0
    for index, keycodes in enumerate(connection.get_modifier_mapping()):
        if keycode in keycodes:
            return int(1 << index)
    return 0


# -- the active window and the pointer ----------------------------------------------------------------


def active_window(display_name: str | None = None) -> WindowInfo | None:
    """The window the user is working in, or None when there is none (an empty desktop)."""
    connection = open_display(display_name)
    try:
        root = connection.screen().root
        window = _active(connection, root)
        if window is None:
            return None
        geometry = window.get_geometry()
        origin = root.translate_coords(window, 0, 0)
        screen = connection.screen()
        x, y = max(0, int(origin.x)), max(0, int(origin.y))
        width = min(int(geometry.width) + min(0, int(origin.x)), int(screen.width_in_pixels) - x)
        height = min(int(geometry.height) + min(0, int(origin.y)), int(screen.height_in_pixels) - y)
        return WindowInfo(int(window.id), _title(connection, window), x, y, max(0, width), max(0, height))
    finally:
        connection.close()


def _active(connection: Any, root: Any) -> Any | None:
    from Xlib import X

    net_active = connection.intern_atom("_NET_ACTIVE_WINDOW")
    prop = root.get_full_property(net_active, X.AnyPropertyType)
    if prop is not None and len(prop.value) and int(prop.value[0]):
        return connection.create_resource_object("window", int(prop.value[0]))
    # No window manager: the focus window, or the top-level window that holds it.
    focus = connection.get_input_focus().focus
    if isinstance(focus, int) or focus is None or int(focus.id) == int(root.id):
        return None
    window = focus
    while True:
        tree = window.query_tree()
        if tree.parent is None or int(tree.parent.id) == int(root.id):
            return window
        window = tree.parent


def _title(connection: Any, window: Any) -> str:
    net_name, utf8 = connection.intern_atom("_NET_WM_NAME"), connection.intern_atom("UTF8_STRING")
    prop = window.get_full_property(net_name, utf8)
    if prop is not None and prop.value:
        value = prop.value
        return (value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)).strip()
    name = window.get_wm_name()
    if isinstance(name, bytes):
        name = name.decode("latin-1")
    return str(name or "").strip()


def pointer_position(display_name: str | None = None) -> tuple[int, int]:
    """Where the mouse pointer is, in screen coordinates."""
    connection = open_display(display_name)
    try:
        reply = connection.screen().root.query_pointer()
        return int(reply.root_x), int(reply.root_y)
    finally:
        connection.close()


def screen_size(display_name: str | None = None) -> tuple[int, int]:
    connection = open_display(display_name)
    try:
        screen = connection.screen()
        return int(screen.width_in_pixels), int(screen.height_in_pixels)
    finally:
        connection.close()
