"""Videos made from photos with `cv2.VideoWriter`: a video file is the only camera this machine has.

`write_video` is the one writer (MJPG .avi, a little sensor-like noise so no two frames are identical);
`make_scene_video` (a still camera pointed at each photo in turn) and `make_pan_video` (a camera sweeping
across the photos) feed it. Frames are generated one at a time, so a long 640x480 camera video for the
app or a benchmark never sits in memory whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np

from assistant.vision.image import Frame

VIDEO_SIZE = (160, 120)  # (width, height): small frames keep encoding and decoding cheap on a shared machine
FPS = 10.0


def write_video(
    path: Path,
    frames: Iterable[Frame],
    size: tuple[int, int] = VIDEO_SIZE,
    fps: float = FPS,
    noise: float = 3.0,
    seed: int = 7,
) -> Path:
    """Write RGB uint8 frames of `size` (width, height) as an MJPG .avi, adding Gaussian noise of
    standard deviation `noise` (in 0-255 units) to each."""
    rng = np.random.default_rng(seed)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, size)
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {path}")
    try:
        for frame in frames:
            if (frame.shape[1], frame.shape[0]) != size:
                raise ValueError(f"frame of {frame.shape[1]}x{frame.shape[0]} in a {size[0]}x{size[1]} video")
            noisy = rng.standard_normal(frame.shape, dtype=np.float32)  # float32: half the cost of float64
            noisy *= noise
            noisy += frame
            writer.write(cv2.cvtColor(np.clip(noisy, 0, 255, out=noisy).astype(np.uint8), cv2.COLOR_RGB2BGR))
    finally:
        writer.release()
    return path


def _resized(photo: Frame, size: tuple[int, int]) -> Frame:
    """`photo` at `size` (width, height), averaged over the pixels it shrinks, as uint8 RGB."""
    return np.asarray(cv2.resize(photo, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def make_scene_video(
    path: Path,
    photos: Sequence[Frame],
    seconds_each: float = 2.0,
    size: tuple[int, int] = VIDEO_SIZE,
    fps: float = FPS,
) -> Path:
    """A still camera pointed at each photo in turn for `seconds_each`, cutting straight to the next."""

    def frames() -> Iterator[Frame]:
        for photo in photos:
            still = _resized(photo, size)
            for _ in range(round(seconds_each * fps)):
                yield still

    return write_video(path, frames(), size, fps)


def make_pan_video(
    path: Path,
    photos: Sequence[Frame],
    step: int = 5,
    settle_seconds: float = 2.0,
    size: tuple[int, int] = VIDEO_SIZE,
    fps: float = FPS,
) -> Path:
    """A camera sweeping across the photos laid side by side, `step` pixels a frame, then holding still
    on the last view for `settle_seconds`."""
    width, height = size
    strips = [_resized(p, (round(p.shape[1] * height / p.shape[0]), height)) for p in photos]
    panorama = np.concatenate(strips, axis=1)
    views = [panorama[:, x : x + width] for x in range(0, panorama.shape[1] - width + 1, step)]
    views.extend([views[-1]] * round(settle_seconds * fps))
    return write_video(path, views, size, fps)
