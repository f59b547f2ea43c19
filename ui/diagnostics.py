"""Opt-in diagnostics of the running window, for the end-to-end test and the benchmarks.

Switched on by environment variables; with neither set, `install_diagnostics` returns None and adds
nothing to the app:

- `ASSISTANT_TRACE=FILE` appends one JSON object per line for what the window shows, as it happens:
  `{"event": ..., "wall": <time.time()>, ...}`. Events: `exposed` (the window is on screen; `window` is
  its native window id), `status` (a status line, `text`), `caption` (the last final caption line in the
  window, `text`, each time it changes: it grows as finals join it; `line` is its number),
  `description` (a description or answer shown, `text`), `command` (a command ran: its `id`, and `via`:
  "key", "system-wide key" or "send"), and `shutdown` (the window closed and the
  controller stopped everything: the `seconds` it took; `streams_running`, the stream threads still
  running; `jobs_running`, the one-off jobs still running; `python_threads`, the threads Python started
  that are still alive; `os_threads`, the names of every thread of the process, Qt's and the native
  libraries' own pools included).
- `ASSISTANT_STALL_LOG=FILE` runs a 10 ms timer on the GUI thread that measures its own lateness (how
  long the event loop could not run) and writes `<wall time> <lateness ms>` lines, a second's worth at
  a time. It stops when the window starts closing: shutdown waits for workers on purpose.

Everything here listens to the signals the widgets already get, on the GUI thread; nothing is written
from a worker.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer

if TYPE_CHECKING:
    from ui.controller import AppController

log = logging.getLogger("ui.diagnostics")

TRACE_ENV = "ASSISTANT_TRACE"
STALL_LOG_ENV = "ASSISTANT_STALL_LOG"
STALL_INTERVAL_MS = 10


class Trace(QObject):
    """Appends the window's events to a JSON-lines file (flushed per line, so a reader can follow it)."""

    def __init__(self, path: str, controller: AppController) -> None:
        super().__init__(controller)
        self._file = open(path, "a", encoding="utf-8")  # open for the window's lifetime
        self._controller = controller
        self._window = controller.window
        self._last_caption = ""
        self._close_started = 0.0
        self._exposed = False
        self._watching_handle = False
        controller.description_ready.connect(self._on_description_ready)
        controller.actions.ran.connect(self._on_command_ran)
        self._window.statusBar().messageChanged.connect(self._on_status_changed)
        self._window.caption_view.textChanged.connect(self._on_captions_changed)
        # After the controller's own connection, so this runs once it has stopped everything.
        self._window.closing.connect(self._on_window_closed)
        self._window.installEventFilter(self)
        self._watch_exposure()  # in case the window is already shown

    def write(self, event: str, **fields: Any) -> None:
        if self._file.closed:
            return
        self._file.write(json.dumps({"event": event, "wall": time.time(), **fields}) + "\n")
        self._file.flush()

    def _watch_exposure(self) -> None:
        """Follow the native window's exposure; it exists from the widget's first Show event on."""
        handle = self._window.windowHandle()
        if handle is None or self._watching_handle:
            return
        self._watching_handle = True
        handle.installEventFilter(self)
        if handle.isExposed():
            self._report_exposed()

    def _report_exposed(self) -> None:
        if not self._exposed:
            self._exposed = True
            self.write("exposed", window=int(self._window.winId()))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        kind = event.type()
        if kind == QEvent.Type.Expose:
            handle = self._window.windowHandle()
            if handle is not None and handle.isExposed():
                self._report_exposed()
        elif watched is self._window and kind == QEvent.Type.Show:
            self._watch_exposure()
        elif watched is self._window and kind == QEvent.Type.Close:
            self._close_started = time.monotonic()
        return False

    def _on_description_ready(self, text: str) -> None:
        self.write("description", text=text)

    def _on_command_ran(self, command_id: str, via: str) -> None:
        self.write("command", id=command_id, via=via)

    def _on_status_changed(self, message: str) -> None:
        if message:
            self.write("status", text=message)

    def _on_captions_changed(self) -> None:
        last = self._window.captions.last_line
        if last and last != self._last_caption:
            self._last_caption = last
            # Finals join the last line until a sentence ends, so a line is written again as it grows.
            self.write("caption", text=last, line=len(self._window.captions.lines))

    def _on_window_closed(self) -> None:
        seconds = time.monotonic() - self._close_started if self._close_started else None
        streams = self._controller.streams.handles.items()
        self.write(
            "shutdown",
            seconds=seconds,
            streams_running=sorted(name for name, handle in streams if handle.qthread.isRunning()),
            jobs_running=self._controller.jobs.busy(),
            python_threads=_python_threads(),
            os_threads=_os_threads(),
        )
        self._file.close()


class StallMonitor(QObject):
    """A timer on the GUI thread that records how late each of its ticks is."""

    def __init__(self, path: str, parent: QObject, interval_ms: int = STALL_INTERVAL_MS) -> None:
        super().__init__(parent)
        self._path = Path(path)
        self._interval_s = interval_ms / 1000
        self._pending: list[str] = []
        self._last = 0.0
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._on_timer_timeout)

    def start(self) -> None:
        self._last = 0.0  # the first tick only sets the clock: before it, the loop was not yet running
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        self._flush()

    def _on_timer_timeout(self) -> None:
        now = time.perf_counter()
        if self._last:
            lateness_ms = max(0.0, (now - self._last - self._interval_s) * 1000)
            self._pending.append(f"{time.time():.3f} {lateness_ms:.2f}\n")
            if len(self._pending) >= 1 / self._interval_s:
                self._flush()
        self._last = now

    def _flush(self) -> None:
        if self._pending:
            with self._path.open("a", encoding="utf-8") as out:
                out.writelines(self._pending)
            self._pending.clear()


class Diagnostics(QObject):
    """What `install_diagnostics` switched on; lives as long as the controller."""

    def __init__(self, controller: AppController, environ: Mapping[str, str]) -> None:
        super().__init__(controller)
        self.trace: Trace | None = None
        self.stalls: StallMonitor | None = None
        if environ.get(TRACE_ENV):
            self.trace = Trace(environ[TRACE_ENV], controller)
        if environ.get(STALL_LOG_ENV):
            self.stalls = StallMonitor(environ[STALL_LOG_ENV], self)
            self.stalls.start()
            controller.window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Close and self.stalls is not None:
            self.stalls.stop()
        return False


def install_diagnostics(
    controller: AppController, environ: Mapping[str, str] | None = None
) -> Diagnostics | None:
    """Switch on what `environ` (default: this process's environment) asks for; call before the window
    is shown, so that the trace sees it appear."""
    environ = os.environ if environ is None else environ
    if not (environ.get(TRACE_ENV) or environ.get(STALL_LOG_ENV)):
        return None
    diagnostics = Diagnostics(controller, environ)
    log.info("diagnostics: trace %s, stall log %s", environ.get(TRACE_ENV), environ.get(STALL_LOG_ENV))
    return diagnostics


def _python_threads() -> list[str]:
    """Threads started with `threading` that are still alive, besides the main one. Threads Python did
    not start (Qt's) appear as dummies once they run Python code, and never end; they are left out."""
    return sorted(
        thread.name
        for thread in threading.enumerate()
        if thread is not threading.main_thread() and not isinstance(thread, threading._DummyThread)
    )


def _os_threads() -> list[str]:
    """The names of this process's other threads (Linux; empty elsewhere). A thread inherits the name of
    the thread that started it, so native pools started from a stream's thread carry its name."""
    task_dir = Path("/proc/self/task")
    names = []
    if task_dir.is_dir():
        for task in task_dir.iterdir():
            if task.name == str(os.getpid()):
                continue
            try:
                names.append((task / "comm").read_text().strip())
            except OSError:
                continue  # the thread ended while we looked
    return sorted(names)
