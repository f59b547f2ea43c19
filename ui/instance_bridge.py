"""`assistant send` and a second start, in the window: the instance socket served as a stream, and each
request run on the GUI thread.

A sent command runs through `CommandActions.trigger`, the path its key takes (interrupt, then the same
handler), so its result is shown, spoken and traced the same way. `show`/`hide` are the window itself; a
second `assistant` start shows the window and is told the assistant already runs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from assistant.desktop.commands import HIDE_WINDOW, SHOW_WINDOW, sendable
from assistant.desktop.instance import InstanceServer, Reply, Request
from ui.commands import CommandActions
from ui.output import Output
from ui.workers import Streams, StreamWorker

log = logging.getLogger("ui.instance_bridge")
STREAM = "instance"


class InstanceWorker(StreamWorker):
    request = Signal(object)  # Request, to the GUI thread

    def __init__(self, server: InstanceServer) -> None:
        super().__init__(STREAM)
        self._server = server

    def work(self, stop: threading.Event) -> None:
        self._server.serve(stop, self._on_request)

    def _on_request(self, request: Request) -> Reply:
        # Answered at once: the command runs in the window, which says its result itself.
        self.request.emit(request)
        if request.send:
            return Reply(True, f"{request.send}: sent to the running assistant")
        return Reply(True, "The assistant is already running; its window is shown.")


class InstanceBridge(QObject):
    def __init__(
        self,
        actions: CommandActions,
        output: Output,
        streams: Streams,
        show_window: Callable[[], None],
        hide_window: Callable[[], None],
    ) -> None:
        super().__init__(actions)
        self._actions = actions
        self._output = output
        self._streams = streams
        self._show_window = show_window
        self._hide_window = hide_window

    def serve(self, server: InstanceServer) -> None:
        worker = InstanceWorker(server)
        worker.request.connect(self._on_request)
        worker.failed.connect(
            lambda message: self._output.status(f"`assistant send` stopped working: {message}")
        )
        self._streams.start(STREAM, worker)

    def _on_request(self, request: Request) -> None:
        if request.start is not None:
            log.info("instance: a second start (%s) shows this window", " ".join(request.start))
            self._show_window()
            self._output.status("the assistant was started again; this window is the one that runs")
            return
        command_id = sendable(request.send).command_id
        if command_id == SHOW_WINDOW:
            self._show_window()
        elif command_id == HIDE_WINDOW:
            self._hide_window()
        else:
            self._actions.trigger(command_id, "send")
