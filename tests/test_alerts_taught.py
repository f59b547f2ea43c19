"""Taught sounds: a doorbell taught from three generated chimes is recognised again under speech, a
doorbell on other notes is not, nor one on the same notes in another order or rhythm, the library
keeps sounds on disk, and bad examples are refused with a message that says what to do."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.audio.source import SAMPLE_RATE, AudioArray
from assistant.sounds.spectrum import Spectrogram
from assistant.sounds.taught import (
    SoundLibrary,
    TaughtSound,
    TaughtSoundError,
    TaughtSoundMatcher,
    learn_sound,
    load_examples,
)
from assistant.sounds.types import AlertEvent
from tests.helpers import alert_mix as mix
from tests.helpers.data import SPEECH_DIR
from tests.helpers.speech import write_wav

DOORBELL = (659.3, 523.3)
OTHER_DOORBELL = (784.0, 622.3)


def recording(rng: np.random.Generator, notes: tuple[float, ...] = DOORBELL) -> AudioArray:
    """Another recording of a bell: its own level, a little speed change, room noise, silence around."""
    bell = mix.chime(rng, notes, detune=0.01) * float(rng.uniform(0.3, 1.0))
    pad = np.zeros(SAMPLE_RATE // 3, np.float32)
    audio = np.concatenate([pad, bell, pad])
    return (audio + 0.003 * rng.standard_normal(len(audio))).astype(np.float32)


def listen(sound: TaughtSound, audio: AudioArray) -> list[AlertEvent]:
    matcher = TaughtSoundMatcher([sound])
    spectrogram = Spectrogram()
    events: list[AlertEvent] = []
    for offset in range(0, len(audio), SAMPLE_RATE // 10):
        events += matcher.process_frames(spectrogram.push(audio[offset : offset + SAMPLE_RATE // 10]))
    return events + matcher.finish()


@pytest.fixture(scope="module")
def doorbell() -> TaughtSound:
    rng = np.random.default_rng(1)
    return learn_sound("doorbell", [recording(rng) for _ in range(3)])


@pytest.fixture(scope="module")
def clips() -> list[AudioArray]:
    return mix.load_speech(SPEECH_DIR)


def test_three_recordings_of_one_bell_agree(doorbell: TaughtSound) -> None:
    assert len(doorbell.examples) == 3
    assert doorbell.agreement is not None and doorbell.agreement >= 0.8


@pytest.mark.parametrize("level_db", [0.0, -3.0])
def test_taught_doorbell_is_recognised_under_speech(
    doorbell: TaughtSound, clips: list[AudioArray], level_db: float
) -> None:
    rng = np.random.default_rng(int(-level_db) + 20)
    for _ in range(3):
        audio = mix.mix_at(
            mix.speech_bed(clips, 10.0, rng), mix.chime(rng, DOORBELL, detune=0.01), 4.0, level_db
        )
        alerts = [event for event in listen(doorbell, audio) if event.kind == "alert"]
        assert [event.sound for event in alerts] == ["doorbell"]
        assert abs(alerts[0].start - 4.0) <= 0.3
        assert alerts[0].at - 4.0 <= 3.0  # the template is about 2 s of the bell
        assert 0.5 <= alerts[0].confidence <= 1.0


def test_a_doorbell_on_other_notes_speech_and_music_are_never_matched(
    doorbell: TaughtSound, clips: list[AudioArray]
) -> None:
    rng = np.random.default_rng(7)
    other_alone = np.concatenate([np.zeros(8000, np.float32), mix.chime(rng, OTHER_DOORBELL)])
    other_in_speech = mix.mix_at(mix.speech_bed(clips, 10.0, rng), mix.chime(rng, OTHER_DOORBELL), 4.0, 0.0)
    for audio in (other_alone, other_in_speech, np.concatenate(clips), mix.music(rng, 60.0)):
        assert [event for event in listen(doorbell, audio) if event.kind == "alert"] == []


@pytest.mark.parametrize(
    ("notes", "spacing"),
    [(DOORBELL[::-1], 0.45), (DOORBELL, 0.9), (DOORBELL, 0.25)],
    ids=["the same notes reversed", "the same notes slower", "the same notes faster"],
)
def test_a_chime_on_the_same_notes_in_another_order_or_rhythm_is_never_matched(
    doorbell: TaughtSound, clips: list[AudioArray], notes: tuple[float, ...], spacing: float
) -> None:
    # The tone-map correlation alone scores these 0.5-0.85 (its notes ring on together, in either
    # order); the note-by-note check at the matched alignment turns them down.
    rng = np.random.default_rng(11)
    for _ in range(2):
        bell = mix.chime(rng, notes, spacing=spacing, detune=0.01)
        alone = np.concatenate([np.zeros(SAMPLE_RATE, np.float32), bell, np.zeros(SAMPLE_RATE, np.float32)])
        alone = (alone + 0.003 * rng.standard_normal(len(alone))).astype(np.float32)
        in_speech = mix.mix_at(mix.speech_bed(clips, 10.0, rng), bell, 4.0, 0.0)
        for audio in (alone, in_speech):
            assert [event for event in listen(doorbell, audio) if event.kind == "alert"] == []


def test_library_keeps_lists_and_forgets_sounds(tmp_path: Path, doorbell: TaughtSound) -> None:
    library = SoundLibrary(tmp_path / "sounds")
    assert library.load_all() == []
    library.add(doorbell)
    again = SoundLibrary(tmp_path / "sounds").get("Doorbell")
    assert again.name == "doorbell" and len(again.examples) == 3
    assert again.agreement == doorbell.agreement
    assert np.max(np.abs(again.examples[0] - doorbell.examples[0])) < 1e-3  # 16-bit on disk
    assert library.names() == ["doorbell"]
    assert library.forget("DOORBELL") == "doorbell"
    assert library.load_all() == []


def test_a_name_that_exists_is_refused_with_how_to_replace_it(tmp_path: Path, doorbell: TaughtSound) -> None:
    library = SoundLibrary(tmp_path)
    library.add(doorbell)
    with pytest.raises(TaughtSoundError, match=r"--replace.*assistant sounds forget \"doorbell\""):
        library.add(TaughtSound("Doorbell", doorbell.examples[:1]))
    library.add(TaughtSound("Doorbell", doorbell.examples[:1]), replace=True)
    assert len(library.get("doorbell").examples) == 1


def test_silent_featureless_long_and_too_many_examples_are_refused() -> None:
    rng = np.random.default_rng(2)
    silent = np.zeros(SAMPLE_RATE * 2, np.float32)
    with pytest.raises(TaughtSoundError, match="quiet.wav is silent"):
        learn_sound("kettle", [silent], ["quiet.wav"])
    hiss = (0.1 * rng.standard_normal(SAMPLE_RATE * 2)).astype(np.float32)
    with pytest.raises(TaughtSoundError, match="hiss.wav has no sound that stands out"):
        learn_sound("kettle", [hiss], ["hiss.wav"])
    with pytest.raises(TaughtSoundError, match="at most 30 s"):
        learn_sound("kettle", [np.tile(recording(rng), 20)], ["long.wav"])
    with pytest.raises(TaughtSoundError, match="1 to 5 examples"):
        learn_sound("kettle", [recording(rng)] * 6)
    with pytest.raises(TaughtSoundError, match="recognised by its pattern already"):
        learn_sound("Smoke alarm", [recording(rng)])


def test_unreadable_example_files_are_named(tmp_path: Path) -> None:
    corrupt = tmp_path / "bell.wav"
    corrupt.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(200)))
    with pytest.raises(TaughtSoundError, match="bell.wav cannot be used"):
        load_examples([corrupt])
    with pytest.raises(TaughtSoundError, match="missing.wav not found"):
        load_examples([tmp_path / "missing.wav"])
    good = write_wav(tmp_path / "good.wav", recording(np.random.default_rng(3)))
    assert len(load_examples([good])[0]) > SAMPLE_RATE
