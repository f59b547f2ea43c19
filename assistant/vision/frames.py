"""Frame sources: a camera, a video file, a network stream or a still picture, behind one protocol.

Every source hands out the LATEST picture, never a backlog: a live source is read on a background
thread that keeps only the newest frame in a one-slot mailbox, so a slow consumer (a scene model that
takes two seconds) simply sees the scene as it is now. A video file played with `realtime=True` is
paced at its own frame rate on the same kind of thread, so it stands in for a camera in tests and
demos; with `realtime=False` it delivers every frame in order, which makes tests deterministic.

Live sources (cameras, stream URLs) that stop delivering are reopened with a growing back-off; the
optional `on_status` callback hears about the loss and the recovery (from the capture thread).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import numpy.typing as npt

from assistant.errors import AssistantError
from assistant.vision.image import IMAGE_SUFFIXES, Frame, load_image

log = logging.getLogger(__name__)

BgrFrame = npt.NDArray[np.uint8]
StatusCallback = Callable[[str], None]

OPEN_TIMEOUT_SECONDS = 5.0
"""How long a stream or camera may take to open or to deliver one frame before we give up."""

RECONNECT_DELAYS = (0.5, 1.0, 2.0, 4.0, 5.0)
"""Back-off between attempts to reopen a lost live source; the last value repeats."""


class FrameSourceError(AssistantError):
    """A camera, video file or stream could not be opened or read."""


class EndOfFrames(Exception):  # noqa: N818 - the end of a stream, like StopIteration: not an error
    """A finite source (a video file, a still picture) has delivered its last frame. Not an error."""


@runtime_checkable
class FrameSource(Protocol):
    """A stream of RGB frames.

    - `open()` acquires the camera, file or stream; raises `FrameSourceError` with a clear message.
    - `latest(timeout)` returns the newest frame not returned before, waiting up to `timeout` seconds
      for one; returns None if none arrived in time (a live source that is reconnecting, say), and
      raises `EndOfFrames` when a finite source is exhausted.
    - `close()` releases everything; safe to call twice and from any state.
    - `dropped_frames` counts frames replaced by a newer one before anyone took them.
    """

    description: str

    @property
    def dropped_frames(self) -> int: ...

    def open(self) -> None: ...

    def latest(self, timeout: float = 1.0) -> Frame | None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class CameraInfo:
    """A camera that opened when probed."""

    index: int
    name: str
    width: int
    height: int
    backend: str


def _cv2() -> Any:
    # Imported lazily: opencv takes a moment to load and constructors must stay cheap.
    import cv2

    return cv2


@contextlib.contextmanager
def _quiet_opencv() -> Iterator[None]:
    """Silence opencv's own log while probing devices: a missing camera prints a screenful of warnings
    that say nothing our one-line error does not."""
    cv2 = _cv2()
    logging_module = cv2.utils.logging
    previous = logging_module.getLogLevel()
    logging_module.setLogLevel(logging_module.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        logging_module.setLogLevel(previous)


def _to_rgb(bgr: BgrFrame) -> Frame:
    rgb: Frame = _cv2().cvtColor(bgr, _cv2().COLOR_BGR2RGB)
    return rgb


def _timeout_params(timeout: float) -> list[int]:
    cv2 = _cv2()
    ms = int(timeout * 1000)
    return [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms]


def _safe_url(url: str) -> str:
    """The URL without any user name or password, for messages and logs."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class FrameMailbox:
    """A one-slot box between a producer thread and one consumer: a new frame replaces the old one.

    It is also a `FrameSource` of its own, so the app's camera thread can fill one and narration read
    from it: never a backlog, a slow reader sees the scene as it is now."""

    description = "the camera"

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._frame: BgrFrame | None = None
        self._position = 0.0
        self._put_count = 0
        self._taken_count = 0
        self._ended = False
        self.dropped = 0

    @property
    def dropped_frames(self) -> int:
        return self.dropped

    def open(self) -> None:
        """Nothing to open: another thread puts the frames in."""

    def close(self) -> None:
        """Nothing to close: the thread that puts frames in ends the mailbox."""

    def latest(self, timeout: float = 1.0) -> BgrFrame | None:
        """A frame newer than the last one taken, or None after `timeout`; `EndOfFrames` once ended."""
        taken = self.take(timeout)
        return None if taken is None else taken[0]

    def put(self, frame: BgrFrame, position: float = 0.0) -> None:
        with self._condition:
            if self._frame is not None and self._put_count > self._taken_count:
                self.dropped += 1
            self._frame = frame
            self._position = position
            self._put_count += 1
            self._condition.notify_all()

    def end(self) -> None:
        with self._condition:
            self._ended = True
            self._condition.notify_all()

    def peek(self) -> BgrFrame | None:
        """The newest frame, taken or not (for a one-off look that must not disturb the consumer)."""
        with self._condition:
            return self._frame

    def take(self, timeout: float) -> tuple[BgrFrame, float] | None:
        with self._condition:
            self._condition.wait_for(lambda: self._put_count > self._taken_count or self._ended, timeout)
            if self._put_count > self._taken_count and self._frame is not None:
                self._taken_count = self._put_count
                return self._frame, self._position
            if self._ended:
                raise EndOfFrames
            return None


class _CaptureThread(threading.Thread):
    """Reads one opened `cv2.VideoCapture` into a mailbox until stopped, the file ends, or (for live
    sources) forever, reopening with back-off when the device or stream goes away."""

    def __init__(
        self,
        capture: Any,
        mailbox: FrameMailbox,
        *,
        description: str,
        reopen: Callable[[], Any] | None,
        pace_fps: float | None,
        first_index: int,
        on_status: StatusCallback | None,
    ) -> None:
        super().__init__(name=f"frames: {description}", daemon=True)
        self._capture = capture
        self._mailbox = mailbox
        self._description = description
        self._reopen = reopen
        self._pace_fps = pace_fps
        self._index = first_index
        self._on_status = on_status
        self.stop_event = threading.Event()

    def run(self) -> None:
        try:
            self._run()
        except Exception:  # a crash here would otherwise leave the consumer waiting forever
            log.exception("frames: capture thread for %s failed", self._description)
        finally:
            if self._capture is not None:
                self._capture.release()
            self._mailbox.end()

    def _run(self) -> None:
        start = time.monotonic() - (self._index / self._pace_fps if self._pace_fps else 0.0)
        while not self.stop_event.is_set():
            if self._pace_fps:
                delay = start + self._index / self._pace_fps - time.monotonic()
                if delay > 0 and self.stop_event.wait(delay):
                    return
                # Fell behind the video's own clock (busy machine): skip frames without converting
                # them, as a camera would have.
                while time.monotonic() - (start + self._index / self._pace_fps) > 1.0 / self._pace_fps:
                    if not self._capture.grab():
                        return
                    self._index += 1
            ok, bgr = self._capture.read()
            if not ok or bgr is None:
                if self._reopen is None:
                    return  # end of the file
                self._capture.release()
                self._capture = None
                self._capture = self._reconnect()
                if self._capture is None:
                    return
                continue
            position = self._index / self._pace_fps if self._pace_fps else time.monotonic() - start
            self._mailbox.put(bgr, position)
            self._index += 1

    def _reconnect(self) -> Any:
        assert self._reopen is not None
        attempt = 0
        while True:
            delay = RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)]
            self._status(f"{self._description} stopped sending pictures; trying again in {delay:g} s")
            if self.stop_event.wait(delay):
                return None
            try:
                capture = self._reopen()
            except FrameSourceError as error:
                log.info("frames: reconnect to %s failed: %s", self._description, error)
                attempt += 1
                continue
            self._status(f"{self._description} is back")
            return capture

    def _status(self, message: str) -> None:
        log.warning("frames: %s", message)
        if self._on_status is not None:
            self._on_status(message)


class _ThreadedCaptureSource:
    """Shared machinery for sources read on a capture thread (cameras, streams, real-time video)."""

    description: str

    def __init__(self) -> None:
        self._mailbox = FrameMailbox()
        self._thread: _CaptureThread | None = None
        self._position = 0.0

    @property
    def dropped_frames(self) -> int:
        return self._mailbox.dropped

    @property
    def position(self) -> float:
        """Seconds into the video (its own clock) or since opening (live), of the last frame returned."""
        return self._position

    def _start(
        self,
        capture: Any,
        first: BgrFrame,
        *,
        reopen: Callable[[], Any] | None,
        pace_fps: float | None,
        on_status: StatusCallback | None,
    ) -> None:
        self._mailbox = FrameMailbox()
        self._mailbox.put(first, 0.0)
        self._thread = _CaptureThread(
            capture,
            self._mailbox,
            description=self.description,
            reopen=reopen,
            pace_fps=pace_fps,
            first_index=1,
            on_status=on_status,
        )
        self._thread.start()

    def latest(self, timeout: float = 1.0) -> Frame | None:
        if self._thread is None:
            raise FrameSourceError(f"{self.description} is not open; call open() first.")
        taken = self._mailbox.take(timeout)
        if taken is None:
            return None
        bgr, self._position = taken
        return _to_rgb(bgr)

    def close(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        thread.stop_event.set()
        # A read blocks at most the read timeout; the thread releases the device itself if it outlives us.
        thread.join(timeout=OPEN_TIMEOUT_SECONDS + 1.0)
        if thread.is_alive():
            log.warning("frames: %s did not stop in time; it will close on its own", self.description)


CaptureFactory = Callable[[int], Any]
"""Opens camera N and returns an object with `cv2.VideoCapture`'s isOpened/read/grab/release/get."""


def _opencv_camera(index: int) -> Any:
    cv2 = _cv2()
    return cv2.VideoCapture(index, cv2.CAP_ANY, _timeout_params(OPEN_TIMEOUT_SECONDS))


def _open_camera_capture(index: int, description: str, factory: CaptureFactory) -> tuple[Any, BgrFrame]:
    with _quiet_opencv():
        capture = factory(index)
        if not capture.isOpened():
            capture.release()
            raise FrameSourceError(
                f"{description} could not be opened: it is missing, unplugged, or another program is "
                "using it. Plug it in or close the other program, or pick another camera "
                "(`assistant devices` lists them; `--camera 1` picks the second)."
            )
        ok, first = capture.read()
    if not ok or first is None:
        capture.release()
        raise FrameSourceError(
            f"{description} opened but sent no picture within {OPEN_TIMEOUT_SECONDS:g} s: another program "
            "may be using it, or its privacy shutter is closed. Close the other program and try again."
        )
    return capture, first


class CameraSource(_ThreadedCaptureSource):
    """A camera by index (0 is the first), read on a background thread that keeps only the newest frame.
    If the camera disappears after opening, the thread keeps trying to reopen it."""

    def __init__(
        self,
        index: int,
        *,
        on_status: StatusCallback | None = None,
        capture_factory: CaptureFactory = _opencv_camera,
    ) -> None:
        super().__init__()
        self.index = index
        self.description = f"camera {index}"
        self._on_status = on_status
        self._factory = capture_factory

    def open(self) -> None:
        if self._thread is not None:
            return
        capture, first = _open_camera_capture(self.index, self.description, self._factory)
        log.info("frames: opened %s (%dx%d)", self.description, first.shape[1], first.shape[0])
        self._start(
            capture,
            first,
            reopen=lambda: _open_camera_capture(self.index, self.description, self._factory)[0],
            pace_fps=None,
            on_status=self._on_status,
        )


class VideoFileSource(_ThreadedCaptureSource):
    """A video file, or a stream URL (http, https, rtsp: an IP camera or a phone used as a webcam).

    A file with `realtime=True` plays at its own frame rate on a background thread and behaves like a
    camera (older frames are skipped when the consumer is slow); with `realtime=False` `latest()` returns
    every frame in order, at whatever pace it is called. A URL is always live: read as fast as it comes,
    reopened with back-off when it drops.
    """

    def __init__(
        self,
        path: str | Path,
        realtime: bool = True,
        *,
        on_status: StatusCallback | None = None,
        timeout: float = OPEN_TIMEOUT_SECONDS,
    ) -> None:
        super().__init__()
        self.target = str(path)
        self.is_stream = "://" in self.target
        self.realtime = realtime or self.is_stream
        self.description = (
            f"stream {_safe_url(self.target)}" if self.is_stream else f"video file {Path(self.target).name}"
        )
        self.fps = 0.0
        self._on_status = on_status
        self._timeout = timeout
        self._capture: Any = None  # only used when not real-time (no thread)
        self._pending: BgrFrame | None = None
        self._index = 0

    def _open_capture(self) -> tuple[Any, BgrFrame]:
        cv2 = _cv2()
        if not self.is_stream:
            file = Path(self.target)
            if not file.is_file():
                what = "is a folder" if file.is_dir() else "does not exist"
                raise FrameSourceError(f"{self.target} {what}. Give the path of a video file.")
            if file.stat().st_size == 0:
                raise FrameSourceError(f"{self.target} is empty (0 bytes). Copy or record it again.")
        with _quiet_opencv():
            capture = cv2.VideoCapture(self.target, cv2.CAP_FFMPEG, _timeout_params(self._timeout))
            opened = capture.isOpened()
            ok, first = capture.read() if opened else (False, None)
        if not ok or first is None:
            capture.release()
            if self.is_stream:
                raise FrameSourceError(
                    f"{self.description} sent no video (refused, or nothing within {self._timeout:g} s). "
                    "Check the address, that the camera or phone app is running, and that this computer "
                    "can reach it."
                )
            problem = "has no readable frames" if opened else "is not a video we can decode"
            raise FrameSourceError(
                f"{self.target} {problem}. Check the file, or convert it with "
                "`ffmpeg -i INPUT output.mp4` and try again."
            )
        return capture, first

    def open(self) -> None:
        if self._thread is not None or self._capture is not None:
            return
        capture, first = self._open_capture()
        fps = float(capture.get(_cv2().CAP_PROP_FPS) or 0.0)
        # Some containers and most streams report no (or a nonsense) rate; 25 is the common default.
        self.fps = fps if 1.0 <= fps <= 240.0 else 25.0
        log.info("frames: opened %s (%dx%d, %.1f fps)", self.description, first.shape[1], first.shape[0], fps)
        if not self.realtime:
            self._capture = capture
            self._pending = first
            self._index = 0
            return
        self._start(
            capture,
            first,
            reopen=(lambda: self._open_capture()[0]) if self.is_stream else None,
            pace_fps=None if self.is_stream else self.fps,
            on_status=self._on_status,
        )

    def latest(self, timeout: float = 1.0) -> Frame | None:
        if self._capture is None:
            return super().latest(timeout)
        # Not real-time: every frame in order, read on the caller's thread.
        bgr = self._pending
        self._pending = None
        if bgr is None:
            ok, bgr = self._capture.read()
            if not ok or bgr is None:
                raise EndOfFrames
        self._position = self._index / self.fps
        self._index += 1
        return _to_rgb(bgr)

    def close(self) -> None:
        capture, self._capture = self._capture, None
        if capture is not None:
            capture.release()
        super().close()


class StillImageSource:
    """A picture file as a source of exactly one frame: `latest()` returns it once, then `EndOfFrames`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.description = f"picture {self.path.name}"
        self.position = 0.0
        self._frame: Frame | None = None
        self._delivered = False

    @property
    def dropped_frames(self) -> int:
        return 0

    def open(self) -> None:
        self._frame = load_image(self.path)
        self._delivered = False

    def latest(self, timeout: float = 1.0) -> Frame | None:
        if self._frame is None:
            raise FrameSourceError(f"{self.description} is not open; call open() first.")
        if self._delivered:
            raise EndOfFrames
        self._delivered = True
        return self._frame

    def close(self) -> None:
        self._frame = None


def open_frame_source(
    spec: str, *, realtime: bool = True, on_status: StatusCallback | None = None
) -> FrameSource:
    """Make (but do not open) the source a user named: a camera index ("0"), a URL, a picture or a video.

    Raises `FrameSourceError` for a path that does not exist, so a typo fails before anything opens.
    """
    spec = spec.strip()
    if spec.isdigit():
        return CameraSource(int(spec), on_status=on_status)
    if "://" in spec:
        scheme = spec.split("://", 1)[0].lower()
        if scheme not in {"http", "https", "rtsp", "rtsps", "rtmp", "udp", "tcp"}:
            raise FrameSourceError(
                f"{_safe_url(spec)}: '{scheme}' streams are not supported. Use an http:// or rtsp:// address."
            )
        return VideoFileSource(spec, realtime=True, on_status=on_status)
    path = Path(spec).expanduser()
    if not path.exists():
        raise FrameSourceError(
            f"{spec} is neither a camera number, a stream address, nor an existing file. "
            "Use 0 for the first camera, an http:// or rtsp:// address, or the path of a video or picture."
        )
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return StillImageSource(path)
    return VideoFileSource(path, realtime=realtime, on_status=on_status)


def grab_frame(source: FrameSource, *, timeout: float = OPEN_TIMEOUT_SECONDS, warmup: float = 0.0) -> Frame:
    """Open `source`, return one current frame, close it.

    `warmup` discards frames for that many seconds first: a webcam's first pictures are often dark or
    blurred while its automatic exposure and focus settle.
    """
    source.open()
    try:
        deadline = time.monotonic() + timeout + warmup
        settle_until = time.monotonic() + warmup
        frame: Frame | None = None
        while time.monotonic() < deadline:
            try:
                candidate = source.latest(timeout=max(0.0, min(0.5, deadline - time.monotonic())))
            except EndOfFrames:
                break
            if candidate is not None:
                frame = candidate
                if time.monotonic() >= settle_until:
                    break
        if frame is None:
            raise FrameSourceError(f"{source.description} sent no picture within {timeout:g} s. Try again.")
        return frame
    finally:
        source.close()


def _camera_name(index: int) -> str:
    # Linux names its cameras in sysfs; elsewhere opencv offers no name, so we number them.
    try:
        return Path(f"/sys/class/video4linux/video{index}/name").read_text().strip() or f"camera {index}"
    except OSError:
        return f"camera {index}"


def list_cameras(max_index: int = 5) -> list[CameraInfo]:
    """Probe camera indices 0..max_index quietly and return those that open."""
    cv2 = _cv2()
    found: list[CameraInfo] = []
    with _quiet_opencv():
        for index in range(max_index + 1):
            capture = cv2.VideoCapture(index, cv2.CAP_ANY, _timeout_params(2.0))
            try:
                if not capture.isOpened():
                    continue
                found.append(
                    CameraInfo(
                        index=index,
                        name=_camera_name(index),
                        width=int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
                        height=int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
                        backend=str(capture.getBackendName()),
                    )
                )
            finally:
                capture.release()
    return found
