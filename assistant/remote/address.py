"""The model server's address: how it is written, which host it names, and whether plain HTTP is safe.

A picture of someone's home or letter must not cross the internet unencrypted. Plain `http://` is
therefore allowed only to this machine (loopback) and to private or link-local addresses (a GPU box on
the home or office network); anything else needs `https://`, unless the user insists (`allow_insecure`).
A host name is resolved to decide, and every address it resolves to must be private. Nothing here opens
a connection except that name lookup, which `check_transport` does only when asked.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from assistant.remote.errors import ServerAddressError

Resolver = Callable[[str], Sequence[str]]
"""Host name → the IP addresses it resolves to."""


@dataclass(frozen=True)
class ServerAddress:
    """A parsed server address. `base_url` is what the OpenAI client is given (it ends in the API's root,
    `/v1` when the user gave only a host)."""

    base_url: str
    scheme: str
    host: str
    port: int | None

    @property
    def display(self) -> str:
        """The host (and port), as the user is told where pictures go: "gpu-box:8000"."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port is None else f"{host}:{self.port}"

    @property
    def encrypted(self) -> bool:
        return self.scheme == "https"


def parse_server_url(url: str) -> ServerAddress:
    """Parse what the user typed ("gpu-box:8000", "http://10.0.0.5:8000/v1", "https://llm.example.org").

    No scheme means http; no path means `/v1`, the root every OpenAI-compatible server uses."""
    text = url.strip()
    if not text:
        raise ServerAddressError("No server address is set. Give one like http://192.168.1.20:8000.")
    if "://" not in text:
        text = "http://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as error:
        raise ServerAddressError(f"The server address {url!r} is not valid ({error}).") from error
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ServerAddressError(
            f"The server address must start with http:// or https://, not {parts.scheme}://."
        )
    host = parts.hostname or ""
    if not host:
        raise ServerAddressError(f"The server address {url!r} names no host.")
    path = parts.path.rstrip("/") or "/v1"
    netloc = parts.netloc.rsplit("@", 1)[-1]  # never keep a user:password in the address
    return ServerAddress(f"{scheme}://{netloc}{path}", scheme, host, port)


def is_private_address(address: str) -> bool:
    """True for loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7) and link-local addresses."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_private or ip.is_link_local


def resolve_host(host: str) -> list[str]:
    """Every address `host` resolves to (a DNS or hosts-file lookup)."""
    infos: list[Any] = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def check_transport(
    address: ServerAddress, allow_insecure: bool = False, resolve: Resolver = resolve_host
) -> None:
    """Refuse plain HTTP to anything but this machine or the local network, unless `allow_insecure`."""
    if address.encrypted or allow_insecure:
        return
    if address.host.lower() == "localhost" or is_private_address(address.host):
        return
    if _is_ip_literal(address.host):
        resolved = [address.host]
    else:
        resolved = _resolved(address, resolve)
    if resolved and all(is_private_address(ip) for ip in resolved):
        return
    raise ServerAddressError(
        f"Not sending pictures to {address.display}: it is not on this machine or the local network, and "
        "plain http:// would send them unencrypted. Use https://, or allow unencrypted connections "
        "(--allow-insecure, or the setting) if you trust every network in between."
    )


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _resolved(address: ServerAddress, resolve: Resolver) -> list[str]:
    try:
        return list(resolve(address.host))
    except OSError as error:
        raise ServerAddressError(
            f"Cannot find the server {address.display} ({error.strerror or error}). Check the address."
        ) from error
