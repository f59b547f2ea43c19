"""Speech through speech-dispatcher, the service Orca (and other Linux screen readers) speak through.

Talking to it directly means results are spoken in the user's own screen-reader voice, rate and
language, and that our messages queue and interrupt by its rules instead of two voices talking at once.
`SpeechDispatcher` speaks SSIP, its text protocol, over its Unix socket (no client library is needed):

- `say(text, priority)` sends `SPEAK` at an SSIP priority: `Priority.NOW` is `important` (after cancelling
  what we were saying), `NEXT` is `message` (it cancels pending `text`), `NORMAL` is `text` (captions,
  narration). So a description is never queued behind captions.
- `interrupt()` / `stop()` send `CANCEL SELF`, which stops our speech and drops our queue, not Orca's.

A dead or missing service raises `ScreenReaderSpeechError` naming what happened; the caller falls back to
the built-in voice and says so once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from pathlib import Path

from assistant.errors import AssistantError
from assistant.voice.controller import Priority

log = logging.getLogger("assistant.voice.speechd")

CLIENT_NAME = "assistant:main"
CONNECT_TIMEOUT_S = 2.0
REPLY_TIMEOUT_S = 3.0
_SSIP_PRIORITY = {Priority.NOW: "important", Priority.NEXT: "message", Priority.NORMAL: "text"}


class ScreenReaderSpeechError(AssistantError):
    """The screen reader's speech service is missing, refused us, or went away."""


def socket_path(environ: dict[str, str] | None = None) -> Path:
    """Where speech-dispatcher listens: `SPEECHD_ADDRESS` (unix_socket:PATH), else its default."""
    env = os.environ if environ is None else environ
    address = env.get("SPEECHD_ADDRESS", "")
    if address.startswith("unix_socket:"):
        return Path(address.split(":", 1)[1])
    runtime = env.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}"
    return Path(runtime) / "speech-dispatcher" / "speechd.sock"


def _escape(text: str) -> str:
    """SSIP ends a message with a line holding one dot; a line of the text starting with a dot gets two."""
    lines = " ".join(text.split("\r")).split("\n")
    return "\r\n".join("." + line if line.startswith(".") else line for line in lines)


class SpeechDispatcher:
    """One SSIP connection; safe to call from any thread (calls are serialised)."""

    description = "speech-dispatcher"

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or socket_path()
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._buffer = b""
        self.last_text = ""

    def open(self) -> None:
        """Connect and introduce ourselves; raises `ScreenReaderSpeechError` when nobody listens."""
        with self._lock:
            if self._socket is not None:
                return
            connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            connection.settimeout(CONNECT_TIMEOUT_S)
            try:
                connection.connect(str(self.path))
            except OSError as error:
                connection.close()
                raise ScreenReaderSpeechError(
                    f"speech-dispatcher is not running ({self.path}: {error.strerror or error})"
                ) from None
            connection.settimeout(REPLY_TIMEOUT_S)
            self._socket = connection
            self._buffer = b""
            try:
                user = os.environ.get("USER") or "user"
                self._command(f"SET SELF CLIENT_NAME {user}:{CLIENT_NAME}")
            except ScreenReaderSpeechError:
                self._drop()
                raise

    def say(self, text: str, priority: Priority = Priority.NORMAL) -> None:
        text = " ".join(text.split())
        if not text:
            return
        with self._lock:
            if priority is Priority.NOW:
                self._command("CANCEL SELF")
            self._command(f"SET SELF PRIORITY {_SSIP_PRIORITY[priority]}")
            self._command("SPEAK", expect="230")
            self._command(_escape(text) + "\r\n.", expect="225")
            self.last_text = text

    def notify(self, text: str) -> None:
        """A passing note (a status change): said only if nothing else is being said, else dropped."""
        text = " ".join(text.split())
        if not text:
            return
        with self._lock:
            self._command("SET SELF PRIORITY notification")
            self._command("SPEAK", expect="230")
            self._command(_escape(text) + "\r\n.", expect="225")

    def interrupt(self) -> None:
        with self._lock:
            if self._socket is not None:
                self._command("CANCEL SELF")

    stop = interrupt

    def repeat_last(self) -> bool:
        if not self.last_text:
            return False
        self.say(self.last_text, Priority.NEXT)
        return True

    def close(self, timeout: float = 1.0) -> bool:
        with self._lock:
            if self._socket is not None:
                try:
                    self._socket.settimeout(min(timeout, REPLY_TIMEOUT_S))
                    self._socket.sendall(b"QUIT\r\n")
                except OSError:
                    pass
                self._drop()
        return True

    # -- the protocol ---------------------------------------------------------------------------------

    def _drop(self) -> None:
        if self._socket is not None:
            self._socket.close()
        self._socket = None

    def _command(self, line: str, expect: str = "2") -> str:
        """Send one command (lock held) and return its final reply line; raise on an error or silence."""
        if self._socket is None:
            raise ScreenReaderSpeechError("speech-dispatcher is not connected")
        try:
            self._socket.sendall(line.encode("utf-8") + b"\r\n")
            reply = self._reply()
        except OSError as error:
            self._drop()
            raise ScreenReaderSpeechError(
                f"speech-dispatcher stopped answering ({error.strerror or error})"
            ) from None
        if not reply.startswith(expect):
            raise ScreenReaderSpeechError(f"speech-dispatcher refused {line.split()[0]!r}: {reply}")
        return reply

    def _reply(self) -> str:
        assert self._socket is not None
        while True:
            while b"\r\n" not in self._buffer:
                chunk = self._socket.recv(4096)
                if not chunk:
                    raise ConnectionResetError("connection closed")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\r\n", 1)
            line = raw.decode("utf-8", "replace")
            if len(line) >= 4 and line[3] == "-":
                continue  # a continuation line ("225-17"); the reply ends with "NNN text"
            return line
