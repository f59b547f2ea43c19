"""`assistant describe`, `assistant read` and `assistant narrate` run through the real command line
(`assistant.cli.main`), with real pictures, a real video standing in for a camera, and whatever scene
model is installed (none, on a test machine: the quick-cue fallback)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from assistant.cli import main
from assistant.vision.image import Frame
from tests.helpers.video import make_scene_video


@pytest.fixture(scope="module")
def scene_video(photos: list[Frame], tmp_path_factory: pytest.TempPathFactory) -> Path:
    # The first scene lasts 5 s, the others 2.5 s: the first description also loads the quick cues' OCR
    # model, which takes seconds on a busy machine, and a description that ends after its scene is dropped.
    folder = tmp_path_factory.mktemp("cli")
    return make_scene_video(folder / "three_scenes.avi", [photos[0], *photos], seconds_each=2.5)


@pytest.mark.timing  # the video plays in real time: a description slower than a scene is dropped
def test_narrate_json_prints_one_json_object_per_scene_and_nothing_else(
    scene_video: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("assistant.vision.describe", reason="the scene describer is not built yet")
    code = main(["narrate", "--camera", str(scene_video), "--json"])
    out, err = capfd.readouterr()
    assert code == 0, err
    lines = out.splitlines()
    records = [json.loads(line) for line in lines]  # every stdout line is JSON
    assert len(records) == 3, (lines, err)
    assert all(set(record) == {"t", "text"} and record["text"] for record in records)
    times = [record["t"] for record in records]
    assert times == sorted(times) and times[-1] < 10.5
    assert "narrating video file three_scenes.avi" in err


def test_narrate_with_a_missing_camera_is_one_clear_error(capfd: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("assistant.vision.describe", reason="the scene describer is not built yet")
    code = main(["narrate", "--camera", "7", "--json"])
    out, err = capfd.readouterr()
    assert code == 2 and out == ""
    assert err.startswith("assistant: camera 7 could not be opened") and err.count("\n") == 1


def test_describe_without_a_model_falls_back_to_quick_cues_and_says_so(
    test_data: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("assistant.vision.describe", reason="the scene describer is not built yet")
    photo = test_data / "images" / "skimage_coffee.png"
    code = main(["describe", str(photo), "--json"])
    out, err = capfd.readouterr()
    assert code == 0, err
    result = json.loads(out)
    assert result["text"]
    if result["fallback"]:
        assert "quick cues" in err and "assistant models download" in err


def test_describe_takes_a_frame_from_a_video_standing_in_for_a_camera(
    scene_video: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("assistant.vision.describe", reason="the scene describer is not built yet")
    code = main(["describe", "--camera", str(scene_video)])
    out, err = capfd.readouterr()
    assert code == 0, err
    assert out.strip() and out.count("\n") == 1


def test_describe_a_missing_picture_is_one_clear_error(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    code = main(["describe", str(tmp_path / "lost.jpg")])
    out, err = capfd.readouterr()
    assert code == 2 and out == ""
    assert "lost.jpg: no such file" in err and err.count("\n") == 1


def test_read_finds_printed_text(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("assistant.vision.ocr", reason="the text reader is not built yet")
    sign = np.full((160, 520, 3), 255, np.uint8)
    cv2.putText(sign, "EXIT", (140, 110), cv2.FONT_HERSHEY_SIMPLEX, 3.0, (0, 0, 0), 8)
    cv2.imwrite(str(tmp_path / "sign.png"), sign)
    code = main(["read", str(tmp_path / "sign.png"), "--json"])
    out, err = capfd.readouterr()
    assert code == 0, err
    result = json.loads(out)
    assert result["has_text"] and "EXIT" in result["text"].upper()


def test_read_says_when_there_is_no_text(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("assistant.vision.ocr", reason="the text reader is not built yet")
    cv2.imwrite(str(tmp_path / "blank.png"), np.full((120, 160, 3), 200, np.uint8))
    code = main(["read", str(tmp_path / "blank.png")])
    out, _ = capfd.readouterr()
    assert code == 0 and out.strip() == "No text found."
