"""What can go wrong with a model server, each as an `AssistantError` whose message the user hears once.

`ServerError` is the base the session catches to answer on-device instead. Every message names the host
(never the full address with its path, never the API key) and says what happened in plain words.
"""

from __future__ import annotations

from assistant.errors import AssistantError


class ServerError(AssistantError):
    """The model server could not answer; the on-device model answers instead."""


class ServerAddressError(ServerError):
    """The server address is not usable: not http(s), no host, or plain HTTP to a public address."""


class ServerTimeoutError(ServerError):
    """The server did not start answering (or stopped answering) within the time allowed."""


class ServerUnreachableError(ServerError):
    """No connection: the server is off, the address is wrong, or the network is down."""


class ServerRefusedError(ServerError):
    """The server answered with an HTTP error (401 for a wrong key, 404 for an unknown model, 500...)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class MalformedStreamError(ServerError):
    """The server's streamed answer could not be read, or broke off before it was complete."""
