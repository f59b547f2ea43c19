"""One running assistant per desktop session: a Unix socket that `assistant send` and a second start use.

The first `assistant` to start takes a lock file and listens on `assistant-<display>.sock` in
$XDG_RUNTIME_DIR (private to the user; a `assistant-<uid>` folder in the temporary directory where that is
unset). A second start finds the lock taken, forwards its command line over the socket and exits, so the
user never gets a second window; `assistant send NAME` forwards one command. The display is part of the
name, so two sessions of one user (or parallel test runs on private displays) do not meet.

The protocol is one JSON object per line each way: `{"send": NAME}` or `{"start": [ARGS]}`, answered by
`{"ok": true|false, "message": TEXT}`. `InstanceServer.serve` answers on whatever thread runs it and hands
each accepted request to `on_request`; a name it does not know is refused there, without the window.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import re
import select
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.desktop.commands import UnknownCommandError, sendable
from assistant.errors import AssistantError

log = logging.getLogger("assistant.desktop.instance")

CONNECT_TIMEOUT_S = 3.0
"""How long a second start waits for the first one to answer (it may still be starting)."""
MAX_REQUEST_BYTES = 64 * 1024


class NotRunningError(AssistantError):
    """No assistant is running in this desktop session."""


@dataclass(frozen=True)
class Request:
    """What another process asked: `send` a command by name, or a second `start` with its arguments."""

    send: str = ""
    start: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Reply:
    ok: bool
    message: str


def runtime_dir(environ: Mapping[str, str] | None = None) -> Path:
    """$XDG_RUNTIME_DIR, else a folder of this user's own in the temporary directory."""
    env = os.environ if environ is None else environ
    if env.get("XDG_RUNTIME_DIR"):
        return Path(env["XDG_RUNTIME_DIR"])
    folder = Path(tempfile.gettempdir()) / f"assistant-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    info = folder.stat()
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        # Someone else made it, or others can reach into it: never put our socket there.
        raise PermissionError(f"{folder} is not private to this user")
    return folder


def socket_path(environ: Mapping[str, str] | None = None) -> Path:
    """Where this session's instance listens: one per display."""
    env = os.environ if environ is None else environ
    display = env.get("WAYLAND_DISPLAY") or env.get("DISPLAY") or "default"
    return runtime_dir(env) / f"assistant-{re.sub(r'[^A-Za-z0-9.-]', '_', display)}.sock"


# -- the running instance -----------------------------------------------------------------------------


class InstanceServer:
    """The first instance's lock and listening socket. `claim` makes one, or returns None when another
    instance holds the lock."""

    def __init__(self, path: Path, lock_fd: int, listener: socket.socket) -> None:
        self.path = path
        self._lock_fd = lock_fd
        self._listener = listener

    @classmethod
    def claim(cls, path: Path | None = None) -> InstanceServer | None:
        path = path or socket_path()
        lock_path = path.with_suffix(".lock")
        lock_fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            os.close(lock_fd)
            if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                return None
            raise
        # The lock is ours, so a socket file left here is a dead instance's.
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(str(path))
            os.chmod(path, 0o600)
            listener.listen(8)
        except OSError:
            listener.close()
            os.close(lock_fd)
            raise
        log.info("instance: listening on %s", path)
        return cls(path, lock_fd, listener)

    def serve(
        self, stop: threading.Event, on_request: Callable[[Request], Reply], poll_s: float = 0.1
    ) -> None:
        """Answer requests until `stop` is set; `on_request` gets the ones that name a known command."""
        while not stop.is_set():
            ready, _, _ = select.select([self._listener], [], [], poll_s)
            if not ready:
                continue
            try:
                connection, _ = self._listener.accept()
            except OSError:
                continue
            with connection:
                self._answer(connection, on_request)

    def _answer(self, connection: socket.socket, on_request: Callable[[Request], Reply]) -> None:
        connection.settimeout(2.0)
        try:
            request = _parse(_read_line(connection))
            if request.send:
                sendable(request.send)  # refuses an unknown name here, with the list of names
            reply = on_request(request)
        except (UnknownCommandError, ValueError) as error:
            reply = Reply(False, str(error))
        except OSError as error:
            log.warning("instance: a request broke off: %s", error)
            return
        with contextlib.suppress(OSError):
            connection.sendall((json.dumps({"ok": reply.ok, "message": reply.message}) + "\n").encode())

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._listener.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        if self._lock_fd >= 0:
            os.close(self._lock_fd)  # releases the lock
            self._lock_fd = -1


def _read_line(connection: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = connection.recv(4096)
        if not chunk:
            break
        data += chunk
        if len(data) > MAX_REQUEST_BYTES:
            raise ValueError("request too long")
    return data


def _parse(line: bytes) -> Request:
    try:
        data: Any = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError("not a request (one JSON object per line)") from None
    if not isinstance(data, dict):
        raise ValueError("not a request (one JSON object per line)")
    if isinstance(data.get("send"), str):
        return Request(send=data["send"])
    start = data.get("start")
    if isinstance(start, list) and all(isinstance(arg, str) for arg in start):
        return Request(start=tuple(start))
    raise ValueError('a request has "send": NAME or "start": [ARGS]')


# -- talking to it ------------------------------------------------------------------------------------


def forward(request: Request, path: Path | None = None, timeout: float = CONNECT_TIMEOUT_S) -> Reply:
    """Hand `request` to the running instance and return its reply. Retries while the instance is
    starting (its lock is held but it is not listening yet) for up to `timeout` seconds; raises
    `NotRunningError` when nobody answers."""
    path = path or socket_path()
    body: dict[str, Any] = {"send": request.send} if request.send else {"start": list(request.start or ())}
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
                client.settimeout(max(0.5, deadline - time.monotonic()))
                client.connect(str(path))
                client.sendall((json.dumps(body) + "\n").encode())
                answer = json.loads(_read_line(client).decode("utf-8") or "{}")
            return Reply(bool(answer.get("ok")), str(answer.get("message", "")))
        except (FileNotFoundError, ConnectionRefusedError):
            if time.monotonic() >= deadline or not _lock_held(path):
                raise NotRunningError(
                    "the assistant is not running in this desktop session; start it with `assistant`"
                ) from None
            time.sleep(0.05)
        except (OSError, json.JSONDecodeError) as error:
            raise NotRunningError(f"the running assistant did not answer ({error})") from None


def _lock_held(path: Path) -> bool:
    """True while some instance holds the lock (it is running or starting)."""
    try:
        fd = os.open(path.with_suffix(".lock"), os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # also drops the lock if we just took it
    return False


def send(name: str, path: Path | None = None) -> Reply:
    """`assistant send NAME`: the command checked here first, then handed to the running instance."""
    sendable(name)
    return forward(Request(send=name), path)


def forward_start(argv: Sequence[str], path: Path | None = None) -> Reply:
    return forward(Request(start=tuple(argv)), path)
