"""Sound alerts: how often alarms and taught sounds are found, how fast, how often something else is
taken for one, and what it costs, against a plain band-energy threshold in the same run.

The evaluation is built from real speech (the clips in tests/data/speech, else ../shared/evaldata/speech)
with sounds synthesised at known times and levels (`tests/helpers/alert_mix.py`): smoke (T3) and
carbon-monoxide (T4) alarms at tone frequencies from 450 Hz to 3.9 kHz (520 Hz as a square wave), every
beep and gap jittered by up to ±8 %, mixed at 0, -6 and -10 dB signal-to-speech (active RMS of the beeps
over active RMS of the speech under them); a doorbell taught from three recordings and a different bell;
kitchen timers, phone rings, synthetic music and noise. Prints:

- T3 / T4 found at each level, and alert delay (`at` - true start): median and max
- the taught doorbell found at 0 dB (and -3, -6); bells on other notes, on its notes reversed, and on its
  notes slower or faster (0.9 or 0.25 s apart instead of 0.45) never matched
- false alerts over all the dev speech, 30 min of music and noise, kitchen timers and phone rings, and
  the false-alert rate per hour over the longest mix (speech, music, noise, timers, rings, silence)
- CPU (% of one core) of the alarm patterns and taught sounds, and of the classifier path separately:
  a real-size AST (random weights) per look and how often it looks
- the baseline, a plain band-energy threshold at 3 kHz (2.5-3.5 kHz over -32 dB for 0.3 s), on the
  same alarms and the same false-alert material

Usage:

    .venv/bin/python bench/alerts_accuracy.py [--trials 20] [--long-minutes 60] [--quick] [--no-ast]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.audio.source import SAMPLE_RATE, AudioArray
from assistant.sounds.alarms import AlarmPatternDetector
from assistant.sounds.alerts import AlertDetectors
from assistant.sounds.classifier import (
    ASTSoundClassifier,
    ClassifierDetector,
    ClassifierSettings,
    feature_extractor,
    quantize_int8,
)
from assistant.sounds.spectrum import FULL_SCALE_TONE, Spectrogram, hz_to_bin
from assistant.sounds.taught import TaughtSound, TaughtSoundMatcher, learn_sound
from assistant.sounds.types import CO_ALARM, SMOKE_ALARM, AlertEvent
from tests.helpers import alert_mix as mix
from tests.helpers.data import SPEECH_DIR

LEVELS = (0.0, -6.0, -10.0)
FREQUENCIES = (3100.0, 520.0, 3400.0, 800.0, 2000.0, 450.0, 3900.0, 1200.0, 3000.0, 1000.0)
DOORBELL = (659.3, 523.3)
OTHER_BELL = (784.0, 622.3)
REVERSED_BELL = (523.3, 659.3)
CHUNK = SAMPLE_RATE // 10


def speech_folder() -> Path:
    if SPEECH_DIR.is_dir() and any(SPEECH_DIR.glob("*.flac")):
        return SPEECH_DIR
    return Path(__file__).resolve().parents[2] / "shared" / "evaldata" / "speech"


def run_detectors(make: Callable[[], AlertDetectors], audio: AudioArray) -> tuple[list[AlertEvent], float]:
    """(alert events, CPU seconds) for `audio` fed in 0.1 s chunks, as a microphone would."""
    detectors = make()
    started = time.process_time()
    events: list[AlertEvent] = []
    for offset in range(0, len(audio), CHUNK):
        events += detectors.process(audio[offset : offset + CHUNK])
    events += detectors.finish()
    return [e for e in events if e.kind == "alert"], time.process_time() - started


# ------------------------------------------------------------------------------------------ baseline

_BASELINE_BINS = np.arange(hz_to_bin(2500.0), hz_to_bin(3500.0) + 1)
_BASELINE_DB = -32.0
_BASELINE_HOLD_S = 0.3


def band_energy_baseline(audio: AudioArray) -> list[float]:
    """Audio seconds at which a plain 3 kHz band-energy threshold alerts (10 s apart at most once)."""
    power = Spectrogram().push(audio).power
    level = 10 * np.log10(power[:, _BASELINE_BINS].sum(axis=1) / FULL_SCALE_TONE + 1e-12)
    loud = level >= _BASELINE_DB
    alerts: list[float] = []
    run = 0
    for index, on in enumerate(loud):
        run = run + 1 if on else 0
        at = index / 100.0
        if run == int(_BASELINE_HOLD_S * 100) and (not alerts or at - alerts[-1] > 10.0):
            alerts.append(at)
    return alerts


# ------------------------------------------------------------------------------------------ alarms


@dataclass
class AlarmTally:
    trials: int = 0
    found: int = 0
    delays: list[float] = field(default_factory=list)
    false: int = 0
    baseline_found: int = 0
    missed_at: list[str] = field(default_factory=list)


def alarm_trials(
    clips: Sequence[AudioArray], trials: int, rng: np.random.Generator
) -> dict[tuple[str, float], AlarmTally]:
    tallies: dict[tuple[str, float], AlarmTally] = {}
    for kind, make_alarm, sound in (("T3", mix.t3_alarm, SMOKE_ALARM), ("T4", mix.t4_alarm, CO_ALARM)):
        for level in LEVELS:
            tally = tallies.setdefault((kind, level), AlarmTally())
            for trial in range(trials):
                freq = FREQUENCIES[trial % len(FREQUENCIES)]
                waveform = "square" if freq == 520.0 else "sine"
                alarm = make_alarm(freq, rng, cycles=3, jitter=0.08, waveform=waveform)
                start = float(rng.uniform(4.0, 8.0))
                length = len(alarm) / SAMPLE_RATE
                bed = mix.speech_bed(clips, start + length + 4.0, rng)
                audio = mix.mix_at(bed, alarm, start, level)
                alerts, _ = run_detectors(AlertDetectors, audio)
                hits = [e for e in alerts if e.sound == sound and start - 0.5 <= e.at <= start + length + 1.0]
                tally.trials += 1
                tally.false += len([e for e in alerts if e not in hits[:1]])
                if hits:
                    tally.found += 1
                    tally.delays.append(hits[0].at - start)
                else:
                    tally.missed_at.append(f"{freq:.0f} Hz")
                baseline = band_energy_baseline(audio)
                tally.baseline_found += any(start - 0.5 <= at <= start + length + 1.0 for at in baseline)
    return tallies


# ------------------------------------------------------------------------------------------ taught


def recording(rng: np.random.Generator, notes: tuple[float, ...]) -> AudioArray:
    bell = mix.chime(rng, notes, detune=0.01) * float(rng.uniform(0.3, 1.0))
    pad = np.zeros(SAMPLE_RATE // 3, np.float32)
    audio = np.concatenate([pad, bell, pad])
    return (audio + 0.003 * rng.standard_normal(len(audio))).astype(np.float32)


def taught_trials(
    clips: Sequence[AudioArray], sound: TaughtSound, trials: int, rng: np.random.Generator
) -> dict[str, tuple[int, int]]:
    """name -> (matched, trials): the doorbell at 0/-3/-6 dB (matched = found), and untaught bells
    (matched = wrongly taken for the doorbell), each half under speech at 0 dB, half alone."""
    results: dict[str, tuple[int, int]] = {}

    def make() -> AlertDetectors:
        return AlertDetectors(taught=TaughtSoundMatcher([sound]))

    for level in (0.0, -3.0, -6.0):
        found = 0
        for _ in range(trials):
            start = float(rng.uniform(3.0, 6.0))
            bed = mix.speech_bed(clips, start + 6.0, rng)
            audio = mix.mix_at(bed, mix.chime(rng, DOORBELL, detune=0.01), start, level)
            alerts, _ = run_detectors(make, audio)
            found += any(e.sound == sound.name and abs(e.start - start) <= 0.5 for e in alerts)
        results[f"taught doorbell at {level:+.0f} dB"] = (found, trials)
    for label, notes, spacing in (
        ("a bell on other notes", OTHER_BELL, 0.45),
        ("the same two notes reversed", REVERSED_BELL, 0.45),
        ("the same notes, 0.9 s apart (slower)", DOORBELL, 0.9),
        ("the same notes, 0.25 s apart (faster)", DOORBELL, 0.25),
    ):
        matched = 0
        for trial in range(trials):
            bell = mix.chime(rng, notes, spacing=spacing, detune=0.01)
            if trial % 2:
                audio = mix.mix_at(mix.speech_bed(clips, 10.0, rng), bell, 4.0, 0.0)
            else:
                audio = np.concatenate(
                    [np.zeros(SAMPLE_RATE, np.float32), bell, np.zeros(SAMPLE_RATE, np.float32)]
                )
                audio = (audio + 0.003 * rng.standard_normal(len(audio))).astype(np.float32)
            alerts, _ = run_detectors(make, audio)
            matched += any(e.sound == sound.name for e in alerts)
        results[label] = (matched, trials)
    return results


# ------------------------------------------------------------------------------------------ false alerts


@dataclass
class Material:
    name: str
    audio: AudioArray


def false_alert_material(
    clips: Sequence[AudioArray], rng: np.random.Generator, quick: bool
) -> list[Material]:
    scale = 0.2 if quick else 1.0
    music = [mix.music(rng, 120.0) for _ in range(max(1, round(10 * scale)))]
    noises = [mix.noise(rng, 150.0 * scale, kind) for kind in ("white", "pink", "brown", "hum")]
    timers = []
    for style in range(5):
        timer = mix.kitchen_timer(rng, 60.0 * scale, style=style)
        timers += [timer, mix.mix_at(mix.speech_bed(clips, len(timer) / SAMPLE_RATE, rng), timer, 0.0, 0.0)]
    rings = [mix.phone_ring(rng, 60.0 * scale, style=style) for style in range(3)]
    return [
        Material("all the dev speech", np.concatenate(list(clips))),
        Material("music and noise", np.concatenate(music + noises)),
        Material("kitchen timers (alone and under speech)", np.concatenate(timers)),
        Material("phone rings", np.concatenate(rings)),
    ]


def longest_mix(clips: Sequence[AudioArray], minutes: float, rng: np.random.Generator) -> AudioArray:
    """Everything that is not an alarm or the doorbell, in 2-minute pieces: speech, speech over music,
    music, noise, timers under speech, rings, a quiet room."""
    pieces: list[AudioArray] = []
    makers: list[Callable[[], AudioArray]] = [
        lambda: mix.speech_bed(clips, 120.0, rng),
        lambda: mix.mix_at(mix.speech_bed(clips, 120.0, rng), mix.music(rng, 120.0), 0.0, -3.0),
        lambda: mix.music(rng, 120.0),
        lambda: mix.mix_at(mix.noise(rng, 120.0, "pink"), mix.speech_bed(clips, 120.0, rng), 0.0, 6.0),
        lambda: mix.mix_at(mix.speech_bed(clips, 120.0, rng), mix.kitchen_timer(rng, 120.0), 0.0, 0.0),
        lambda: mix.phone_ring(rng, 120.0),
        lambda: (0.001 * rng.standard_normal(120 * SAMPLE_RATE)).astype(np.float32),
        lambda: mix.mix_at(mix.speech_bed(clips, 120.0, rng), mix.chime(rng, OTHER_BELL), 60.0, 0.0),
    ]
    for index in range(max(1, int(minutes / 2))):
        pieces.append(makers[index % len(makers)]())
    return np.concatenate(pieces)


# ------------------------------------------------------------------------------------------ classifier


def classifier_cost(real: bool, looks: int = 3) -> list[str]:
    """Per-look CPU of a real-size AST (random weights), fp32 and int8, and what its schedule costs."""
    import torch
    from transformers import ASTForAudioClassification

    from tests.helpers.tiny_audio_models import ast_config

    torch.set_num_threads(1)
    config = ast_config(real=real)
    lines = []
    settings = ClassifierSettings()
    audio = (0.05 * np.random.default_rng(0).standard_normal(int(settings.window_s * SAMPLE_RATE))).astype(
        np.float32
    )
    for label in ("fp32", "int8"):
        torch.manual_seed(0)
        model = ASTForAudioClassification(config).eval()  # type: ignore[arg-type,no-untyped-call]
        if label == "int8":
            model = quantize_int8(model)
        extractor = feature_extractor(config.num_mel_bins, config.max_length)  # type: ignore[attr-defined]
        classifier = ASTSoundClassifier(model, extractor, "ast (random weights)")
        classifier.classify(audio)  # warm-up
        costs = []
        for _ in range(looks):
            started = time.process_time()
            classifier.classify(audio)
            costs.append(time.process_time() - started)
        per_look = statistics.median(costs)
        lines.append(
            f"  real-size AST {label}, 1 thread: {per_look:.2f} core-s per look; one look every "
            f"{settings.interval_s:.0f} s of sound = {100 * per_look / settings.interval_s:.1f} % of a core "
            f"({per_look / settings.interval_s:.3f} core-s per s of audio)"
        )
    return lines


def classifier_schedule(audio: AudioArray) -> str:
    """How often the classifier looks over `audio` (a stand-in model that costs nothing)."""

    class Nothing:
        name = "none"
        labels = ["Dog"]

        def classify(self, audio: AudioArray) -> dict[str, float]:
            return {"Dog": 0.0}

    detector = ClassifierDetector(Nothing())
    for offset in range(0, len(audio), CHUNK):
        detector.process(audio[offset : offset + CHUNK])
    minutes = len(audio) / SAMPLE_RATE / 60
    return (
        f"  over the longest mix: {detector.looks} looks and {detector.skipped_quiet} skipped as quiet in "
        f"{minutes:.0f} min ({detector.looks / minutes:.1f} looks per minute)"
    )


# ------------------------------------------------------------------------------------------ main


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=20, help="alarms per pattern and level (default 20)")
    parser.add_argument("--long-minutes", type=float, default=60.0, help="length of the longest mix")
    parser.add_argument("--quick", action="store_true", help="fewer trials and shorter material")
    parser.add_argument("--no-ast", action="store_true", help="skip the real-size classifier timing")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    trials = 4 if args.quick else args.trials
    long_minutes = 6.0 if args.quick else args.long_minutes
    rng = np.random.default_rng(args.seed)
    folder = speech_folder()
    clips = mix.load_speech(folder)
    print(f"speech: {len(clips)} clips, {sum(len(c) for c in clips) / SAMPLE_RATE:.0f} s, from {folder}")

    tones = ", ".join(f"{f:.0f}" for f in FREQUENCIES)
    print(f"\nAlarms in speech ({trials} per pattern and level; tones {tones} Hz)")
    tallies = alarm_trials(clips, trials, rng)
    for (kind, level), tally in tallies.items():
        delays = tally.delays
        delay = f"delay median {statistics.median(delays):.2f} s, max {max(delays):.2f} s" if delays else ""
        missed = f"; missed: {', '.join(tally.missed_at)}" if tally.missed_at else ""
        print(
            f"  {kind} at {level:+3.0f} dB: found {tally.found}/{tally.trials} "
            f"({100 * tally.found / tally.trials:.0f} %), {delay}, other alerts {tally.false}{missed}; "
            f"baseline found {tally.baseline_found}/{tally.trials}"
        )

    print("\nTaught sound (a doorbell taught from 3 recordings)")
    teacher = np.random.default_rng(args.seed + 1)
    doorbell = learn_sound("doorbell", [recording(teacher, DOORBELL) for _ in range(3)])
    print(f"  the 3 examples agree {doorbell.agreement:.2f}")
    for label, (matched, count) in taught_trials(clips, doorbell, 2 * trials, rng).items():
        print(f"  {label}: matched {matched}/{count} ({100 * matched / count:.0f} %)")

    print("\nFalse alerts (alarm patterns + the taught doorbell)")

    def everything() -> AlertDetectors:
        return AlertDetectors(taught=TaughtSoundMatcher([doorbell]))

    for material in false_alert_material(clips, rng, args.quick):
        alerts, _ = run_detectors(everything, material.audio)
        minutes = len(material.audio) / SAMPLE_RATE / 60
        baseline = band_energy_baseline(material.audio)
        shown = ": " + ", ".join(f"{e.sound} at {e.at:.0f} s" for e in alerts[:5]) if alerts else ""
        found = f"{len(alerts)} false alerts{shown}; baseline {len(baseline)}"
        print(f"  {material.name} ({minutes:.1f} min): {found}")

    long_audio = longest_mix(clips, long_minutes, rng)
    hours = len(long_audio) / SAMPLE_RATE / 3600
    alerts, cpu_all = run_detectors(everything, long_audio)
    baseline = band_energy_baseline(long_audio)
    rate = len(alerts) / hours
    shown = ": " + ", ".join(f"{e.sound} at {e.at:.0f} s" for e in alerts[:5]) if alerts else ""
    print(
        f"  longest mix ({60 * hours:.0f} min): {len(alerts)} false alerts = {rate:.1f} per hour{shown}; "
        f"baseline {len(baseline)} = {len(baseline) / hours:.0f} per hour"
    )

    print("\nCPU, % of one core (captions off), over the longest mix")
    audio_s = len(long_audio) / SAMPLE_RATE
    _, cpu_alarms = run_detectors(lambda: AlertDetectors(alarms=AlarmPatternDetector()), long_audio)
    print(f"  alarm patterns: {100 * cpu_alarms / audio_s:.2f} %")
    print(f"  alarm patterns + taught doorbell (3 templates): {100 * cpu_all / audio_s:.2f} % (target 3 %)")
    started = time.process_time()
    band_energy_baseline(long_audio)
    print(f"  baseline band threshold: {100 * (time.process_time() - started) / audio_s:.2f} %")

    print("\nClassifier path (measured separately)")
    print(classifier_schedule(long_audio))
    if args.no_ast:
        print("  real-size AST timing skipped (--no-ast)")
    else:
        for line in classifier_cost(real=True, looks=2 if args.quick else 3):
            print(line)


if __name__ == "__main__":
    main()
