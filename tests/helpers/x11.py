"""A private X display and a user's hands on it, for running the real window end to end.

Used by `tests/test_app_xvfb.py`, `bench/ui_responsiveness.py` and `scripts/screenshot.py`; no pytest.

- `XvfbServer`: a private Xvfb that picks a free display number itself (`-displayfd`), so parallel
  runs never collide and nobody has to sleep until it is up.
- `XDisplay`: the few Xlib calls that stand for a user's hands, through ctypes (libX11 and libXtst; no
  xdotool needed): find the app's window, give it the keyboard focus, press a key chord with XTEST. No window
  manager runs, so giving the focus is what a window manager would do when the user clicks the window.
- `grab_window`: a screenshot of a window as the X server has it, taken by a separate short Qt process.
- `qt_xcb_problem`: why Qt cannot open a window on a display, in Qt's own words.
"""

from __future__ import annotations

import ctypes
import os
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SCREEN_SIZE = (1024, 768)
# What Qt 6's xcb platform plugin needs beyond Xlib (Debian names).
QT_XCB_PACKAGES = (
    "libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxkbcommon-x11-0"
)


class XUnavailableError(RuntimeError):
    """This machine cannot run the window on a virtual display; the message says what is missing."""


# -- the display ----------------------------------------------------------------------------------------


class XvfbServer:
    """A private X server; its complaints go to `log_path` when one is given."""

    def __init__(self, size: tuple[int, int] = SCREEN_SIZE, log_path: Path | None = None) -> None:
        self.size = size
        self.log_path = log_path
        self.display = ""
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> str:
        if shutil.which("Xvfb") is None:
            raise XUnavailableError("Xvfb is not installed (Debian: apt install xvfb)")
        read_end, write_end = os.pipe()
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        try:
            self._process = subprocess.Popen(
                ["Xvfb", "-displayfd", str(write_end), "-screen", "0", f"{self.size[0]}x{self.size[1]}x24",
                 "-nolisten", "tcp", "-noreset"],  # no reset when the last client leaves: the next test's
                                                   # connection would be refused while it runs
                pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=log,
            )  # fmt: skip
            os.close(write_end)
            write_end = -1
            # Xvfb writes its display number, then a newline, once it accepts connections; it dies if the
            # pipe is closed before it has written both.
            number = _read_line(read_end, timeout)
        finally:
            os.close(read_end)
            if write_end >= 0:
                os.close(write_end)
            if not isinstance(log, int):
                log.close()
        if not number:
            self.stop()
            raise XUnavailableError(f"Xvfb did not report a display within {timeout:g} s")
        self.display = f":{number}"
        return self.display

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def _read_line(fd: int, timeout: float) -> str:
    """One line from a pipe, or what came before EOF or `timeout`."""
    deadline = time.monotonic() + timeout
    data = b""
    while not data.endswith(b"\n"):
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(fd, 64) if ready else b""
        if not chunk:
            break
        data += chunk
    return data.decode().strip()


def qt_xcb_problem(display: str) -> str | None:
    """Why Qt cannot open a window on `display` (its own words), or None when it can. The usual reason
    is a system library Qt's xcb plugin needs; see `QT_XCB_PACKAGES`."""
    done = subprocess.run(
        [sys.executable, "-c", "from PySide6.QtGui import QGuiApplication; QGuiApplication([])"],
        env={**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode == 0:
        return None
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    return " ".join(lines[:2]) or f"exit code {done.returncode}"


# -- a user's hands: Xlib and XTEST through ctypes ------------------------------------------------------


class _WindowAttributes(ctypes.Structure):
    _fields_ = [
        ("x", ctypes.c_int), ("y", ctypes.c_int), ("width", ctypes.c_int), ("height", ctypes.c_int),
        ("border_width", ctypes.c_int), ("depth", ctypes.c_int), ("visual", ctypes.c_void_p),
        ("root", ctypes.c_ulong), ("class_", ctypes.c_int), ("bit_gravity", ctypes.c_int),
        ("win_gravity", ctypes.c_int), ("backing_store", ctypes.c_int), ("backing_planes", ctypes.c_ulong),
        ("backing_pixel", ctypes.c_ulong), ("save_under", ctypes.c_int), ("colormap", ctypes.c_ulong),
        ("map_installed", ctypes.c_int), ("map_state", ctypes.c_int), ("all_event_masks", ctypes.c_long),
        ("your_event_mask", ctypes.c_long), ("do_not_propagate_mask", ctypes.c_long),
        ("override_redirect", ctypes.c_int), ("screen", ctypes.c_void_p),
    ]  # fmt: skip


_IS_VIEWABLE = 2
_REVERT_TO_PARENT = 2
_CURRENT_TIME = 0


def _load_xlib() -> tuple[Any, Any]:
    try:
        x11 = ctypes.CDLL("libX11.so.6")
        xtst = ctypes.CDLL("libXtst.so.6")
    except OSError as error:
        raise XUnavailableError(f"{error} (Debian: apt install libx11-6 libxtst6)") from None
    c_void_p, c_ulong, c_int, c_uint = ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_uint
    x11.XOpenDisplay.restype = c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XCloseDisplay.argtypes = [c_void_p]
    x11.XDefaultRootWindow.restype = c_ulong
    x11.XDefaultRootWindow.argtypes = [c_void_p]
    x11.XQueryTree.argtypes = [
        c_void_p, c_ulong, ctypes.POINTER(c_ulong), ctypes.POINTER(c_ulong),
        ctypes.POINTER(ctypes.POINTER(c_ulong)), ctypes.POINTER(c_uint),
    ]  # fmt: skip
    x11.XFetchName.argtypes = [c_void_p, c_ulong, ctypes.POINTER(ctypes.c_char_p)]
    x11.XFree.argtypes = [c_void_p]
    x11.XGetWindowAttributes.argtypes = [c_void_p, c_ulong, ctypes.POINTER(_WindowAttributes)]
    x11.XStringToKeysym.restype = c_ulong
    x11.XStringToKeysym.argtypes = [ctypes.c_char_p]
    x11.XKeysymToKeycode.restype = ctypes.c_ubyte
    x11.XKeysymToKeycode.argtypes = [c_void_p, c_ulong]
    x11.XSetInputFocus.argtypes = [c_void_p, c_ulong, c_int, c_ulong]
    x11.XSync.argtypes = [c_void_p, c_int]
    xtst.XTestFakeKeyEvent.argtypes = [c_void_p, c_uint, c_int, c_ulong]
    return x11, xtst


class XDisplay:
    """A client connection to `display` for finding windows and pressing keys."""

    def __init__(self, display: str) -> None:
        self._x11, self._xtst = _load_xlib()
        self._handle = self._x11.XOpenDisplay(display.encode())
        if not self._handle:
            raise XUnavailableError(f"cannot connect to the X display {display}")

    def close(self) -> None:
        if self._handle:
            self._x11.XCloseDisplay(self._handle)
            self._handle = None

    def __enter__(self) -> XDisplay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def windows(self) -> list[tuple[int, str, tuple[int, int, int, int]]]:
        """The shown top-level windows: (id, title, (x, y, width, height))."""
        x11 = self._x11
        root, parent = ctypes.c_ulong(), ctypes.c_ulong()
        children, count = ctypes.POINTER(ctypes.c_ulong)(), ctypes.c_uint()
        x11.XQueryTree(self._handle, x11.XDefaultRootWindow(self._handle), ctypes.byref(root),
                       ctypes.byref(parent), ctypes.byref(children), ctypes.byref(count))  # fmt: skip
        found = []
        try:
            for index in range(count.value):
                window = int(children[index])
                attributes = _WindowAttributes()
                x11.XGetWindowAttributes(self._handle, window, ctypes.byref(attributes))
                if attributes.map_state != _IS_VIEWABLE:
                    continue
                name = ctypes.c_char_p()
                x11.XFetchName(self._handle, window, ctypes.byref(name))
                title = (name.value or b"").decode(errors="replace")
                if name.value:
                    x11.XFree(name)
                geometry = (attributes.x, attributes.y, attributes.width, attributes.height)
                found.append((window, title, geometry))
        finally:
            if children:
                x11.XFree(children)
        return found

    def focus(self, window: int) -> None:
        self._x11.XSetInputFocus(self._handle, window, _REVERT_TO_PARENT, _CURRENT_TIME)
        self._x11.XSync(self._handle, 0)

    def press(self, chord: str) -> None:
        """Press and release a chord written the Qt way, e.g. "Ctrl+Shift+D" or "F1"."""
        names = {"ctrl": "Control_L", "shift": "Shift_L", "alt": "Alt_L", "meta": "Super_L"}
        keys = []
        for part in chord.split("+"):
            keysym_name = names.get(part.lower(), part.lower() if len(part) == 1 else part)
            keysym = self._x11.XStringToKeysym(keysym_name.encode())
            code = self._x11.XKeysymToKeycode(self._handle, keysym) if keysym else 0
            if not code:
                raise ValueError(f"no key for {part!r} in {chord!r}")
            keys.append(code)
        for code in keys:
            self._xtst.XTestFakeKeyEvent(self._handle, code, 1, _CURRENT_TIME)
        for code in reversed(keys):
            self._xtst.XTestFakeKeyEvent(self._handle, code, 0, _CURRENT_TIME)
        self._x11.XSync(self._handle, 0)


_GRAB_SCRIPT = """
import sys
from PySide6.QtGui import QGuiApplication
app = QGuiApplication(sys.argv[:1])
picture = app.primaryScreen().grabWindow(int(sys.argv[1]))
sys.exit(0 if not picture.isNull() and picture.save(sys.argv[2]) else 1)
"""


def grab_window(display: str, window: int, path: str | os.PathLike[str]) -> Path:
    """Save what the X server shows of `window` as a PNG (another client's view, not the app's own)."""
    subprocess.run(
        [sys.executable, "-c", _GRAB_SCRIPT, str(window), str(path)],
        env={**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"},
        check=True,
        timeout=60,
        capture_output=True,
    )
    return Path(path)
