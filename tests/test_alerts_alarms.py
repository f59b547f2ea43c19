"""Smoke (T3) and carbon-monoxide (T4) alarms found by their rhythm in real speech and in noise, at
several levels and pitches, fast enough; and kitchen timers, phone rings, music and speech alone never
taken for one."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.audio.source import AudioArray
from assistant.sounds.alarms import Run, _strays, _t4_group_ok, detect_alarms
from assistant.sounds.spectrum import FRAMES_PER_SECOND, frame_time
from assistant.sounds.types import CO_ALARM, SMOKE_ALARM, AlertEvent
from tests.helpers import alert_mix as mix
from tests.helpers.data import SPEECH_DIR


@pytest.fixture(scope="module")
def clips() -> list[AudioArray]:
    return mix.load_speech(SPEECH_DIR)


def alerts(events: list[AlertEvent]) -> list[AlertEvent]:
    return [event for event in events if event.kind == "alert"]


@pytest.mark.parametrize(
    ("freq", "waveform", "level_db"),
    [(3100.0, "sine", 0.0), (3400.0, "sine", -6.0), (520.0, "square", 0.0), (1000.0, "sine", -6.0)],
)
def test_smoke_alarm_is_found_in_speech_within_five_seconds(
    clips: list[AudioArray], freq: float, waveform: str, level_db: float
) -> None:
    rng = np.random.default_rng(int(freq) + int(level_db))
    alarm = mix.t3_alarm(freq, rng, cycles=3, waveform=waveform)
    audio = mix.mix_at(mix.speech_bed(clips, 20.0, rng), alarm, 3.0, level_db)
    found = alerts(detect_alarms(audio))
    assert [event.sound for event in found] == [SMOKE_ALARM]
    assert found[0].at - 3.0 <= 5.0  # the target; four beeps take 4.3 s
    assert abs(found[0].start - 3.0) <= 0.3
    assert 0.5 <= found[0].confidence <= 1.0


@pytest.mark.parametrize(
    ("freq", "level_db", "deadline"),
    # At 800 Hz this voice hides the first group of beeps; the next cycle, 5.7 s later, is caught.
    [(3100.0, 0.0, 7.0), (2000.0, -6.0, 7.0), (800.0, 0.0, 12.5)],
)
def test_carbon_monoxide_alarm_is_found_in_speech_within_seven_seconds_or_a_cycle_later(
    clips: list[AudioArray], freq: float, level_db: float, deadline: float
) -> None:
    rng = np.random.default_rng(int(freq) + 7)
    alarm = mix.t4_alarm(freq, rng, cycles=3)
    audio = mix.mix_at(mix.speech_bed(clips, 24.0, rng), alarm, 2.0, level_db)
    found = alerts(detect_alarms(audio))
    assert [event.sound for event in found] == [CO_ALARM]
    assert found[0].at - 2.0 <= deadline
    assert abs(found[0].start - 2.0) <= 0.3 or abs(found[0].start - 7.7) <= 0.6


@pytest.mark.parametrize("colour", ["pink", "white", "hum"])
def test_alarms_are_found_in_steady_noise(colour: str) -> None:
    rng = np.random.default_rng(3)
    background = mix.noise(rng, 30.0, colour)
    audio = mix.mix_at(background, mix.t3_alarm(3200.0, rng, cycles=2), 2.0, -6.0)
    audio = mix.mix_at(audio, mix.t4_alarm(2900.0, rng, cycles=2), 13.0, -6.0)
    assert sorted(event.sound for event in alerts(detect_alarms(audio))) == [CO_ALARM, SMOKE_ALARM]


def test_an_alarm_that_stops_is_reported_ended_with_how_long_it_sounded() -> None:
    rng = np.random.default_rng(5)
    audio = np.concatenate([np.zeros(16_000, np.float32), 0.3 * mix.t3_alarm(3100.0, rng, cycles=3)])
    audio = np.concatenate([audio, np.zeros(16_000 * 12, np.float32)])
    events = detect_alarms(audio)
    assert [(event.sound, event.kind) for event in events] == [(SMOKE_ALARM, "alert"), (SMOKE_ALARM, "ended")]
    ended = events[1]
    assert ended.end is not None and 10.0 <= ended.end - ended.start <= 12.5  # three 4 s cycles, last off


@pytest.mark.parametrize("style", range(5))
def test_kitchen_timers_are_not_alarms(clips: list[AudioArray], style: int) -> None:
    rng = np.random.default_rng(style)
    timer = mix.kitchen_timer(rng, 40.0, style=style)
    assert alerts(detect_alarms(timer)) == []
    assert alerts(detect_alarms(mix.mix_at(mix.speech_bed(clips, 40.0, rng), timer, 0.0, 0.0))) == []


@pytest.mark.parametrize("style", range(3))
def test_phone_rings_are_not_alarms(style: int) -> None:
    assert alerts(detect_alarms(mix.phone_ring(np.random.default_rng(style), 40.0, style=style))) == []


def test_music_with_high_notes_and_all_the_dev_speech_raise_no_alert(clips: list[AudioArray]) -> None:
    rng = np.random.default_rng(11)
    assert alerts(detect_alarms(mix.music(rng, 120.0))) == []
    assert alerts(detect_alarms(np.concatenate(clips))) == []


def test_a_co_alarm_beep_group_with_40_ms_silences_is_accepted_wherever_it_falls() -> None:
    """Beep times are whole 10 ms frames; a 40 ms silence was lost to float rounding at half of all
    positions (a CO alarm at 450 Hz under louder speech went unheard in bench/alerts_accuracy.py)."""
    half = 0.5 / FRAMES_PER_SECOND

    def beep(first_frame: int, frames: int) -> Run:  # as `ToneRuns` stamps a run
        return Run(14, frame_time(first_frame - 1) - half, frame_time(first_frame + frames - 2) + half, 25.0)

    for first in range(100, 2100, 7):
        group = [beep(first, 11), beep(first + 15, 11), beep(first + 30, 11)]  # 0.11 s on, 0.04 s off
        assert _t4_group_ok(group), first


def test_a_voice_tone_much_weaker_than_the_beeps_is_no_stray_but_a_timer_beep_as_loud_is() -> None:
    beeps = [Run(14, start, start + 0.1, 25.0) for start in (0.0, 0.2, 0.4, 5.6, 5.8, 6.0)]
    voice = Run(14, 2.5, 2.7, 15.0)  # a harmonic passing the alarm's pitch, 10 dB under its beeps
    timer = Run(14, 2.5, 2.6, 24.0)
    assert _strays([*beeps, voice], beeps) == 0
    assert _strays([*beeps, timer], beeps) == 1


def test_a_co_alarm_group_whose_first_beep_ran_into_a_voice_is_timed_by_its_ends() -> None:
    """A voice at the alarm's pitch just before the first beep joins it: the beep starts 0.1 s early
    and its onset is 0.28 s from the next (bench/alerts_accuracy.py: a 450 Hz CO alarm was alerted a
    cycle late, 11.7 s after it started)."""
    run_on = Run(14, 5.50, 5.69, 27.0)  # the voice from 5.50, the beep from 5.60
    group = [run_on, Run(14, 5.78, 5.90, 31.0), Run(14, 5.99, 6.09, 33.0), Run(14, 6.19, 6.31, 25.0)]
    assert _t4_group_ok(group)
    # Ends 0.21 s apart save only a beep that ran on: two even 0.1 s beeps 0.28 s apart are no group.
    assert not _t4_group_ok([Run(14, 5.50, 5.60, 27.0), Run(14, 5.78, 5.88, 31.0), Run(14, 5.98, 6.08, 30.0)])


def test_a_voice_blip_under_50_ms_in_the_silence_is_no_stray() -> None:
    beeps = [Run(14, start, start + 0.1, 25.0) for start in (0.0, 0.2, 0.4, 5.6, 5.8, 6.0)]
    blip = Run(14, 1.5, 1.54, 25.0)
    assert _strays([*beeps, blip], beeps) == 0
