"""Pictures and frame sources: loading photos, playing video files like a camera, and failing clearly on
missing cameras, dead stream addresses and broken files.

Videos are made from the evaluation photos (`tests.helpers.video`): a video file is the only camera this
machine has.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from assistant.vision.frames import (
    CameraSource,
    EndOfFrames,
    FrameSource,
    FrameSourceError,
    StillImageSource,
    VideoFileSource,
    grab_frame,
    list_cameras,
    open_frame_source,
)
from assistant.vision.image import Frame, ImageError, load_image
from tests.helpers.polling import poll_until
from tests.helpers.video import make_scene_video


@pytest.fixture(scope="module")
def scene_video(photos: list[Frame], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_scene_video(tmp_path_factory.mktemp("video") / "scenes.avi", photos)


# --- load_image ---------------------------------------------------------------------------------------


def test_photo_loads_as_rgb_uint8(test_data: Path) -> None:
    frame = load_image(test_data / "images" / "skimage_chelsea.png")
    assert frame.dtype == np.uint8 and frame.shape == (300, 451, 3)


def test_exif_orientation_turns_the_picture_upright(tmp_path: Path) -> None:
    wide = Image.new("RGB", (40, 20), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display": the phone was held upright
    wide.save(tmp_path / "phone.jpg", exif=exif)
    assert load_image(tmp_path / "phone.jpg").shape == (40, 20, 3)


@pytest.mark.parametrize("mode", ["RGBA", "L", "P", "I;16"])
def test_transparent_grey_and_palette_pictures_become_rgb(tmp_path: Path, mode: str) -> None:
    Image.new(mode, (8, 6)).save(tmp_path / "odd.png")
    frame = load_image(tmp_path / "odd.png")
    assert frame.shape == (6, 8, 3) and frame.dtype == np.uint8


def test_truncated_picture_is_reported_as_damaged(test_data: Path, tmp_path: Path) -> None:
    data = (test_data / "images" / "skimage_coffee.png").read_bytes()
    broken = tmp_path / "broken.png"
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match=r"broken\.png is damaged"):
        load_image(broken)


def test_empty_file_is_reported_as_empty(tmp_path: Path) -> None:
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(ImageError, match=r"empty\.jpg is empty"):
        load_image(tmp_path / "empty.jpg")


def test_text_file_named_png_is_not_a_picture(tmp_path: Path) -> None:
    (tmp_path / "notes.png").write_text("shopping list: milk, eggs\n")
    with pytest.raises(ImageError, match=r"notes\.png is not a picture format"):
        load_image(tmp_path / "notes.png")


def test_missing_picture_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=r"nowhere\.png: no such file"):
        load_image(tmp_path / "nowhere.png")


# --- video files ---------------------------------------------------------------------------------------


def test_video_file_not_realtime_delivers_every_frame_in_order(scene_video: Path) -> None:
    source = VideoFileSource(scene_video, realtime=False)
    assert isinstance(source, FrameSource)
    source.open()
    positions = []
    try:
        while True:
            frame = source.latest()
            assert frame is not None and frame.shape == (120, 160, 3)
            positions.append(source.position)
    except EndOfFrames:
        pass
    finally:
        source.close()
    assert len(positions) == 60
    assert positions == sorted(positions) and positions[-1] == pytest.approx(5.9)


@pytest.mark.timing
def test_realtime_video_gives_a_slow_consumer_the_latest_frame_not_a_backlog(scene_video: Path) -> None:
    source = VideoFileSource(scene_video, realtime=True)
    source.open()
    started = time.monotonic()
    lags = []
    try:
        for _ in range(5):
            time.sleep(0.4)  # a slow consumer: a scene model busy with the previous frame
            frame = source.latest(timeout=1.0)
            assert frame is not None
            lags.append((time.monotonic() - started) - source.position)
    finally:
        source.close()
    # Each frame is from "now" on the video's clock (within a few frame periods), never seconds behind.
    assert max(lags) < 0.35, lags
    assert source.dropped_frames >= 10


def test_realtime_video_ends_with_end_of_frames(photos: list[Frame], tmp_path: Path) -> None:
    short = make_scene_video(tmp_path / "short.avi", photos[:1], seconds_each=0.5)
    source = VideoFileSource(short, realtime=True)
    source.open()
    started = time.monotonic()
    with pytest.raises(EndOfFrames):
        while time.monotonic() - started < 5.0:
            source.latest(timeout=1.0)
    source.close()
    source.close()  # twice is fine


def test_unreadable_video_file_fails_with_one_clear_message(tmp_path: Path) -> None:
    fake = tmp_path / "holiday.avi"
    fake.write_text("not a video at all")
    with pytest.raises(FrameSourceError, match=r"holiday\.avi is not a video we can decode"):
        VideoFileSource(fake).open()
    with pytest.raises(FrameSourceError, match="does not exist"):
        VideoFileSource(tmp_path / "gone.mp4").open()


def test_grab_frame_takes_one_frame_from_a_video(scene_video: Path) -> None:
    frame = grab_frame(open_frame_source(str(scene_video)))
    assert frame.shape == (120, 160, 3)


# --- cameras, streams, dispatch ----------------------------------------------------------------------------


@pytest.mark.timing
def test_missing_camera_fails_at_once_with_one_clear_message(capfd: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    with pytest.raises(FrameSourceError, match="camera 7 could not be opened: it is missing, unplugged"):
        CameraSource(7).open()
    assert time.monotonic() - started < 2.0
    assert "WARN" not in capfd.readouterr().err  # opencv's own warnings are silenced


@pytest.mark.timing
def test_stream_that_does_not_answer_fails_fast() -> None:
    started = time.monotonic()
    with pytest.raises(FrameSourceError, match=r"stream http://127\.0\.0\.1:9/stream\.mjpg sent no video"):
        open_frame_source("http://127.0.0.1:9/stream.mjpg").open()
    assert time.monotonic() - started < 5.0


def test_stream_password_never_appears_in_messages() -> None:
    source = open_frame_source("rtsp://admin:hunter2@192.0.2.1:554/live")
    assert "hunter2" not in source.description and "192.0.2.1:554" in source.description


def test_sources_are_chosen_from_what_the_user_typed(scene_video: Path, test_data: Path) -> None:
    assert isinstance(open_frame_source("0"), CameraSource)
    assert isinstance(open_frame_source("http://192.0.2.1/video"), VideoFileSource)
    assert isinstance(open_frame_source(str(scene_video)), VideoFileSource)
    assert isinstance(
        open_frame_source(str(test_data / "images" / "skimage_chelsea.png")),
        StillImageSource,
    )
    with pytest.raises(FrameSourceError, match="neither a camera number"):
        open_frame_source("no-such-video.mp4")


def test_still_picture_is_one_frame_then_the_end(test_data: Path) -> None:
    source = StillImageSource(test_data / "images" / "skimage_coffee.png")
    source.open()
    frame = source.latest()
    assert frame is not None and frame.shape == (400, 600, 3)
    with pytest.raises(EndOfFrames):
        source.latest()


def test_listing_cameras_on_a_machine_without_any_is_empty_and_quiet(
    capfd: pytest.CaptureFixture[str],
) -> None:
    if list(Path("/dev").glob("video*")):
        pytest.skip("this machine has a camera device")
    assert list_cameras(max_index=2) == []
    assert capfd.readouterr().err == ""


def test_unplugged_camera_is_reopened_with_back_off_and_reports_status() -> None:
    from tests.fakes.unplugged_camera import UnpluggableCamera

    camera = UnpluggableCamera()
    statuses: list[str] = []
    came_back = threading.Event()

    def on_status(message: str) -> None:
        statuses.append(message)
        if message.endswith("is back"):
            came_back.set()

    source = CameraSource(0, on_status=on_status, capture_factory=camera)
    source.open()
    try:
        assert source.latest(timeout=1.0) is not None
        camera.unplug()
        poll_until(lambda: camera.opens >= 2, 3.0, "second try to open the unplugged camera", interval=0.05)
        source.latest(timeout=0.0)  # the last picture taken before the cable came out
        assert source.latest(timeout=0.1) is None
        camera.plug_in()
        assert came_back.wait(timeout=6.0), statuses
        assert source.latest(timeout=1.0) is not None
    finally:
        source.close()
    assert statuses[0] == "camera 0 stopped sending pictures; trying again in 0.5 s"
    assert "trying again in 1 s" in statuses[1]

