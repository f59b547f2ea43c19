"""A server on 127.0.0.1 that accepts every connection and never answers: what a captive portal, a
broken proxy or a half-dead link looks like to a client. Used by the fault tests to prove nothing waits
on it for ever."""

from __future__ import annotations

import socket
import threading
from types import TracebackType


class StalledServer:
    """Listens on a free loopback port; holds each accepted connection open, silent, until `close()`."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.accepted = 0
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, name="stalled-server", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:  # closed
                return
            self.accepted += 1
            self._held.append(connection)

    def close(self) -> None:
        self._listener.close()
        for connection in self._held:
            connection.close()
        self._thread.join(timeout=2.0)

    def __enter__(self) -> StalledServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
