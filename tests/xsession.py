"""The real app on a private X display, driven the way a user would drive it.

Shared by the end-to-end test (`tests/test_app_xvfb.py`) and the scripts that run the window
(`bench/ui_responsiveness.py`, `scripts/screenshot.py`); it does not need pytest.

- `XvfbServer`: a private Xvfb that picks a free display number itself (`-displayfd`), so parallel
  runs never collide and nobody has to sleep until it is up.
- `XDisplay`: the few Xlib calls that stand for a user's hands, through ctypes (libX11 and libXtst; no
  xdotool needed): find the app's window, give it the keyboard focus, press a key chord with XTEST. No window
  manager runs, so giving the focus is what a window manager would do when the user clicks the window.
- `grab_window`: a screenshot of a window as the X server has it, taken by a separate short Qt process.
- `AppProcess`: `python -m assistant app ...` with the trace (`ASSISTANT_TRACE`) switched on; follows the
  trace as it grows, stops the app with SIGTERM, and reads its peak memory from /proc.
- `make_camera_video`: an MJPG video of photos, a few seconds each, for `--camera`.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SCREEN_SIZE = (1024, 768)
# What Qt 6's xcb platform plugin needs beyond Xlib (Debian names).
QT_XCB_PACKAGES = (
    "libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxkbcommon-x11-0"
)


class XUnavailableError(RuntimeError):
    """This machine cannot run the window on a virtual display; the message says what is missing."""


def poll_until(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    """`check()`'s first truthy result, asked every `interval` s: the way to wait on another process's
    files, which send no signal. Raises AssertionError naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout:g} s")
        time.sleep(interval)


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
                 "-nolisten", "tcp"],
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


# -- the app --------------------------------------------------------------------------------------------


class AppProcess:
    """The app in its own process on `display`, with its trace in `workdir/trace.jsonl`."""

    def __init__(
        self,
        display: str,
        workdir: Path,
        app_args: Sequence[str],
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.display = display
        self.workdir = workdir
        self.trace_path = workdir / "trace.jsonl"
        self.log_path = workdir / "app.log"
        self.app_args = list(app_args)
        self.extra_env = dict(env or {})
        self.process: subprocess.Popen[bytes] | None = None
        self.started_wall = 0.0
        self._events: list[dict[str, Any]] = []
        self._read_offset = 0

    def start(self) -> None:
        env = {**os.environ, **self.extra_env}
        env.update(DISPLAY=self.display, QT_QPA_PLATFORM="xcb", ASSISTANT_TRACE=str(self.trace_path))
        with open(self.log_path, "ab") as log:
            self.started_wall = time.time()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "assistant", "-v", "app", *self.app_args],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def events(self) -> list[dict[str, Any]]:
        """Every trace event so far (complete lines only; the app may be writing the next one)."""
        if self.trace_path.exists():
            with self.trace_path.open("rb") as trace:
                trace.seek(self._read_offset)
                data = trace.read()
            complete = data[: data.rfind(b"\n") + 1]
            self._read_offset += len(complete)
            self._events.extend(json.loads(line) for line in complete.splitlines() if line.strip())
        return list(self._events)

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float, what: str = "an event"
    ) -> dict[str, Any]:
        """The first trace event matching `predicate`; fails with the app's log tail."""

        def check() -> dict[str, Any] | None:
            found = next((event for event in self.events() if predicate(event)), None)
            if found is None and self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"the app exited ({self.process.returncode}) before {what}")
            return found

        try:
            result: dict[str, Any] = poll_until(check, timeout, what)
        except AssertionError as error:
            raise AssertionError(f"{error}\n{self.log_tail()}") from None
        return result

    def wait_for_status(self, fragment: str, timeout: float) -> dict[str, Any]:
        return self.wait_for(
            lambda e: e["event"] == "status" and fragment in e["text"], timeout, f"status '{fragment}'"
        )

    def log_tail(self, lines: int = 25) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def peak_rss_mb(self) -> float | None:
        """The app's peak resident memory so far (VmHWM), or None where /proc cannot tell."""
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return None

    def terminate(self, timeout: float = 10.0) -> tuple[int, float]:
        """SIGTERM, as a session manager sends it; returns (exit code, seconds to exit), or (exit code,
        0.0) when the app had already exited."""
        assert self.process is not None
        if self.process.poll() is not None:
            return self.process.returncode, 0.0
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout)
        return code, time.monotonic() - started

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(5)


def make_camera_video(
    path: Path,
    photos: Sequence[Any],
    seconds_each: float,
    size: tuple[int, int] = (320, 240),
    fps: float = 10.0,
) -> Path:
    """An MJPG video pointing at each photo (RGB uint8 arrays) in turn, with a little sensor noise."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(7)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {path}")
    try:
        for photo in photos:
            still = cv2.cvtColor(cv2.resize(photo, size, interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2BGR)
            for _ in range(round(seconds_each * fps)):
                noise = rng.normal(0.0, 3.0, still.shape)
                writer.write(np.clip(still + noise, 0, 255).astype(np.uint8))
    finally:
        writer.release()
    return path


@contextlib.contextmanager
def voice_environment() -> Iterator[dict[str, str]]:
    """A private PulseAudio server whose null sink takes the app's voice (its environment variables);
    without PulseAudio, nothing: the app then runs without its voice."""
    if shutil.which("pulseaudio") is None:
        print("(pulseaudio is not installed: the app runs without its voice)")
        yield {}
        return
    from tests.pulse import PulseServer

    server = PulseServer()
    server.start()
    try:
        yield dict(server.env)
    finally:
        server.stop()
