"""`assistant find`: one JSON object per event on a generated video as the camera, through a tiny random
SigLIP in the models folder, and one clear message for each bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.cli import main
from tests.helpers.tiny_clip import build_siglip
from tests.helpers.video import make_scene_video


@pytest.fixture
def models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ASSISTANT_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    return tmp_path / "models"


def _video(path: Path) -> Path:
    rng = np.random.default_rng(3)
    table = np.full((120, 160, 3), (150, 110, 70), dtype=np.uint8)
    keys = table.copy()
    keys[50:80, 20:60] = rng.integers(150, 255, (30, 40, 3), dtype=np.uint8)
    return make_scene_video(path, [table, keys], seconds_each=1.5)


def test_find_json_prints_one_object_per_event_with_score_events_throttled(
    models_dir: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    build_siglip(models_dir / "siglip-base")
    code = main(["find", "my keys", "--camera", str(_video(tmp_path / "keys.avi")), "--json"])
    out, err = capfd.readouterr()
    assert code == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    assert events, err
    for event in events:
        assert event.keys() == {"type", "query", "where", "score", "t"}
        assert event["type"] in {"found", "lost", "score"} and event["query"] == "keys"
        assert 0.0 <= event["score"] <= 1.0
    score_times = [event["t"] for event in events if event["type"] == "score"]
    assert len(score_times) >= 2
    assert all(later - earlier >= 0.49 for earlier, later in zip(score_times, score_times[1:], strict=False))
    assert "looking for keys" in err


def test_find_with_an_empty_query_says_what_to_type(capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["find", "  ", "--camera", "0"]) == 2
    assert 'assistant find "my keys"' in capfd.readouterr().err


def test_find_without_a_camera_is_one_clear_error(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["find", "keys", "--camera", str(tmp_path / "nothing.avi")]) == 2
    err = capfd.readouterr().err
    assert "neither a camera number" in err and "Traceback" not in err
    assert main(["find", "keys", "--camera", ""]) == 2
    assert "No camera given" in capfd.readouterr().err


def test_find_without_the_model_names_the_download_command(
    models_dir: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    video = make_scene_video(
        tmp_path / "plain.avi", [np.zeros((120, 160, 3), dtype=np.uint8)], seconds_each=0.5
    )
    assert main(["find", "keys", "--camera", str(video)]) == 2
    err = capfd.readouterr().err
    assert err.count("assistant models download siglip-base") == 1


def test_describe_json_carries_the_scene_when_the_finder_model_is_installed(
    models_dir: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    import cv2

    build_siglip(models_dir / "siglip-base")
    photo = tmp_path / "room.png"
    cv2.imwrite(str(photo), np.full((120, 160, 3), 90, dtype=np.uint8))
    assert main(["describe", str(photo), "--json"]) == 0
    data = json.loads(capfd.readouterr().out)
    assert isinstance(data["scene"], str) and data["scene"]
