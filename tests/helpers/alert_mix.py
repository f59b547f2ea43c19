"""Sounds for the sound-alert tests and `bench/alerts_accuracy.py`, synthesised at known times and levels.

- Alarms: smoke/fire T3 (three 0.5 s beeps, 0.5 s gaps, 1.5 s off) and carbon-monoxide T4 (four 0.1 s
  beeps, 0.1 s gaps, 5 s off), as sine or square waves (the 520 Hz low-frequency smoke alarms are square),
  every on/off time jittered independently (`jitter=0.08` is ±8 %).
- Things that are not alarms: kitchen timers, phone ring tones, synthetic music with high notes, noise.
- Chimes for taught sounds: a two-note "ding-dong" doorbell and its variants, with decaying partials.
- Mixing: `mix_at` adds a sound to a background at a signal-to-background ratio in dB, where both sides
  are measured as the RMS of their *active* parts (the beeps of an alarm, the voiced speech of a clip),
  so "0 dB" means an alarm beep is as loud as the speech around it.

Every generator takes a `numpy.random.Generator`, so a seed reproduces an evaluation exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.audio.source import SAMPLE_RATE, AudioArray

SR = SAMPLE_RATE


@dataclass(frozen=True)
class Placed:
    """A sound put into a mix: what it is, where it starts and ends (audio s)."""

    kind: str
    start: float
    end: float


def _tone(freq: float, seconds: float, waveform: str = "sine", phase: float = 0.0) -> AudioArray:
    t = np.arange(int(round(seconds * SR))) / SR
    if waveform == "square":
        # Band-limited square wave (odd harmonics below Nyquist), as a real buzzer's output filtered by
        # its housing: still a strong fundamental with 1/3, 1/5, ... partials.
        out = np.zeros_like(t)
        k = 1
        while k * freq < SR / 2 - 500:
            out += np.sin(2 * np.pi * k * freq * t + phase * k) / k
            k += 2
        out *= 4 / np.pi
    else:
        out = np.sin(2 * np.pi * freq * t + phase)
    return out.astype(np.float32)


def _ramp(audio: AudioArray, seconds: float = 0.005) -> AudioArray:
    """Short fades so beep edges click no more than a real piezo's do."""
    n = min(len(audio) // 2, int(seconds * SR))
    if n:
        fade = np.linspace(0.0, 1.0, n, dtype=np.float32)
        audio[:n] *= fade
        audio[-n:] *= fade[::-1]
    return audio


def _jittered(value: float, jitter: float, rng: np.random.Generator) -> float:
    return value * (1.0 + rng.uniform(-jitter, jitter)) if jitter else value


def beep_pattern(
    on_off: Sequence[tuple[float, float]],
    freq: float,
    rng: np.random.Generator,
    *,
    repeats: int,
    jitter: float = 0.0,
    waveform: str = "sine",
    drift: float = 0.0,
) -> AudioArray:
    """`on_off` pairs (beep seconds, silence after it) repeated `repeats` times, each time jittered.

    `drift` lets the tone's frequency wander by up to that fraction over the whole sound (cheap piezos
    warm up)."""
    pieces: list[AudioArray] = []
    total = repeats * len(on_off)
    index = 0
    for _ in range(repeats):
        for on, off in on_off:
            f = freq * (1.0 + drift * index / max(1, total - 1))
            beep = _ramp(_tone(f, _jittered(on, jitter, rng), waveform, rng.uniform(0, 2 * np.pi)))
            pieces += [beep, np.zeros(int(round(_jittered(off, jitter, rng) * SR)), np.float32)]
            index += 1
    return np.concatenate(pieces)


def t3_alarm(
    freq: float,
    rng: np.random.Generator,
    *,
    cycles: int = 3,
    jitter: float = 0.08,
    waveform: str = "sine",
) -> AudioArray:
    """A smoke/fire alarm's T3 pattern: (0.5 on, 0.5 off) x2, 0.5 on, 1.5 off; `cycles` times."""
    return beep_pattern(
        [(0.5, 0.5), (0.5, 0.5), (0.5, 1.5)],
        freq,
        rng,
        repeats=cycles,
        jitter=jitter,
        waveform=waveform,
    )


def t4_alarm(
    freq: float,
    rng: np.random.Generator,
    *,
    cycles: int = 3,
    jitter: float = 0.08,
    waveform: str = "sine",
) -> AudioArray:
    """A carbon-monoxide alarm's T4 pattern: (0.1 on, 0.1 off) x3, 0.1 on, 5 s off; `cycles` times."""
    return beep_pattern(
        [(0.1, 0.1), (0.1, 0.1), (0.1, 0.1), (0.1, 5.0)],
        freq,
        rng,
        repeats=cycles,
        jitter=jitter,
        waveform=waveform,
    )


def kitchen_timer(rng: np.random.Generator, seconds: float = 20.0, style: int | None = None) -> AudioArray:
    """Kitchen timers going off (not alarms): several real styles at 2-4 kHz.

    0: four 0.1 s beeps then 0.6-1 s pause; 1: steady 0.5 s on / 0.5 s off (a metronome, no long gap);
    2: three 0.15 s beeps then 1 s off; 3: 0.25 s beeps every 0.5 s in bursts of 8 with a 1 s pause;
    4: two 0.5 s beeps, 0.5 s apart, then 1.5 s off (a T3 without its third beep)."""
    style = int(rng.integers(0, 5)) if style is None else style
    freq = float(rng.uniform(2000, 4000))
    patterns: list[list[tuple[float, float]]] = [
        [(0.1, 0.1), (0.1, 0.1), (0.1, 0.1), (0.1, float(rng.uniform(0.6, 1.0)))],
        [(0.5, 0.5)],
        [(0.15, 0.15), (0.15, 0.15), (0.15, 1.0)],
        [(0.25, 0.25)] * 7 + [(0.25, 1.0)],
        [(0.5, 0.5), (0.5, 1.5)],
    ]
    pattern = patterns[style]
    cycle = sum(on + off for on, off in pattern)
    audio = beep_pattern(pattern, freq, rng, repeats=max(1, int(np.ceil(seconds / cycle))), jitter=0.03)
    return audio[: int(seconds * SR)]


def phone_ring(rng: np.random.Generator, seconds: float = 20.0, style: int | None = None) -> AudioArray:
    """Telephone rings (not alarms). 0: UK double ring (400+450 Hz, 0.4/0.2/0.4 on, 2 s off); 1: North
    American ring (440+480 Hz, 2 s on, 4 s off); 2: a melodic ring tone (a marimba-like arpeggio)."""
    style = int(rng.integers(0, 3)) if style is None else style
    n = int(seconds * SR)
    out = np.zeros(n, np.float32)
    if style in (0, 1):
        pairs = [(0.4, 0.2), (0.4, 2.0)] if style == 0 else [(2.0, 4.0)]
        lows, highs = (400.0, 450.0) if style == 0 else (440.0, 480.0)
        position = 0
        while position < n:
            for on, off in pairs:
                beep = _ramp(0.5 * (_tone(lows, on) + _tone(highs, on)))
                end = min(n, position + len(beep))
                out[position:end] += beep[: end - position]
                position += len(beep) + int(off * SR)
        return out
    base = float(rng.uniform(500, 900))
    steps = [0, 4, 7, 12, 7, 4, 0, 12]
    position = 0
    while position < n:
        for step in steps:
            note = _note(base * 2 ** (step / 12), 0.18, rng, decay=8.0, partials=3)
            end = min(n, position + len(note))
            out[position:end] += note[: end - position]
            position += int(0.15 * SR)
        position += int(1.2 * SR)
    return out


def _note(
    freq: float, seconds: float, rng: np.random.Generator, *, decay: float, partials: int = 4
) -> AudioArray:
    """A plucked or struck note: harmonic partials with an exponential decay."""
    t = np.arange(int(seconds * SR)) / SR
    out = np.zeros_like(t)
    for k in range(1, partials + 1):
        if k * freq >= SR / 2 - 200:
            break
        out += (0.7**k) * np.sin(2 * np.pi * k * freq * t + rng.uniform(0, 2 * np.pi))
    envelope = np.exp(-decay * t) * np.minimum(1.0, t / 0.005)
    note: AudioArray = (out * envelope).astype(np.float32)
    return note


def music(rng: np.random.Generator, seconds: float) -> AudioArray:
    """Synthetic music: a melody that reaches up to 4 kHz over chords and a bass line, at a random
    tempo, with held notes, repeated notes and a hi-hat. Not an alarm, however regular it gets."""
    n = int(seconds * SR)
    out = np.zeros(n, np.float32)
    beat = 60.0 / float(rng.uniform(70, 150))
    root = float(rng.uniform(110, 220))
    scale = [0, 2, 4, 5, 7, 9, 11]
    position = 0.0
    while position < seconds:
        # A bar of four beats: a chord, a bass note, melody notes (some high, some repeated).
        chord_root = root * 2 ** (scale[int(rng.integers(0, 7))] / 12)
        start = int(position * SR)
        for interval in (0, 4, 7):
            chord = _note(chord_root * 2 ** (interval / 12) * 2, 4 * beat, rng, decay=0.8, partials=5)
            end = min(n, start + len(chord))
            out[start:end] += 0.25 * chord[: end - start]
        bass = _note(chord_root / 2, 2 * beat, rng, decay=1.5, partials=6)
        end = min(n, start + len(bass))
        out[start:end] += 0.4 * bass[: end - start]
        t = 0.0
        previous = None
        while t < 4 * beat:
            length = beat * float(rng.choice([0.25, 0.5, 0.5, 1.0, 1.0, 2.0]))
            if previous is not None and rng.random() < 0.3:
                freq = previous  # repeated notes, as melodies have
            else:
                octave = int(rng.integers(2, 5))  # up to the 4th octave above root: high notes
                freq = root * 2**octave * 2 ** (scale[int(rng.integers(0, 7))] / 12)
                freq = min(freq, 4000.0)
            previous = freq
            note = _note(freq, length * 0.9, rng, decay=float(rng.uniform(1.0, 6.0)), partials=3)
            s = int((position + t) * SR)
            end = min(n, s + len(note))
            if s < n:
                out[s:end] += 0.5 * note[: end - s]
            t += length
        for k in range(8):  # hi-hat on every half beat
            s = int((position + k * beat / 2) * SR)
            hat = rng.standard_normal(int(0.04 * SR)) * np.exp(-np.arange(int(0.04 * SR)) / (0.008 * SR))
            end = min(n, s + len(hat))
            if s < n:
                out[s:end] += 0.08 * hat[: end - s].astype(np.float32)
        position += 4 * beat
    return _normalise(out, 0.1)


def noise(rng: np.random.Generator, seconds: float, kind: str) -> AudioArray:
    """Steady noise: `white`, `pink`, `brown`, or `hum` (a fan: 50 Hz mains hum and harmonics over
    brown noise, with a slow wobble)."""
    n = int(seconds * SR)
    white = rng.standard_normal(n)
    if kind == "white":
        out = white
    elif kind in ("pink", "brown", "hum"):
        spectrum = np.fft.rfft(white)
        f = np.fft.rfftfreq(n, 1 / SR)
        f[0] = f[1]
        spectrum /= np.sqrt(f) if kind == "pink" else f
        out = np.fft.irfft(spectrum, n)
        if kind == "hum":
            t = np.arange(n) / SR
            out = out / np.std(out)
            wobble = 1 + 0.2 * np.sin(2 * np.pi * 0.3 * t)
            for k in (1, 2, 3, 5):
                out += wobble * 0.5 / k * np.sin(2 * np.pi * 50 * k * t)
    else:
        raise ValueError(f"unknown noise {kind!r}")
    return _normalise(out.astype(np.float32), 0.05)


def chime(
    rng: np.random.Generator,
    notes: Sequence[float] = (659.3, 523.3),
    *,
    spacing: float = 0.45,
    decay: float = 2.5,
    detune: float = 0.0,
) -> AudioArray:
    """A doorbell: struck-bar notes (fundamental plus inharmonic partials 2.76x, 5.4x, as metal bars
    ring) `spacing` s apart, each decaying. `detune` shifts every frequency by up to that fraction
    (another recording of the same bell, a slightly different speed)."""
    shift = 1.0 + (rng.uniform(-detune, detune) if detune else 0.0)
    length = spacing * (len(notes) - 1) + 1.6
    out = np.zeros(int(length * SR), np.float32)
    t = np.arange(int(1.6 * SR)) / SR
    for index, freq in enumerate(notes):
        f = freq * shift
        partial = np.zeros_like(t)
        for ratio, weight in ((1.0, 1.0), (2.76, 0.35), (5.40, 0.12)):
            if ratio * f < SR / 2 - 200:
                partial += weight * np.sin(2 * np.pi * ratio * f * t + rng.uniform(0, 2 * np.pi))
        note = partial * np.exp(-decay * t) * np.minimum(1.0, t / 0.003)
        start = int(index * spacing * SR)
        out[start : start + len(note)] += note.astype(np.float32)
    return _normalise(out, 0.2)


def _normalise(audio: AudioArray, rms: float) -> AudioArray:
    current = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) or 1.0
    return (audio * (rms / current)).astype(np.float32)


def active_rms(audio: AudioArray, below_peak_db: float = 30.0) -> float:
    """RMS over the 20 ms frames within `below_peak_db` of the loudest one: the level of an alarm's beeps
    or of speech while someone talks, not of the silences between."""
    frame = int(0.02 * SR)
    usable = len(audio) - len(audio) % frame
    if usable == 0:
        return 0.0
    energy = np.mean(np.square(audio[:usable].reshape(-1, frame), dtype=np.float64), axis=1)
    loud = energy[energy >= energy.max() * 10 ** (-below_peak_db / 10)]
    return float(np.sqrt(loud.mean())) if len(loud) else 0.0


def mix_at(background: AudioArray, sound: AudioArray, start: float, ratio_db: float) -> AudioArray:
    """`background` with `sound` added at `start` s, scaled so that the active RMS of the sound over the
    active RMS of the background it overlaps is `ratio_db`. Returns a new array (clipped to [-1, 1])."""
    out = background.copy()
    begin = int(start * SR)
    end = min(len(out), begin + len(sound))
    under = active_rms(background[begin:end]) or active_rms(background) or 0.05
    gain = under * 10 ** (ratio_db / 20) / (active_rms(sound) or 1.0)
    out[begin:end] += gain * sound[: end - begin]
    np.clip(out, -1.0, 1.0, out=out)
    return out


def load_speech(folder: Path) -> list[AudioArray]:
    """Every speech clip in `folder` (wav/flac), decoded to 16 kHz mono, in name order."""
    from assistant.audio.sources import load_audio_file

    clips = sorted(p for p in folder.iterdir() if p.suffix in (".wav", ".flac"))
    return [load_audio_file(path) for path in clips]


def speech_bed(clips: Sequence[AudioArray], seconds: float, rng: np.random.Generator) -> AudioArray:
    """`seconds` of continuous talk: the clips in random order, each at the same active level, with
    0.1-0.6 s pauses between them, repeated as needed."""
    n = int(seconds * SR)
    pieces: list[AudioArray] = []
    total = 0
    while total < n:
        for index in rng.permutation(len(clips)):
            clip = clips[int(index)]
            level = active_rms(clip) or 1.0
            pieces.append((clip * (0.1 / level)).astype(np.float32))
            pieces.append(np.zeros(int(rng.uniform(0.1, 0.6) * SR), np.float32))
            total += len(pieces[-2]) + len(pieces[-1])
            if total >= n:
                break
    return np.concatenate(pieces)[:n]
