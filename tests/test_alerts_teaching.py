"""Teaching a sound in the window: the "Teach a sound…" command records examples from the audio source
(here a file holding a doorbell chime, played in real time like a microphone), off the GUI thread, and
saves them under the typed name; the sound is then recognised. Bad names and silent recordings get one
clear message. `record_example` on its own reads a captions tap (the shared capture)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.audio.source import SAMPLE_RATE
from assistant.audio.tap import AudioTap
from assistant.errors import EndOfAudio
from assistant.session import Overrides
from assistant.sounds.spectrum import Spectrogram
from assistant.sounds.taught import SoundLibrary, TaughtSoundError, TaughtSoundMatcher, record_example
from tests.helpers.alert_mix import chime
from tests.helpers.speech import write_wav
from ui.command_table import COMMANDS
from ui.controller import AppController
from ui.settings import Settings

RECORDING_MS = 15_000  # a 3 s recording, paced in real time, on a loaded machine


@pytest.fixture
def library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SoundLibrary:
    folder = tmp_path / "sounds"
    monkeypatch.setenv("ASSISTANT_SOUNDS_DIR", str(folder))
    return SoundLibrary(folder)


def _app(settings: Settings, audio: Path) -> AppController:
    app = AppController(settings, Overrides(captions_at_start=False, audio=str(audio)))
    app.start(load_models=False)
    app.window.show()
    return app


def _doorbell_file(tmp_path: Path) -> Path:
    rng = np.random.default_rng(21)
    quiet = np.zeros(int(0.3 * SAMPLE_RATE), np.float32)
    ring_out = np.zeros(SAMPLE_RATE, np.float32)  # 3.35 s in all: a recording ends before the file
    return write_wav(tmp_path / "doorbell.wav", np.concatenate([quiet, chime(rng), ring_out]))


def _heard(name: str, library: SoundLibrary, audio: np.ndarray) -> bool:
    matcher = TaughtSoundMatcher([library.get(name)])
    events = matcher.process_frames(Spectrogram().push(audio)) + matcher.finish()
    return any(event.sound == name and event.kind == "alert" for event in events)


def test_the_teach_command_records_two_examples_off_the_gui_thread_and_the_sound_is_recognised(
    qtbot: Any, settings: Settings, library: SoundLibrary, tmp_path: Path
) -> None:
    assert any(item.id == "teach_sound" and item.shortcut == "Ctrl+Shift+Y" for item in COMMANDS)
    app = _app(settings, _doorbell_file(tmp_path))
    try:
        app.actions.actions["teach_sound"].trigger()
        teacher = app.alerts.teacher
        dialog = teacher.dialog
        assert dialog is not None and dialog.isVisible()
        assert dialog.name_edit.accessibleName() == "Name of the sound"
        dialog.name_edit.setText("front door")
        for count in (1, 2):
            dialog.record_button.click()
            assert teacher.busy and not dialog.record_button.isEnabled()  # the GUI thread did not wait
            qtbot.waitUntil(lambda n=count: len(teacher.examples) == n, timeout=RECORDING_MS)
            assert f"Example {count} of up to 5 recorded" in dialog.status.text()
        assert all(len(example) == 3 * SAMPLE_RATE for example in teacher.examples)
        with qtbot.waitSignal(teacher.taught, timeout=RECORDING_MS) as saved:
            dialog.save_button.click()
        assert saved.args == ["front door"]
        assert "Taught 'front door' from 2 examples" in dialog.status.text()
        assert len(library.get("front door").examples) == 2
        rng = np.random.default_rng(99)
        assert _heard("front door", library, np.concatenate([np.zeros(8000, np.float32), chime(rng)]))
        other = chime(rng, notes=(880.0, 587.3))  # a different doorbell is not this one
        assert not _heard("front door", library, np.concatenate([np.zeros(8000, np.float32), other]))

        dialog.record_button.click()  # the same name again: refused, saying what to do
        qtbot.waitUntil(lambda: not teacher.busy, timeout=RECORDING_MS)
        assert "taught already" in dialog.status.text() and "another name" in dialog.status.text()
    finally:
        app.shutdown()
        app.window.close()


def test_a_missing_name_and_a_silent_recording_each_get_one_clear_message(
    qtbot: Any, settings: Settings, library: SoundLibrary, tmp_path: Path
) -> None:
    silence = write_wav(tmp_path / "silence.wav", np.zeros(int(3.2 * SAMPLE_RATE), np.float32))
    app = _app(settings, silence)
    try:
        app.alerts.teach_sound()
        teacher = app.alerts.teacher
        dialog = teacher.dialog
        assert dialog is not None
        dialog.record_button.click()
        assert "needs a name" in dialog.status.text() and not teacher.busy
        dialog.name_edit.setText("smoke alarm")
        dialog.record_button.click()
        assert "cannot be taught" in dialog.status.text()
        dialog.name_edit.setText("kettle")
        dialog.record_button.click()
        qtbot.waitUntil(lambda: not teacher.busy, timeout=RECORDING_MS)
        assert "Example 1 is silent" in dialog.status.text()
        assert teacher.examples == [] and not dialog.save_button.isEnabled()
        assert library.listed_names() == []
    finally:
        app.shutdown()
        app.window.close()


def test_record_example_reads_the_captions_tap_lets_it_go_and_stops_when_asked() -> None:
    tap = AudioTap("the captions' audio")
    rng = np.random.default_rng(2)
    sound = chime(rng)

    def captions_loop() -> None:  # the caption thread pushing what it read, 0.1 s at a time
        for begin in range(0, len(sound), 1600):
            tap.push(sound[begin : begin + 1600])

    feeder = threading.Thread(target=captions_loop)
    feeder.start()
    audio = record_example(tap, seconds=1.0)
    feeder.join(5)
    assert len(audio) == SAMPLE_RATE and np.allclose(audio, sound[:SAMPLE_RATE])
    tap.push(sound[:1600])  # the captions go on pushing to the finished recording's tap: none is kept
    with pytest.raises(EndOfAudio):
        tap.read(timeout=0.01)
    stop = threading.Event()
    stop.set()
    with pytest.raises(TaughtSoundError, match="stopped"):
        record_example(AudioTap(), seconds=1.0, stop=stop)
