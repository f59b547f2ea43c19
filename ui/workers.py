"""The thread policy, in one place.

- Continuous streams (captions, camera, narration, a spoken question): a `StreamWorker` QObject moved
  to its own QThread, wired started → run, finished → quit → deleteLater. It is stopped with a
  `threading.Event` (never a plain bool) and joined with a timeout on shutdown (`StreamHandle.stop`).
- One-off jobs (load a model, describe one frame, read one page): `JobRunner.submit(fn, ...)` runs `fn` as
  a `QRunnable` on a dedicated `QThreadPool`, and its result or `AssistantError` comes back as a signal.

Results reach the GUI thread only as queued signals; the GUI thread never calls into a worker and never
waits on one, except `stop(timeout)` at shutdown. `Streams` keeps the running streams by name.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QRunnable, Qt, QThread, QThreadPool, Signal, Slot

from assistant.errors import AssistantError

log = logging.getLogger("ui.workers")
Result = TypeVar("Result")


def user_message(error: BaseException) -> str:
    """What to tell the user about a failure: an AssistantError's own words, else a generic line."""
    if isinstance(error, AssistantError):
        return str(error)
    return f"unexpected error ({type(error).__name__}: {error}); details are in the log"


# -- continuous streams -------------------------------------------------------------------------------


class StreamWorker(QObject):
    """Base for a continuous stream. Subclasses implement `work(stop)`, a blocking loop that returns
    soon after `stop` is set; they emit their own result signals from it."""

    started = Signal()
    status = Signal(str)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.stop_event = threading.Event()

    @Slot()
    def run(self) -> None:
        self.started.emit()
        try:
            self.work(self.stop_event)
        except Exception as error:  # noqa: BLE001 - a stream must report, not kill the thread silently
            if not isinstance(error, AssistantError):
                log.error("%s: %s", self.name, traceback.format_exc())
            self.failed.emit(user_message(error))
        finally:
            self.finished.emit()

    def work(self, stop: threading.Event) -> None:
        raise NotImplementedError


class StreamHandle(QObject):
    """A running stream: its worker, its thread, and how to stop it.

    Handles stay registered until their thread has ended: dropping the last reference to a running
    QThread destroys it mid-run (Qt aborts with "Destroyed while thread is still running")."""

    ended = Signal()

    def __init__(self, worker: StreamWorker, thread: QThread) -> None:
        super().__init__()
        self.name = worker.name
        self.worker = worker
        self.qthread = thread
        self.stop_event = worker.stop_event  # kept here: the worker's C++ side is deleted when it ends
        self._done = threading.Event()
        worker.finished.connect(self._done.set, type=_DIRECT)
        thread.finished.connect(self._on_thread_finished)

    def is_running(self) -> bool:
        return not self._done.is_set()

    def request_stop(self) -> None:
        self.stop_event.set()

    def stop(self, timeout: float = 1.5) -> bool:
        """Stop the worker and wait for its thread to end; False if it did not end in time."""
        self.request_stop()
        ended = self._done.wait(timeout)
        if ended:
            self.qthread.quit()
            ended = self.qthread.wait(int(max(0.05, timeout) * 1000))
        if not ended:
            log.warning("workers: %s did not stop within %.1f s", self.name, timeout)
        return ended

    @Slot()
    def _on_thread_finished(self) -> None:
        self.qthread.wait(1000)  # `finished` is emitted just before the thread really exits
        _LIVE.discard(self)
        self.ended.emit()


# A signal-to-Event connection: run at once in the emitting thread (setting an Event is thread-safe).
_DIRECT = Qt.ConnectionType.DirectConnection
_LIVE: set[StreamHandle] = set()


def start_stream(worker: StreamWorker) -> StreamHandle:
    """Move `worker` to a new QThread and start it (Buzz's wiring). The handle lives in the GUI thread;
    the worker is deleted in its own thread when it finishes, the QThread by Python once it has ended."""
    thread = QThread()
    thread.setObjectName(worker.name)
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    # Direct: the QThread object lives in the GUI thread, and a queued quit would wait for a GUI thread
    # that may itself be waiting for this thread (at shutdown). QThread.quit is thread-safe.
    worker.finished.connect(thread.quit, type=_DIRECT)
    worker.finished.connect(worker.deleteLater)
    handle = StreamHandle(worker, thread)
    _LIVE.add(handle)
    thread.start()
    return handle


# -- one-off jobs -------------------------------------------------------------------------------------


class JobSignals(QObject):
    done = Signal(object)
    failed = Signal(str)


class Job(QRunnable):
    def __init__(self, name: str, fn: Callable[[], Any]) -> None:
        super().__init__()
        self.name = name
        self.fn = fn
        self.signals = JobSignals()
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as error:  # noqa: BLE001 - reported to the user as a signal
            if not isinstance(error, AssistantError):
                log.error("job %s: %s", self.name, traceback.format_exc())
            self.signals.failed.emit(user_message(error))
            return
        self.signals.done.emit(result)


class JobRunner(QObject):
    """A dedicated pool for one-off jobs, so they never queue behind Qt's own global pool users."""

    def __init__(self, parent: QObject | None = None, max_threads: int = 2) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        self.pool.setObjectName("ui-jobs")
        self._alive: set[JobSignals] = set()  # keeps signal objects alive until they have reported

    def submit(
        self,
        name: str,
        fn: Callable[[], Result],
        on_done: Callable[[Result], None] | None = None,
        on_failed: Callable[[str], None] | None = None,
    ) -> JobSignals:
        job = Job(name, fn)
        signals = job.signals
        self._alive.add(signals)
        if on_done is not None:
            signals.done.connect(on_done)
        if on_failed is not None:
            signals.failed.connect(on_failed)
        signals.done.connect(lambda _result: self._alive.discard(signals))
        signals.failed.connect(lambda _message: self._alive.discard(signals))
        self.pool.start(job)
        return signals

    def busy(self) -> int:
        return self.pool.activeThreadCount()

    def shutdown(self, timeout: float) -> bool:
        """Drop queued jobs and wait for running ones; True when the pool is idle."""
        self.pool.clear()
        return self.pool.waitForDone(int(max(0.0, timeout) * 1000))


# -- the running streams ------------------------------------------------------------------------------


class Streams(QObject):
    """The app's running streams by name ("camera", "captions", "narration", "voice-question")."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.handles: dict[str, StreamHandle] = {}

    def start(self, name: str, worker: StreamWorker) -> StreamHandle:
        handle = start_stream(worker)
        self.handles[name] = handle
        handle.ended.connect(lambda: self._on_stream_ended(name, handle))
        return handle

    def _on_stream_ended(self, name: str, handle: StreamHandle) -> None:
        if self.handles.get(name) is handle:
            del self.handles[name]

    def running(self, name: str) -> bool:
        """True while `name` runs and has not been asked to stop."""
        handle = self.handles.get(name)
        return handle is not None and not handle.stop_event.is_set()

    def request_stop(self, name: str) -> bool:
        """Ask `name` to stop; False when it was not running."""
        if not self.running(name):
            return False
        self.handles[name].request_stop()
        return True

    def stop_all(self, deadline: float) -> bool:
        """Stop every stream by `deadline` (time.monotonic()); True when all of them ended in time."""
        handles = list(self.handles.values())
        for handle in handles:
            handle.request_stop()  # all at once, so they wind down in parallel
        clean = True
        for handle in handles:
            clean &= handle.stop(max(0.05, deadline - time.monotonic()))
        return clean
