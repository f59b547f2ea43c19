"""A camera that gets unplugged and plugged back in: stands for a `cv2.VideoCapture` on a real USB webcam,
which no test machine has (there is no virtual webcam without kernel modules).

`UnpluggableCamera` hands out `CameraCapture` objects. Each delivers a flat grey picture until the
camera is unplugged, then `read()` fails as opencv's does. While unplugged, opening fails
(`isOpened() == False`); after `plug_in()` the next open succeeds again.
"""

from __future__ import annotations

import threading

import numpy as np
import numpy.typing as npt


class CameraCapture:
    """One opened handle, with the parts of `cv2.VideoCapture` that frame sources use."""

    def __init__(self, camera: UnpluggableCamera, opened: bool) -> None:
        self._camera = camera
        self._opened = opened

    def isOpened(self) -> bool:  # noqa: N802 - opencv's name
        return self._opened

    def read(self) -> tuple[bool, npt.NDArray[np.uint8] | None]:
        if not self._opened or not self._camera.plugged.is_set():
            return False, None
        # A real camera paces its frames; 100 fps keeps the fake's thread from spinning.
        self._camera.frame_pause.wait(0.01)
        return True, np.full((48, 64, 3), 128, np.uint8)

    def grab(self) -> bool:
        return self.read()[0]

    def get(self, prop: int) -> float:
        return 0.0

    def release(self) -> None:
        self._opened = False


class UnpluggableCamera:
    """A capture factory (`index -> capture`) whose camera can be unplugged and plugged in."""

    def __init__(self) -> None:
        self.plugged = threading.Event()
        self.plugged.set()
        self.frame_pause = threading.Event()  # never set: only used as an interruptible pause
        self.opens = 0

    def __call__(self, index: int) -> CameraCapture:
        self.opens += 1
        return CameraCapture(self, opened=self.plugged.is_set())

    def unplug(self) -> None:
        self.plugged.clear()

    def plug_in(self) -> None:
        self.plugged.set()
