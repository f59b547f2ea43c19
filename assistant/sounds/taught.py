"""Sounds the user teaches: their doorbell, kettle, washing machine or intercom, from 1-5 recordings.

**The fingerprint** is a *tone map*: for every 20 ms and every 31 Hz bin from 200 Hz to 6 kHz, how far a
tone stands out of its neighbourhood (the same prominence the alarm detector uses, clipped to 0-30 dB).
Chimes, beeps, buzzers and jingles are made of tones, and a tone map keeps exactly what tells one
doorbell from another (which pitches, in what order, for how long) while speech and music, whose
harmonics wander, add little to it. Each example is trimmed to where it sounds (at most 2.5 s) and kept
as one template.

**Recognising** slides every template over the live tone map and takes the normalised correlation
(Pearson's r over the template's frequency band); a sound is heard when its best template reaches the
bar. Measured in `bench/alerts_accuracy.py`: a taught doorbell under speech as loud as it scores
0.65-0.75, speech, music and noise alone at most about 0.45, another doorbell on other notes about 0.4.

That correlation is blind to order: a chime's notes ring on together for a second or more, so the same
two notes in reverse order, or 0.9 s apart instead of 0.45, light the same cells and score 0.5-0.85.
So a match over the bar is checked once more, **note by note** (`order_contrast`): each template
keeps its *notes*, the moments where a group of bins (a note's fundamental and partials) jumps 10 dB
or more to a held tone; at the matched alignment (give or take 60 ms) most of every note's bins must
rise by 8 dB or more in the live sound too, from their usual level over the 300 ms before the note
(the upper quartile: a tone already ringing that speech hides for a moment still counts) to the
100 ms after it. A reversed chime's first note is silent where the template's starts (it rings later)
and its second rings already; another rhythm's second note arrives early or late. Measured at the best
alignment of 144 bells (three teachings): the taught bell under speech as loud as it rises at least
11.7 dB at each note, the reversed, slower (0.9 s) and faster (0.25 s) chimes at most 5.0. A chime
whose notes are a little further apart (0.6 s instead of 0.45) still passes. This costs a few hundred
cells, and runs only on a match over the bar.

**The library** lives in the user data folder (`ASSISTANT_SOUNDS_DIR`, default the platform's user
data folder + `sounds`), one folder per sound: `sound.json` (name, when taught, how alike the examples
are) and `examples.npz` (the trimmed recordings, 16-bit), so a better fingerprint later can be rebuilt
from the same recordings.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from assistant.audio.source import SAMPLE_RATE, AudioArray, AudioSource
from assistant.errors import AssistantError, AudioInputError, EndOfAudio
from assistant.sounds.spectrum import (
    FRAMES_PER_SECOND,
    TONE_BINS,
    FloatMatrix,
    FrameBlock,
    Spectrogram,
    frame_time,
)
from assistant.sounds.types import CRITICAL_SOUNDS, AlertEvent

log = logging.getLogger("assistant.sounds.taught")

MAX_EXAMPLES = 5
MAX_EXAMPLE_SECONDS = 30.0
"""A longer recording is refused: teach the sound, not the minutes around it."""
TEMPLATE_SECONDS = 2.5
"""The most of an example a template keeps (from where it starts to sound)."""
DEFAULT_BAR = 0.5
"""The similarity (Pearson's r) that makes a match at the default sensitivity."""
LIBRARY_FORMAT = 1

_BINS = TONE_BINS
_CLIP_DB = 30.0
_TONE_DB = 12.0  # a cell this prominent is part of the sound
_BAND_MARGIN = 8  # bins either side of the template's own tones that the comparison also covers
_DECIMATE = 2  # tone-map frames are 20 ms: the stronger of two 10 ms frames
_SILENT_DBFS = -50.0
_NOTE_HELD_DB = 15.0  # a note's cell holds this for 60 ms after it starts
_NOTE_JUMP_DB = 10.0  # ... and rises this much over the lowest of the 60 ms before
_NOTE_MIN_BINS = 3  # fewer bins rising together is a flicker, not a note
_ORDER_BEFORE = 16  # frames (320 ms) before a note whose usual level it must rise from
_ORDER_AFTER = 5  # frames (100 ms) after its start that it must hold
_ORDER_SLACK = 3  # frames (60 ms) the notes may sit, together, off the matched alignment
ORDER_RISE_DB = 8.0
"""How much every note of a template must rise in the live sound at its place (`order_contrast`)."""


class TaughtSoundError(AssistantError):
    """A sound cannot be taught, found or forgotten; the message says why and what to do."""


# ------------------------------------------------------------------------------------------ features


def tone_map(block: FrameBlock) -> FloatMatrix:
    """Prominence (0-30 dB) of every 10 ms frame of `block` at every bin from 200 Hz to 6 kHz."""
    prominence, _ = block.tones
    return np.clip(prominence, 0.0, _CLIP_DB).astype(np.float32)


def _decimate(frames: FloatMatrix) -> FloatMatrix:
    usable = len(frames) - len(frames) % _DECIMATE
    pairs: FloatMatrix = frames[:usable].reshape(-1, _DECIMATE, frames.shape[1]).max(axis=1)
    return pairs


def _dbfs(audio: AudioArray) -> float:
    peak = float(np.max(np.abs(audio))) if len(audio) else 0.0
    return 20 * float(np.log10(peak)) if peak > 0 else -120.0


@dataclass(frozen=True)
class Note:
    """Where a template's tone starts: its frame and the bins (within the band) that rise together."""

    frame: int
    bins: npt.NDArray[np.int64]


@dataclass(frozen=True)
class Template:
    """One example's tone map, trimmed to where it sounds, over its own band of bins, and its notes."""

    map: FloatMatrix
    band: slice
    notes: tuple[Note, ...] = ()

    @property
    def frames(self) -> int:
        return int(self.map.shape[0])

    @property
    def seconds(self) -> float:
        return self.frames * _DECIMATE / FRAMES_PER_SECOND


def make_template(audio: AudioArray, label: str = "the example") -> Template:
    """The template of one recording. Raises `TaughtSoundError` when nothing in it stands out."""
    if _dbfs(audio) < _SILENT_DBFS:
        raise TaughtSoundError(
            f"{label} is silent (its loudest moment is {_dbfs(audio):.0f} dBFS): record the sound "
            "closer to the microphone, or louder."
        )
    full = _decimate(tone_map(Spectrogram().push(audio)))
    tonal = full >= _TONE_DB
    held = tonal[:-2] & tonal[1:-1] & tonal[2:]  # a tone held for 60 ms somewhere: not noise
    sounding = np.flatnonzero(tonal.any(axis=1))
    if len(full) < 3 or not held.any():
        raise TaughtSoundError(
            f"{label} has no sound that stands out (no tone, chime, beep, buzzer or whistle): record "
            "the sound itself, with as little else as possible. Sounds without a tone (a knock, a click) "
            "cannot be taught yet."
        )
    limit = int(TEMPLATE_SECONDS * FRAMES_PER_SECOND / _DECIMATE)
    first = int(sounding[0])
    trimmed = full[first : sounding[-1] + 1][:limit]
    tonal_bins = np.flatnonzero((trimmed >= _TONE_DB).any(axis=0))
    band = slice(
        max(0, int(tonal_bins[0]) - _BAND_MARGIN), min(len(_BINS), int(tonal_bins[-1]) + _BAND_MARGIN + 1)
    )
    notes = tuple(
        Note(frame - first, bins)
        for frame, bins in find_notes(full[:, band])
        if 0 <= frame - first < len(trimmed)
    )
    return Template(np.ascontiguousarray(trimmed[:, band]), band, notes)


def find_notes(maps: FloatMatrix) -> list[tuple[int, npt.NDArray[np.int64]]]:
    """(frame, bins) where tones start in a tone map: cells that hold `_NOTE_HELD_DB` for three frames
    and rose `_NOTE_JUMP_DB` over the lowest of the three before and over the upper quartile of the eight
    before (a ringing tone that dips for a frame, as decaying partials beat, does not start again);
    starts within two frames of each other are one note (a fundamental and its partials), and a note
    needs `_NOTE_MIN_BINS` bins."""
    frames = len(maps)
    if frames < 4:
        return []
    held = np.zeros(maps.shape, dtype=bool)
    held[: frames - 2] = (
        (maps[:-2] >= _NOTE_HELD_DB) & (maps[1:-1] >= _NOTE_HELD_DB) & (maps[2:] >= _NOTE_HELD_DB)
    )
    lowest_before = np.full(maps.shape, np.inf, dtype=np.float32)
    for back in range(1, 4):
        lowest_before[back:] = np.minimum(lowest_before[back:], maps[:-back])
    padded = np.concatenate([np.repeat(maps[:1], 8, axis=0), maps])
    usual_before = np.percentile(
        np.lib.stride_tricks.sliding_window_view(padded[:-1], 8, axis=0), 75, axis=-1
    ).astype(np.float32)
    rising = held & (maps - lowest_before >= _NOTE_JUMP_DB) & (maps - usual_before >= _NOTE_JUMP_DB)
    rising[1:] &= ~rising[:-1]  # where each rise starts
    starts, bins = np.nonzero(rising)
    notes: list[tuple[int, npt.NDArray[np.int64]]] = []
    for frame in np.unique(starts):
        these = bins[starts == frame].astype(np.int64)
        if notes and frame - notes[-1][0] <= 2:
            notes[-1] = (notes[-1][0], np.union1d(notes[-1][1], these))
        else:
            notes.append((int(frame), these))
    return [(frame, note_bins) for frame, note_bins in notes if len(note_bins) >= _NOTE_MIN_BINS]


def order_contrast(template: Template, maps: FloatMatrix, start: int) -> float:
    """How well the live tone map `maps` (20 ms frames, all bins) keeps `template`'s notes in order and
    time, when the template is laid at frame `start`: the smallest rise, in dB, of any note (most of
    its bins: the 40th percentile) from the upper quartile of the 300 ms before it to the mean of the
    100 ms after it, at the best common shift within 60 ms. A
    template without notes (a sound that swells rather than starts) gives infinity: nothing to check."""
    if not template.notes:
        return float("inf")
    band = maps[:, template.band]
    best = float("-inf")
    for shift in range(-_ORDER_SLACK, _ORDER_SLACK + 1):
        weakest = float("inf")
        for note in template.notes:
            at = start + shift + note.frame
            if at - _ORDER_BEFORE < 0 or at >= len(band):
                weakest = float("-inf")  # the note's surroundings are not heard (yet): no match here
                break
            level = band[at - _ORDER_BEFORE : at + _ORDER_AFTER][:, note.bins]
            # Per bin, from the upper quartile before (a tone already ringing there, which speech can
            # hide for a moment, still shows; the last frame before aside, the note's own attack may
            # be in it) to the mean after; then the 40th percentile over the note's bins, as speech
            # masks some of a note's partials but not most of them.
            usual = np.percentile(level[: _ORDER_BEFORE - 1], 75, axis=0)
            rise = float(np.percentile(level[_ORDER_BEFORE:].mean(axis=0) - usual, 40))
            weakest = min(weakest, rise)
        best = max(best, weakest)
    return best


def similarity(template: Template, maps: FloatMatrix) -> npt.NDArray[np.float64]:
    """Pearson's r between `template` and every window of the tone map `maps` (20 ms frames, all bins)
    that ends at each frame from `template.frames - 1` on."""
    length = template.frames
    count = len(maps) - length + 1
    if count <= 0:
        return np.zeros(0)
    band = np.ascontiguousarray(maps[:, template.band], dtype=np.float32)
    rows, width = band.shape
    # Windows as a strided view (no copy): (count, length, width).
    step_row, step_col = band.strides
    windows = np.lib.stride_tricks.as_strided(
        band, shape=(count, length, width), strides=(step_row, step_row, step_col), writeable=False
    )
    reference = template.map - template.map.mean()
    reference_norm = float(np.sqrt(np.sum(reference**2, dtype=np.float64))) or 1.0
    products = np.tensordot(windows, reference, axes=([1, 2], [0, 1])).astype(np.float64)
    # Window sums and sums of squares from running totals over frames: O(frames), not O(cells).
    frame_sums = np.concatenate([[0.0], np.cumsum(band.sum(axis=1, dtype=np.float64))])
    frame_squares = np.concatenate([[0.0], np.cumsum(np.square(band, dtype=np.float64).sum(axis=1))])
    sums = frame_sums[length:] - frame_sums[:count]
    squares = frame_squares[length:] - frame_squares[:count]
    spread = np.sqrt(np.maximum(squares - sums**2 / (length * width), 1e-9))
    result: npt.NDArray[np.float64] = products / (spread * reference_norm)
    return result


# ------------------------------------------------------------------------------------------ sounds


@dataclass(frozen=True)
class TaughtSound:
    """A sound the user taught: its name, the trimmed example recordings, and how alike they were
    (`agreement`, the lowest similarity of one example to the others; None with a single example)."""

    name: str
    examples: tuple[AudioArray, ...]
    created: float = field(default_factory=time.time)
    agreement: float | None = None

    def templates(self) -> list[Template]:
        return [make_template(example, f"example {index + 1}") for index, example in enumerate(self.examples)]


def _trim(audio: AudioArray) -> AudioArray:
    """The part of a recording that sounds, with 0.2 s either side (silence around costs storage)."""
    frame = SAMPLE_RATE // 50
    usable = len(audio) - len(audio) % frame
    energy = np.mean(np.square(audio[:usable].reshape(-1, frame), dtype=np.float64), axis=1)
    if not len(energy) or energy.max() <= 0:
        return audio
    loud = np.flatnonzero(energy >= energy.max() * 10 ** (-40 / 10))
    margin = int(0.2 * SAMPLE_RATE)
    start = max(0, int(loud[0]) * frame - margin)
    end = min(len(audio), (int(loud[-1]) + 1) * frame + margin + int(TEMPLATE_SECONDS * SAMPLE_RATE))
    return audio[start:end]


def check_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise TaughtSoundError("A taught sound needs a name, such as 'doorbell' or 'kettle'.")
    if cleaned.casefold() in CRITICAL_SOUNDS:
        raise TaughtSoundError(
            f"'{cleaned}' is recognised by its pattern already and cannot be taught: pick another name."
        )
    if len(cleaned) > 60:
        raise TaughtSoundError("That name is too long: use at most 60 characters.")
    return cleaned


def learn_sound(
    name: str, examples: Sequence[AudioArray], labels: Sequence[str] | None = None
) -> TaughtSound:
    """Check 1-5 example recordings and make a taught sound of them. `labels` name the examples in
    messages (file names). Raises `TaughtSoundError` for a silent, too long or featureless example."""
    name = check_name(name)
    if not 1 <= len(examples) <= MAX_EXAMPLES:
        raise TaughtSoundError(f"Teach a sound with 1 to {MAX_EXAMPLES} examples (got {len(examples)}).")
    names = list(labels) if labels is not None else [f"example {i + 1}" for i in range(len(examples))]
    trimmed: list[AudioArray] = []
    templates: list[Template] = []
    for audio, label in zip(examples, names, strict=True):
        if len(audio) > MAX_EXAMPLE_SECONDS * SAMPLE_RATE:
            raise TaughtSoundError(
                f"{label} is {len(audio) / SAMPLE_RATE:.0f} s long: record just the sound (at most "
                f"{MAX_EXAMPLE_SECONDS:.0f} s)."
            )
        templates.append(make_template(audio, label))
        trimmed.append(_trim(audio).astype(np.float32))
    return TaughtSound(name, tuple(trimmed), agreement=_agreement(templates, trimmed))


def _agreement(templates: list[Template], examples: list[AudioArray]) -> float | None:
    """The lowest, over examples, of its best similarity to another example's template."""
    if len(templates) < 2:
        return None
    worst = 1.0
    for index, audio in enumerate(examples):
        padded = np.concatenate([np.zeros(SAMPLE_RATE, np.float32), audio, np.zeros(SAMPLE_RATE, np.float32)])
        maps = _decimate(tone_map(Spectrogram().push(padded)))
        best = max(
            float(np.max(similarity(other, maps), initial=0.0))
            for position, other in enumerate(templates)
            if position != index
        )
        worst = min(worst, best)
    return round(worst, 3)


# ------------------------------------------------------------------------------------------ library


def sounds_dir() -> Path:
    """Where taught sounds are kept: $ASSISTANT_SOUNDS_DIR, else the platform's user data folder."""
    configured = os.environ.get("ASSISTANT_SOUNDS_DIR")
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("assistant")) / "sounds"


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-") or "sound"


class SoundLibrary:
    """The taught sounds on disk. Nothing is read or written until a method is called."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder if folder is not None else sounds_dir()

    def _path(self, name: str) -> Path:
        return self.folder / _slug(name)

    def names(self) -> list[str]:
        return [sound.name for sound in self.load_all()]

    def listed_names(self) -> list[str]:
        """The names of the taught sounds from their small index files alone (the examples are not
        read): cheap enough for a settings page. A damaged entry is left out."""
        if not self.folder.is_dir():
            return []
        names: list[str] = []
        for entry in sorted(self.folder.iterdir()):
            try:
                names.append(str(json.loads((entry / "sound.json").read_text(encoding="utf-8"))["name"]))
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return names

    def load_all(self) -> list[TaughtSound]:
        """Every taught sound; a damaged entry is skipped with a warning rather than stopping the rest."""
        if not self.folder.is_dir():
            return []
        sounds: list[TaughtSound] = []
        for entry in sorted(self.folder.iterdir()):
            if not (entry / "sound.json").is_file():
                continue
            try:
                sounds.append(self._read(entry))
            except (OSError, ValueError, KeyError) as error:
                log.warning("sounds: skipping %s, which is damaged (%s)", entry, error)
        return sounds

    def get(self, name: str) -> TaughtSound:
        path = self._path(check_name(name))
        if not (path / "sound.json").is_file():
            raise TaughtSoundError(
                f"No taught sound is called '{name}'. `assistant sounds list` shows the taught sounds."
            )
        try:
            return self._read(path)
        except (OSError, ValueError, KeyError) as error:
            raise TaughtSoundError(
                f"The taught sound '{name}' in {path} is damaged ({error}): forget it with "
                f'`assistant sounds forget "{name}"` and teach it again.'
            ) from error

    def _read(self, path: Path) -> TaughtSound:
        meta = json.loads((path / "sound.json").read_text(encoding="utf-8"))
        with np.load(path / "examples.npz") as stored:
            examples = tuple(
                (stored[f"example{index}"].astype(np.float32) / 32767.0)
                for index in range(int(meta["examples"]))
            )
        agreement = meta.get("agreement")
        return TaughtSound(
            name=str(meta["name"]),
            examples=examples,
            created=float(meta.get("created", 0.0)),
            agreement=None if agreement is None else float(agreement),
        )

    def add(self, sound: TaughtSound, replace: bool = False) -> Path:
        """Store `sound`. Refuses a name that is taken unless `replace`."""
        path = self._path(sound.name)
        if not replace:
            self.ensure_free(sound.name)
        self.folder.mkdir(parents=True, exist_ok=True)
        staging = self.folder / f".{path.name}.saving-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        arrays = {
            f"example{index}": np.round(np.clip(example, -1, 1) * 32767).astype(np.int16)
            for index, example in enumerate(sound.examples)
        }
        np.savez_compressed(staging / "examples.npz", **arrays)  # type: ignore[arg-type]
        meta = {
            "format": LIBRARY_FORMAT,
            "name": sound.name,
            "created": sound.created,
            "examples": len(sound.examples),
            "agreement": sound.agreement,
        }
        (staging / "sound.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        if path.exists():
            shutil.rmtree(path)
        os.replace(staging, path)
        return path

    def ensure_free(self, name: str, how_to_replace: str | None = None) -> None:
        """Refuse a name already taught, saying how to replace it (`how_to_replace`: the window's
        way; the command line's by default)."""
        path = self._path(check_name(name))
        if (path / "sound.json").is_file():
            existing = self._existing_name(path)
            how = how_to_replace or (
                f'teach it again with --replace, or first run `assistant sounds forget "{existing}"`'
            )
            raise TaughtSoundError(f"A sound called '{existing}' is taught already. To replace it, {how}.")

    def _existing_name(self, path: Path) -> str:
        try:
            return str(json.loads((path / "sound.json").read_text(encoding="utf-8"))["name"])
        except (OSError, ValueError, KeyError):
            return path.name

    def forget(self, name: str) -> str:
        """Delete a taught sound; returns its stored name."""
        path = self._path(check_name(name))
        if not (path / "sound.json").is_file():
            raise TaughtSoundError(
                f"No taught sound is called '{name}'. `assistant sounds list` shows the taught sounds."
            )
        stored = self._existing_name(path)
        shutil.rmtree(path)
        return stored


RECORD_SECONDS = 3.0
"""How long one example recorded in the window lasts: a doorbell's ding-dong and its ring-out."""


def record_example(
    source: AudioSource,
    seconds: float = RECORD_SECONDS,
    stop: threading.Event | None = None,
    patience: float = 3.0,
) -> AudioArray:
    """Record one example: `seconds` of audio from `source` (opened and closed here; a microphone, or
    an `AudioTap` of the captions' capture). Blocks for about `seconds`: call it off the GUI thread.
    A file that ends early gives what it had. Raises `TaughtSoundError` when `stop` is set, and
    `AudioInputError` when no audio arrives for `patience` seconds beyond the recording's length."""
    wanted = int(seconds * SAMPLE_RATE)
    chunks: list[AudioArray] = []
    have = 0
    deadline = time.monotonic() + seconds + patience
    source.open()
    try:
        while have < wanted:
            if stop is not None and stop.is_set():
                raise TaughtSoundError("The recording was stopped.")
            if time.monotonic() > deadline:
                raise AudioInputError(
                    f"No sound came from {source.description} for {seconds + patience:.0f} s: check that "
                    "the microphone is connected and not muted."
                )
            try:
                chunk = source.read(timeout=0.1)
            except EndOfAudio:
                break
            if len(chunk):
                chunks.append(np.asarray(chunk, dtype=np.float32))
                have += len(chunk)
    finally:
        source.close()
    audio = np.concatenate(chunks)[:wanted] if chunks else np.zeros(0, np.float32)
    if len(audio) < SAMPLE_RATE // 4:
        raise TaughtSoundError(f"{source.description} gave no audio to record.")
    return audio


def load_examples(paths: Sequence[Path]) -> list[AudioArray]:
    """Decode example files; an unreadable one raises `TaughtSoundError` naming it."""
    from assistant.audio.sources import load_audio_file

    audio: list[AudioArray] = []
    for path in paths:
        if not path.is_file():
            raise TaughtSoundError(f"Example {path} not found: check the path.")
        try:
            audio.append(load_audio_file(path))
        except AudioInputError as error:
            raise TaughtSoundError(f"Example {path.name} cannot be used: {error}") from error
    return audio


# ------------------------------------------------------------------------------------------ matching


@dataclass
class _Heard:
    """A sound over its bar: its best match so far (alerted once the match stops improving)."""

    score: float
    start: float
    best_at: float
    last: float
    alerted: bool = False


_PEAK_WAIT = 0.1  # seconds a match must stop improving before it is alerted (its best alignment)


class TaughtSoundMatcher:
    """Listens for taught sounds on the shared spectrum: `process_frames(block)` returns an alert when a
    sound's best template reaches its bar, and an "ended" event when it has stopped matching."""

    def __init__(self, sounds: Sequence[TaughtSound]) -> None:
        self.sounds = list(sounds)
        self._templates = [(sound.name, template) for sound in self.sounds for template in sound.templates()]
        self._longest = max((template.frames for _, template in self._templates), default=0)
        self.required: dict[str, float] = {sound.name: 0.5 for sound in self.sounds}
        """Confidence each sound needs (the sensitivity setting moves it)."""
        self.order_rejected = 0
        """Matches over the bar that the note-order check turned down (for the benchmark)."""
        self._maps = np.zeros((0, len(_BINS)), np.float32)
        self._odd: FloatMatrix | None = None  # a 10 ms frame waiting for its pair
        self._first_frame = 0  # index (20 ms) of self._maps[0]
        self._heard: dict[str, _Heard] = {}

    @staticmethod
    def confidence(score: float) -> float:
        """Similarity to confidence: the default bar (r = 0.5) is 0.5, r = 0.9 or more is 1."""
        return round(float(np.clip(0.5 + (score - DEFAULT_BAR) * 1.25, 0.0, 1.0)), 3)

    def process_frames(self, block: FrameBlock) -> list[AlertEvent]:
        if not self._templates or len(block) == 0:
            return []
        maps = tone_map(block)
        if self._odd is not None:
            maps = np.concatenate([self._odd[None, :], maps])
        self._odd = maps[-1] if len(maps) % _DECIMATE else None
        fresh = _decimate(maps)
        if not len(fresh):
            return []
        # The template's length, and the frames before it that its first note must rise from.
        kept = max(self._longest - 1, 0) + _ORDER_BEFORE + _ORDER_SLACK
        history = self._maps[-kept:]
        self._first_frame += len(self._maps) - len(history)
        self._maps = np.concatenate([history, fresh])
        now = self._time(len(self._maps) - 1)
        best: dict[str, tuple[float, float]] = {}
        for name, template in self._templates:
            scores = similarity(template, self._maps[-(template.frames + len(fresh) - 1) :])
            if not len(scores):
                continue
            index = int(np.argmax(scores))
            end_frame = len(self._maps) - len(scores) + index
            start = self._time(end_frame - template.frames + 1)
            score = float(scores[index])
            over_bar = self.confidence(score) >= self.required.get(name, 0.5)
            if not over_bar or score <= best.get(name, (-1.0, 0.0))[0]:
                continue
            # The costlier check, only for a match: are the notes there, in order and in time?
            if order_contrast(template, self._maps, end_frame - template.frames + 1) < ORDER_RISE_DB:
                self.order_rejected += 1
                continue
            best[name] = (score, start)
        return self._decide(best, now)

    def _time(self, index: int) -> float:
        """Audio seconds at the start of 20 ms map frame `index` (relative to self._maps)."""
        return frame_time((self._first_frame + index) * _DECIMATE) - 0.5 / FRAMES_PER_SECOND

    def _decide(self, best: dict[str, tuple[float, float]], now: float) -> list[AlertEvent]:
        events: list[AlertEvent] = []
        for name, (score, start) in best.items():
            if self.confidence(score) < self.required.get(name, 0.5):
                continue
            heard = self._heard.get(name)
            if heard is None:
                self._heard[name] = _Heard(score, start, now, now)
            else:
                heard.last = now
                if score > heard.score and not heard.alerted:
                    heard.score, heard.start, heard.best_at = score, start, now
        for name, heard in list(self._heard.items()):
            if not heard.alerted and (now - heard.best_at >= _PEAK_WAIT or heard.last < now):
                heard.alerted = True
                events.append(
                    AlertEvent(
                        sound=name,
                        start=heard.start,
                        at=now,
                        confidence=self.confidence(heard.score),
                        detector="taught",
                    )
                )
            if now - heard.last > 1.0:
                del self._heard[name]
                events.append(
                    AlertEvent(
                        sound=name,
                        start=heard.start,
                        at=now,
                        confidence=1.0,
                        detector="taught",
                        kind="ended",
                        end=heard.last,
                    )
                )
        return events

    def finish(self) -> list[AlertEvent]:
        events: list[AlertEvent] = []
        for name, heard in self._heard.items():
            if not heard.alerted:
                confidence = self.confidence(heard.score)
                events.append(AlertEvent(name, heard.start, heard.last, confidence, "taught"))
            events.append(AlertEvent(name, heard.start, heard.last, 1.0, "taught", "ended", heard.last))
        self._heard.clear()
        return events
