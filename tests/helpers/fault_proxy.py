"""A reverse proxy in front of a real model server that misbehaves on purpose, for the fault tests.

It stands for what sits between the assistant and a model server in real deployments (an nginx or
LiteLLM gateway with keys, a slow Wi-Fi link, an overloaded GPU box) and for the faults the real
`transformers serve` cannot show by itself: a slow first token, a connection dropped part-way through
the stream, a 401 from a gateway that checks keys, a 500, an answer that is not server-sent events.

`FaultProxy(upstream)` listens on a free loopback port. Set `fault` (a `Fault`) before a request; the
default forwards everything as it comes, event by event, so the stream's timing is the server's own.
Every request's headers and body are kept in `seen_headers` and `bodies` (to check what the client
sent), and `events_sent` counts the events passed on (to check what had arrived when).
"""

from __future__ import annotations

import http.client
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Fault:
    """What the proxy does to the next requests.

    - `delay_first`: seconds to wait before answering a request for an answer (a slow first token);
    - `delay_each`: seconds to wait before passing on each server-sent event;
    - `status`: answer with this HTTP status and a JSON error instead of forwarding (401, 500);
    - `drop_after`: pass on this many events, then cut the connection mid-stream;
    - `garbage`: answer 200 with a text/event-stream body that is not JSON;
    - `require_key`: answer 401 unless the request carries `Authorization: Bearer <require_key>`."""

    delay_first: float = 0.0
    delay_each: float = 0.0
    status: int = 0
    drop_after: int = -1
    garbage: bool = False
    require_key: str = ""
    message: str = "The model crashed."
    """The error message of a `status` answer."""


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.fault = Fault()
        self.seen_headers: list[dict[str, str]] = []
        self.bodies: list[bytes] = []
        self.requests = 0
        self.events_sent = 0
        """Server-sent events passed on so far, over all requests."""
        self._stopping = threading.Event()  # cuts the faults' delays short when the proxy stops
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                proxy._handle(self, "GET")

            def do_POST(self) -> None:
                proxy._handle(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- one request --------------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        fault = self.fault
        self.requests += 1
        self.seen_headers.append({name.lower(): value for name, value in handler.headers.items()})
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        self.bodies.append(body)
        if fault.delay_first and method == "POST" and self._stopping.wait(fault.delay_first):
            return
        authorization = handler.headers.get("Authorization", "")
        if fault.require_key and authorization != f"Bearer {fault.require_key}":
            self._error(handler, 401, "Invalid API key.")
            return
        if fault.status:
            self._error(handler, fault.status, fault.message)
            return
        if fault.garbage:
            self._start_stream(handler)
            self._chunk(handler, b"data: {this is not json\n\n")
            self._chunk(handler, b"")
            return
        upstream = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=60)
        try:
            self._forward(handler, method, body, upstream, fault)
        except OSError:
            return  # the client or the server went away: nothing left to pass on
        finally:
            upstream.close()

    def _forward(
        self,
        handler: BaseHTTPRequestHandler,
        method: str,
        body: bytes,
        upstream: http.client.HTTPConnection,
        fault: Fault,
    ) -> None:
        headers = {"Content-Type": handler.headers.get("Content-Type", "application/json")}
        upstream.request(method, handler.path, body=body or None, headers=headers)
        response = upstream.getresponse()
        if "text/event-stream" not in response.getheader("Content-Type", ""):
            data = response.read()
            handler.send_response(response.status)
            handler.send_header("Content-Type", response.getheader("Content-Type", "application/json"))
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
            return
        self._start_stream(handler, response.status)
        sent = 0
        event = b""
        while True:
            line = response.readline()
            if not line:
                break
            event += line
            if line.strip():
                continue
            if sent == fault.drop_after:
                # Cut the connection without the chunked stream's last chunk: a broken answer.
                handler.close_connection = True
                handler.wfile.flush()
                handler.connection.shutdown(2)
                return
            if fault.delay_each and self._stopping.wait(fault.delay_each):
                return
            self._chunk(handler, event)
            sent += 1
            self.events_sent += 1
            event = b""
        self._chunk(handler, b"")

    @staticmethod
    def _error(handler: BaseHTTPRequestHandler, status: int, message: str) -> None:
        data = json.dumps({"error": {"message": message, "type": "error", "code": status}}).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    @staticmethod
    def _start_stream(handler: BaseHTTPRequestHandler, status: int = 200) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()

    @staticmethod
    def _chunk(handler: BaseHTTPRequestHandler, data: bytes) -> None:
        """One piece of a chunked body, sent at once (the empty piece ends the body)."""
        handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        handler.wfile.flush()
