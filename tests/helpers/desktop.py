"""A private desktop session around a private X display, built from Debian's own parts: a D-Bus session
bus (`dbus-daemon`), the AT-SPI accessibility bus (`at-spi-bus-launcher`), a window manager (`openbox`),
and Orca. Each is a `Service` that starts in the background and is stopped (its whole process group) at
the end; `environment()` is what a client of the session needs. No pytest here.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from tests.helpers import speechd
from tests.helpers.polling import poll_until
from tests.helpers.x11 import XUnavailableError, XvfbServer, qt_xcb_problem

AT_SPI_LAUNCHER = Path("/usr/libexec/at-spi-bus-launcher")


def missing(programs: Sequence[str]) -> list[str]:
    """The programs of `programs` that are not installed (names or absolute paths)."""
    return [p for p in programs if (not Path(p).exists() if p.startswith("/") else shutil.which(p) is None)]


class Service:
    """One background program in its own process group, its output in `log_path`."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str], log_path: Path) -> None:
        self.argv = list(argv)
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.argv, env=dict(env), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )  # fmt: skip

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
            except ProcessLookupError:
                pass


class DesktopSession:
    """D-Bus, and on request the AT-SPI bus, a window manager and Orca, for one X display."""

    def __init__(self, display: str, root: Path) -> None:
        self.display = display
        self.root = root
        self.env: dict[str, str] = {}
        self.services: list[Service] = []
        root.mkdir(parents=True, exist_ok=True)

    def start_dbus(self) -> DesktopSession:
        runtime = self.root / "xdg"
        runtime.mkdir(mode=0o700, exist_ok=True)
        socket = self.root / "bus"
        daemon = Service(
            ["dbus-daemon", "--session", "--nofork", "--nopidfile", f"--address=unix:path={socket}"],
            os.environ,
            self.root / "dbus.log",
        )
        self.services.append(daemon)
        poll_until(socket.exists, 10, "the D-Bus session bus")
        self.env = {
            "DISPLAY": self.display,
            "DBUS_SESSION_BUS_ADDRESS": f"unix:path={socket}",
            "XDG_RUNTIME_DIR": str(runtime),
            "XDG_CONFIG_HOME": str(self.root / "config"),
            "XDG_DATA_HOME": str(self.root / "data"),
            "XDG_CACHE_HOME": str(self.root / "cache"),
            "XDG_SESSION_TYPE": "x11",
        }
        return self

    def environment(self, **extra: str) -> dict[str, str]:
        env = {**os.environ, **self.env, **extra}
        env.pop("WAYLAND_DISPLAY", None)
        env.pop("AT_SPI_BUS_ADDRESS", None)
        return env

    def start(self, name: str, argv: Sequence[str], **extra: str) -> Service:
        service = Service(argv, self.environment(**extra), self.root / f"{name}.log")
        self.services.append(service)
        return service

    def start_accessibility(self) -> DesktopSession:
        """The AT-SPI bus, as a desktop with accessibility on runs it (registry included)."""
        self.start("at-spi", [str(AT_SPI_LAUNCHER), "--launch-immediately"])
        poll_until(self._a11y_bus_up, 15, "the AT-SPI bus")
        return self

    def _a11y_bus_up(self) -> bool:
        done = subprocess.run(
            ["dbus-send", "--session", "--print-reply", "--dest=org.a11y.Bus", "/org/a11y/bus",
             "org.a11y.Bus.GetAddress"],
            env=self.environment(), capture_output=True, text=True, timeout=10, check=False,
        )  # fmt: skip
        return done.returncode == 0 and "unix:" in done.stdout

    def start_window_manager(self) -> DesktopSession:
        self.start("openbox", ["openbox", "--sm-disable"])
        poll_until(self._window_manager_up, 15, "openbox")
        return self

    def _window_manager_up(self) -> bool:
        from assistant.desktop.x11 import open_display

        connection = open_display(self.display)
        try:
            atom = connection.intern_atom("_NET_SUPPORTING_WM_CHECK")
            return connection.screen().root.get_full_property(atom, 0) is not None
        finally:
            connection.close()

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()
        self.services.clear()


def client_windows(display: str) -> dict[int, str]:
    """The programs' windows the window manager manages (`_NET_CLIENT_LIST`): id -> title."""
    from assistant.desktop.x11 import _title, open_display

    connection = open_display(display)
    try:
        root = connection.screen().root
        clients = root.get_full_property(connection.intern_atom("_NET_CLIENT_LIST"), 0)
        ids = [int(window) for window in clients.value] if clients is not None else []
        return {
            window: _title(connection, connection.create_resource_object("window", window)) for window in ids
        }
    finally:
        connection.close()


def activate(display: str, window: int) -> None:
    """Ask the window manager to give `window` the focus, as a click or a pager would (EWMH
    `_NET_ACTIVE_WINDOW` request)."""
    from Xlib import X
    from Xlib.protocol import event

    from assistant.desktop.x11 import open_display

    connection = open_display(display)
    try:
        root = connection.screen().root
        target = connection.create_resource_object("window", window)
        message = event.ClientMessage(
            window=target, client_type=connection.intern_atom("_NET_ACTIVE_WINDOW"),
            data=(32, [2, X.CurrentTime, 0, 0, 0]),
        )  # fmt: skip
        root.send_event(message, event_mask=X.SubstructureRedirectMask | X.SubstructureNotifyMask)
        connection.sync()
    finally:
        connection.close()


class DesktopUnavailableError(RuntimeError):
    """A part of the private desktop is missing or would not start; the message says which."""


@contextmanager
def private_display(
    log_dir: Path,
    *,
    prefix: str,
    unavailable: type[RuntimeError],
    size: tuple[int, int] | None = None,
) -> Iterator[tuple[str, Path]]:
    """A private Xvfb display and a scratch folder for its session's sockets and logs: (display, root);
    `unavailable` (with Xvfb's reason) when the display will not start. Both are gone at the end."""
    root = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))  # short: sockets live here
    log_path = log_dir / "xvfb.log"
    server = XvfbServer(log_path=log_path) if size is None else XvfbServer(size, log_path)
    try:
        try:
            display = server.start()
        except XUnavailableError as error:
            raise unavailable(str(error)) from error
        yield display, root
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def screen_reader_desktop(
    log_dir: Path, programs: Sequence[str], size: tuple[int, int] | None = None, prefix: str = "desktop-"
) -> Iterator[tuple[str, DesktopSession, speechd.SpeechDispatcherServer]]:
    """A private X display with D-Bus, the AT-SPI bus, openbox and a private speech-dispatcher, as a
    blind user's desktop runs them: (display, session, speech service). `programs` are checked first."""
    absent = missing(["openbox", "dbus-daemon", "dbus-send", str(AT_SPI_LAUNCHER), *programs])
    problem = speechd.available()
    if absent or problem:
        raise DesktopUnavailableError(f"missing {absent or problem} (scripts/setup.sh --test installs them)")
    screen = private_display(log_dir, prefix=prefix, unavailable=DesktopUnavailableError, size=size)
    with screen as (display, root):
        session = DesktopSession(display, root)
        speech = speechd.SpeechDispatcherServer(root / "speechd")
        try:
            xcb = qt_xcb_problem(display)
            if xcb is not None:
                raise DesktopUnavailableError(f"Qt cannot open a window on Xvfb: {xcb}")
            session.start_dbus().start_accessibility().start_window_manager()
            speech.start()
            yield display, session, speech
        finally:
            speech.stop()
            session.stop()
