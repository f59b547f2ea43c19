"""Continuous narration: one description per scene, silence while nothing changes or the camera moves,
and a slow describer that never makes the narration fall behind.

The videos are real MJPG files made from the evaluation photos. Replays use the video's own clock
(`realtime=False`, `clock=source.position`), so they are exact and take a fraction of a second; one test
plays a video in real time with a slow describer to check that nothing queues up.
"""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from assistant.vision.frames import VideoFileSource
from assistant.vision.image import Frame
from assistant.vision.narrator import (
    NarrationEvent,
    NarrationSettings,
    Narrator,
    layout_distance,
    run_narration,
    scene_distance,
    scene_signature,
)
from tests.helpers.video import make_pan_video, make_scene_video

SETTINGS = NarrationSettings()


def narrate_file(video: Path, settings: NarrationSettings = SETTINGS) -> list[NarrationEvent]:
    """Replay a video on its own clock; the describer names the moment it was asked about."""
    source = VideoFileSource(video, realtime=False)
    source.open()
    events: list[NarrationEvent] = []
    try:
        run_narration(
            source,
            lambda frame: f"scene at {source.position:.1f} s",
            events.append,
            threading.Event(),
            clock=lambda: source.position,
            narrator=Narrator(settings),
        )
    finally:
        source.close()
    return events


# --- the scene signature, on real photos -----------------------------------------------------------------


def _jpeg(frame: Frame, quality: int = 40) -> Frame:
    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(buffer).convert("RGB"))


def _shift(frame: Frame, fraction: float) -> Frame:
    height, width = frame.shape[:2]
    return cv2.resize(frame[:, round(width * fraction) :], (width, height))


def test_same_scene_retaken_stays_under_the_change_threshold_and_other_scenes_exceed_it(
    photos: list[Frame],
) -> None:
    rng = np.random.default_rng(0)
    for photo in photos:
        original = scene_signature(photo)
        retakes = {
            "noise": np.clip(photo + rng.normal(0, 8, photo.shape), 0, 255).astype(np.uint8),
            "jpeg": _jpeg(photo),
            "brighter": np.clip(photo * 1.3, 0, 255).astype(np.uint8),
            "darker": (photo * 0.7).astype(np.uint8),
            "nudged 15 %": _shift(photo, 0.15),
        }
        for name, retake in retakes.items():
            distance = scene_distance(original, scene_signature(retake))
            assert distance < 0.35 < SETTINGS.change_threshold, (name, distance)
    for i, first in enumerate(photos):
        for second in photos[i + 1 :]:
            other = cv2.resize(second, (first.shape[1], first.shape[0]))
            assert scene_distance(scene_signature(first), scene_signature(other)) > 0.65


def test_camera_movement_exceeds_the_motion_threshold_and_sensor_noise_does_not(photos: list[Frame]) -> None:
    rng = np.random.default_rng(1)
    for photo in photos:
        still = scene_signature(photo)
        noisy = np.clip(photo + rng.normal(0, 8, photo.shape), 0, 255).astype(np.uint8)
        assert layout_distance(still, scene_signature(noisy)) < 0.05
        assert layout_distance(still, scene_signature(_shift(photo, 0.05))) > SETTINGS.motion_threshold


# --- the narrator on a fake clock ---------------------------------------------------------------------------


def test_narrator_waits_for_stability_then_speaks_once_and_the_next_scene_interrupts(
    photos: list[Frame],
) -> None:
    narrator = Narrator(NarrationSettings(stable_seconds=1.0, min_gap_seconds=0.0))
    cat, coffee = photos[1], photos[2]
    decisions = [(t, narrator.observe(cat, t)) for t in np.arange(0.0, 3.0, 0.1)]
    spoken = [(t, d) for t, d in decisions if d is not None]
    assert len(spoken) == 1 and spoken[0][0] == pytest.approx(1.0)
    assert spoken[0][1] is not None and spoken[0][1].reason == "first scene" and not spoken[0][1].interrupt
    later = [narrator.observe(coffee, t) for t in np.arange(3.0, 5.0, 0.1)]
    assert [d.reason for d in later if d is not None] == ["scene changed"]
    assert next(d for d in later if d is not None).interrupt


def test_min_gap_holds_back_a_quick_second_scene_until_it_has_passed(photos: list[Frame]) -> None:
    narrator = Narrator(NarrationSettings(stable_seconds=0.5, min_gap_seconds=3.0))
    times = []
    for t in np.arange(0.0, 6.0, 0.1):
        photo = photos[0] if t < 1.0 else photos[1]
        if narrator.observe(photo, float(t)) is not None:
            times.append(round(float(t), 1))
    assert times == [0.5, 3.5]  # the cat was stable from 1.5 s but had to wait for the gap


def test_description_that_went_stale_is_forgotten_and_the_scene_described_again(photos: list[Frame]) -> None:
    narrator = Narrator(NarrationSettings(stable_seconds=0.0, min_gap_seconds=0.0))
    assert narrator.observe(photos[0], 0.0) is not None
    assert narrator.is_stale(photos[1]) and not narrator.is_stale(photos[0])
    narrator.forget_last()
    assert narrator.observe(photos[0], 0.1) is not None  # the same scene, since nothing was spoken


def test_a_single_still_picture_is_described_when_the_stream_ends(photos: list[Frame]) -> None:
    narrator = Narrator()
    assert narrator.observe(photos[2], 0.0) is None
    final = narrator.finish(0.0)
    assert final is not None and final.reason == "last scene"
    assert narrator.finish(0.0) is None


# --- narration over real videos ---------------------------------------------------------------------------


def test_exactly_one_description_per_scene(photos: list[Frame], tmp_path: Path) -> None:
    video = make_scene_video(tmp_path / "three_scenes.avi", photos, seconds_each=4.0)
    events = narrate_file(video)
    # Each scene is described once, as soon as it has been still for a second.
    assert [e.t for e in events] == pytest.approx([1.0, 5.0, 9.0])
    assert [e.reason for e in events] == ["first scene", "scene changed", "scene changed"]
    assert [e.interrupt for e in events] == [False, True, True]


def test_nothing_is_said_while_nothing_changes(photos: list[Frame], tmp_path: Path) -> None:
    video = make_scene_video(tmp_path / "one_scene.avi", photos[:1], seconds_each=10.0)
    assert len(narrate_file(video)) == 1


def test_returning_to_an_earlier_scene_describes_it_again(photos: list[Frame], tmp_path: Path) -> None:
    video = make_scene_video(tmp_path / "back.avi", [photos[0], photos[1], photos[0]], seconds_each=4.0)
    assert len(narrate_file(video)) == 3


def test_no_description_while_the_camera_pans_only_after_it_settles(
    photos: list[Frame], tmp_path: Path
) -> None:
    video = make_pan_video(tmp_path / "pan.avi", photos, step=5, settle_seconds=3.0)
    frames = int(cv2.VideoCapture(str(video)).get(cv2.CAP_PROP_FRAME_COUNT))
    pan_ends = (frames - 30) / 10.0
    events = narrate_file(video)
    assert len(events) == 1, [(e.t, e.reason) for e in events]
    assert events[0].t >= pan_ends + SETTINGS.stable_seconds - 0.15


def test_video_ending_mid_pan_stays_silent(photos: list[Frame], tmp_path: Path) -> None:
    video = make_pan_video(tmp_path / "pan_only.avi", photos, step=5, settle_seconds=0.0)
    assert narrate_file(video) == []


@pytest.mark.timing
def test_slow_describer_on_a_realtime_video_never_builds_a_queue(photos: list[Frame], tmp_path: Path) -> None:
    video = make_scene_video(tmp_path / "realtime.avi", photos, seconds_each=2.0)
    source = VideoFileSource(video, realtime=True)
    calls: list[float] = []
    started = time.monotonic()

    def slow_describe(frame: Frame) -> str:
        calls.append(time.monotonic() - started)
        time.sleep(0.4)  # stands for a scene model taking 0.4 s a frame
        return f"description {len(calls)}"

    events: list[NarrationEvent] = []
    source.open()
    try:
        run_narration(
            source,
            slow_describe,
            events.append,
            threading.Event(),
            clock=lambda: time.monotonic() - started,
            narrator=Narrator(NarrationSettings(stable_seconds=0.5, min_gap_seconds=0.5)),
        )
    finally:
        source.close()
    elapsed = time.monotonic() - started
    assert len(calls) == 3 and len(events) == 3
    assert elapsed < 6.0 + 1.5  # the 6 s video, plus at most the last description: no backlog
    assert source.dropped_frames > 0


@pytest.mark.timing
def test_stop_event_ends_narration_promptly(photos: list[Frame], tmp_path: Path) -> None:
    video = make_scene_video(tmp_path / "long.avi", photos[:1], seconds_each=30.0)
    source = VideoFileSource(video, realtime=True)
    stop = threading.Event()
    source.open()
    timer = threading.Timer(0.3, stop.set)
    timer.start()
    started = time.monotonic()
    try:
        run_narration(source, lambda frame: "x", lambda event: None, stop, poll_seconds=0.2)
    finally:
        source.close()
        timer.cancel()
    assert time.monotonic() - started < 1.5
