"""The thread policy, in one place.

- Continuous streams (captions, camera, narration, a spoken question): a `StreamWorker` QObject moved
  to its own QThread, wired started → run, finished → quit → deleteLater. It is stopped with a
  `threading.Event` (never a plain bool) and joined with a timeout on shutdown (`StreamHandle.stop`).
- One-off jobs (load a model, describe one frame, read one page): `JobRunner.submit(fn, ...)` runs `fn` as
  a `QRunnable` on a dedicated `QThreadPool`, and its result or `AssistantError` comes back as a signal.

Results reach the GUI thread only as queued signals; the GUI thread never calls into a worker and never
waits on one, except `stop(timeout)` at shutdown. The plain-Python helpers here (`FrameSlot`,
`LockedDescriber`, `TranscriptRecorder`) are the thread-safe hand-over points between those threads.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThread, QThreadPool, Signal, Slot

from assistant.errors import AssistantError
from assistant.speech.transcripts import TranscriptWriter
from assistant.speech.types import CaptionEvent

log = logging.getLogger("ui.workers")


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
        fn: Callable[[], Any],
        on_done: Callable[[Any], None] | None = None,
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


# -- thread-safe hand-over points ---------------------------------------------------------------------


class FrameSlot:
    """The newest camera frame, shared by the camera thread and narration (a `FrameSource` to it).

    One slot, never a backlog: a slow reader sees the scene as it is now."""

    description = "the camera"

    def __init__(self) -> None:
        from assistant.vision.frames import FrameMailbox

        self._mailbox = FrameMailbox()

    @property
    def dropped_frames(self) -> int:
        return self._mailbox.dropped

    def put(self, frame: Any) -> None:
        self._mailbox.put(frame, 0.0)

    def end(self) -> None:
        self._mailbox.end()

    def peek(self) -> Any:
        return self._mailbox.peek()

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def latest(self, timeout: float = 1.0) -> Any:
        """A frame newer than the last one handed out, or None after `timeout` (one reader: narration).
        Raises `EndOfFrames` once the camera has ended."""
        taken = self._mailbox.take(timeout)
        return None if taken is None else taken[0]


class LockedDescriber:
    """Serialises calls to one scene describer shared by narration and one-off jobs: the models are not
    thread-safe, and two at once would only halve each one's speed on a small CPU."""

    def __init__(self, describer: Any) -> None:
        self.inner = describer
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return str(getattr(self.inner, "model_name", ""))

    def describe(self, frame: Any, detail: str = "brief") -> Any:
        with self._lock:
            return self.inner.describe(frame, detail)

    def ask(self, frame: Any, question: str) -> str:
        with self._lock:
            return str(self.inner.ask(frame, question))


class TranscriptRecorder:
    """Final captions, kept in memory and, once the user asks, appended to a file as they arrive.

    Fed from the caption thread; `start(path)` runs in a job. The lock keeps the file in caption order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._finals: list[CaptionEvent] = []
        self._writer: TranscriptWriter | None = None

    @property
    def path(self) -> Path | None:
        with self._lock:
            return None if self._writer is None else self._writer.path

    def add(self, event: CaptionEvent) -> None:
        if event.kind != "final" or not event.text.strip():
            return
        with self._lock:
            self._finals.append(event)
            if self._writer is not None:
                self._writer.add(event)

    def start(self, path: str | Path) -> Path:
        """Write everything so far to `path` and keep appending; returns the path."""
        writer = TranscriptWriter(path)
        with self._lock:
            writer.open()
            for event in self._finals:
                writer.add(event)
            if self._writer is not None:
                self._writer.close()
            self._writer = writer
        return writer.path

    def close(self) -> None:
        with self._lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
