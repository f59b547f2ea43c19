"""Continuous narration: decide WHEN a scene is worth describing, then describe only the latest frame.

`Narrator` is a pure object in the spirit of the streaming recognizer: feed it frames with their times
(`observe(frame, t)`) and it answers with a `NarrationDecision` at the moments a description is due:

- the camera has been still for `stable_seconds` (consecutive frames, and the drift since the stillness
  began, stay under `motion_threshold`), so nothing is said while someone pans around;
- the scene differs from the last one described by at least `change_threshold`, so the same scene is
  never described twice and a small nudge of the camera does not count as a new scene;
- at least `min_gap_seconds` have passed since the last description, so it never chatters.

Scenes are compared by a cheap signature: a 32x24 greyscale thumbnail normalised for brightness (the
layout; it moves when the camera moves) and a hue/saturation histogram (the colours; it barely moves
when the camera shifts or the exposure changes). On the evaluation photos: the same photo with noise,
JPEG artefacts or +-30 % brightness scores <= 0.06; shifted by 15 % of its width <= 0.29, by 30 % <= 0.39;
two different photos >= 0.71. Motion uses the thumbnail alone: noise scores ~0.01, a 2 % shift 0.10-0.15,
a 5 % shift 0.23-0.34.

`run_narration` wraps the narrator in a loop over a `FrameSource`: it asks for the latest frame, calls
the describer only when the narrator says so, and drops a description that went stale while a slow
model was working. Nothing queues up: while the describer runs, the source keeps only its newest frame.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from assistant.vision.frames import EndOfFrames, FrameSource
from assistant.vision.image import Frame

log = logging.getLogger(__name__)

_THUMB_SIZE = (32, 24)  # (width, height): enough layout to see a camera move, cheap on any frame size
_HIST_SIZE = (64, 48)
_HUE_BINS = 12
_SATURATION_BINS = 4
# E|X - Y| for independent standard normal X, Y is 2/sqrt(pi): the layout distance of unrelated scenes.
_UNRELATED_LAYOUT = 2.0 / float(np.sqrt(np.pi))


@dataclass(frozen=True)
class NarrationSettings:
    """When narration speaks. Distances are in [0, 1]; see the module docstring for measured values."""

    change_threshold: float = 0.5
    """How different (scene distance) from the last described scene a stable view must be to be new."""
    motion_threshold: float = 0.2
    """Layout distance between frames (or since the view settled) above which the camera is moving."""
    stable_seconds: float = 1.0
    """How long the view must stay still before it is described."""
    min_gap_seconds: float = 2.0
    """The least time between two descriptions."""


@dataclass(frozen=True)
class SceneSignature:
    """A compact fingerprint of a frame: normalised greyscale layout plus a hue/saturation histogram."""

    layout: npt.NDArray[np.float32]
    colours: npt.NDArray[np.float32]


def scene_signature(frame: Frame) -> SceneSignature:
    """Fingerprint a frame: about 6 ms for 1280x720 on one busy core, mostly the two downscales."""
    import cv2

    thumb = cv2.resize(frame, _THUMB_SIZE, interpolation=cv2.INTER_AREA).astype(np.float32)
    grey = thumb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    # Normalising mean and contrast makes auto-exposure changes invisible; the +8 keeps a flat
    # (black, blank) view from amplifying sensor noise into "motion".
    layout = ((grey - grey.mean()) / (grey.std() + 8.0)).astype(np.float32)
    small = cv2.resize(frame, _HIST_SIZE, interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0, 1], None, [_HUE_BINS, _SATURATION_BINS], [0, 180, 0, 256]).ravel()
    colours = (hist / max(float(hist.sum()), 1.0)).astype(np.float32)
    return SceneSignature(layout=layout, colours=colours)


def layout_distance(a: SceneSignature, b: SceneSignature) -> float:
    """0 for the same view, about 1 for unrelated views; sensitive to camera movement."""
    return min(1.0, float(np.mean(np.abs(a.layout - b.layout))) / _UNRELATED_LAYOUT)


def scene_distance(a: SceneSignature, b: SceneSignature) -> float:
    """0 for the same scene, about 0.7+ for different scenes; tolerant of small shifts and exposure."""
    colour = 0.5 * float(np.abs(a.colours - b.colours).sum())
    return 0.5 * (layout_distance(a, b) + colour)


@dataclass(frozen=True)
class NarrationDecision:
    """Describe this frame now."""

    frame: Frame
    t: float
    reason: str
    """"first scene", "scene changed" or "last scene" (the stream ended on a still, undescribed view)."""
    change: float
    """Scene distance from the previous description (1.0 when there was none)."""
    interrupt: bool
    """True when an earlier description exists: whatever is left of it is about a scene now gone."""


class Narrator:
    """Decides, frame by frame, when the scene deserves a description. Pure: no threads, no clock."""

    def __init__(self, settings: NarrationSettings | None = None) -> None:
        self.settings = settings or NarrationSettings()
        self.reset()

    def reset(self) -> None:
        self._previous: SceneSignature | None = None
        self._anchor: SceneSignature | None = None
        self._stable_since = 0.0
        self._moving = False
        self._last_frame: Frame | None = None
        self._last_signature: SceneSignature | None = None
        self._described: SceneSignature | None = None
        self._described_at: float | None = None
        self._descriptions = 0

    @property
    def moving(self) -> bool:
        """Whether the last frame observed showed the camera (or the scene) moving."""
        return self._moving

    def observe(self, frame: Frame, t: float) -> NarrationDecision | None:
        """Take the next frame (seen at time `t`, seconds, any origin) and say whether to describe it."""
        signature = scene_signature(frame)
        if self._previous is None or self._anchor is None:
            self._anchor = signature
            self._stable_since = t
            self._moving = False
        else:
            step = layout_distance(self._previous, signature)
            drift = layout_distance(self._anchor, signature)
            self._moving = max(step, drift) > self.settings.motion_threshold
            if self._moving:
                self._anchor = signature
                self._stable_since = t
        self._previous = signature
        self._last_frame = frame
        self._last_signature = signature
        if t - self._stable_since < self.settings.stable_seconds:
            return None
        if self._described_at is not None and t - self._described_at < self.settings.min_gap_seconds:
            return None
        return self._decide_if_new(frame, signature, t, "scene changed")

    def finish(self, t: float) -> NarrationDecision | None:
        """The stream ended: describe the last view if it was still and never described (a single
        picture, a clip too short to settle); stay silent if it ended mid-movement."""
        if self._last_frame is None or self._last_signature is None or self._moving:
            return None
        return self._decide_if_new(self._last_frame, self._last_signature, t, "last scene")

    def is_stale(self, frame: Frame) -> bool:
        """Whether `frame` shows a different scene from the one last decided on (used to drop a
        description that a slow model finished after the camera had moved on)."""
        if self._described is None:
            return False
        return scene_distance(self._described, scene_signature(frame)) >= self.settings.change_threshold

    def forget_last(self) -> None:
        """The last decision was never spoken (it went stale): describe the next stable scene afresh."""
        self._described = None
        self._described_at = None

    def _decide_if_new(
        self, frame: Frame, signature: SceneSignature, t: float, reason: str
    ) -> NarrationDecision | None:
        change = 1.0 if self._described is None else scene_distance(self._described, signature)
        if self._described is not None and change < self.settings.change_threshold:
            return None
        interrupt = self._descriptions > 0
        if self._descriptions == 0 and reason == "scene changed":
            reason = "first scene"
        self._described = signature
        self._described_at = t
        self._descriptions += 1
        return NarrationDecision(frame=frame, t=t, reason=reason, change=change, interrupt=interrupt)


@dataclass(frozen=True)
class NarrationEvent:
    """A description to speak or show."""

    t: float
    text: str
    reason: str
    interrupt: bool


def run_narration(
    source: FrameSource,
    describe: Callable[[Frame], str],
    on_description: Callable[[NarrationEvent], None],
    stop_event: threading.Event,
    clock: Callable[[], float] = time.monotonic,
    *,
    narrator: Narrator | None = None,
    poll_seconds: float = 0.5,
) -> int:
    """Narrate `source` (already open) until `stop_event` is set or the source ends; return how many
    descriptions were delivered.

    `describe` turns one frame into a sentence (a scene model, or quick cues); it is called only for the
    frame the narrator picked, which is always the latest one. `clock` gives the time of each frame:
    wall time for live sources, or a video's own position to replay a file faster than real time.
    """
    narrator = narrator or Narrator()
    delivered = 0

    def deliver(decision: NarrationDecision, text: str) -> None:
        nonlocal delivered
        text = text.strip()
        if not text:
            return
        delivered += 1
        on_description(
            NarrationEvent(t=decision.t, text=text, reason=decision.reason, interrupt=decision.interrupt)
        )

    while not stop_event.is_set():
        try:
            frame = source.latest(timeout=poll_seconds)
        except EndOfFrames:
            final = narrator.finish(clock())
            if final is not None:
                deliver(final, describe(final.frame))
            break
        if frame is None:
            continue
        decision = narrator.observe(frame, clock())
        if decision is None:
            continue
        text = describe(decision.frame)
        if stop_event.is_set():
            break
        # The describer may have taken seconds; if the view changed meanwhile the text is stale.
        try:
            newest = source.latest(timeout=0.0)
        except EndOfFrames:
            deliver(decision, text)
            break
        if newest is not None and narrator.is_stale(newest):
            log.info("narrator: scene changed while describing; dropped the stale description")
            narrator.forget_last()
        else:
            deliver(decision, text)
        if newest is not None:
            follow_up = narrator.observe(newest, clock())
            if follow_up is not None:
                deliver(follow_up, describe(follow_up.frame))
    return delivered
