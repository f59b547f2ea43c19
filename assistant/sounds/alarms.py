"""Smoke and carbon-monoxide alarms recognised by their rhythm, without a model.

Alarm sounders are standardised (ISO 8201, NFPA 72): smoke and fire alarms beep the temporal-three
pattern T3, (0.5 s on, 0.5 s off) three times then 1.5 s off; carbon-monoxide alarms beep T4, four
0.1 s beeps 0.1 s apart then about 5 s off. The tone can be anywhere from about 400 Hz to 4 kHz (most are
3-3.5 kHz piezos; some sleeping-area alarms use a 520 Hz square wave).

How it listens, on the shared 10 ms spectrum (`assistant.sounds.spectrum`):

1. **Tones**: every frequency bin from 400 Hz to 4 kHz has a *prominence*: the power of the bin and its
   two neighbours over the geometric mean of the bins 3-12 away (±375 Hz), here smoothed over three
   frames. An alarm's tone stands 20-50 dB out of speech 10 dB louder than it; a voice's harmonics
   rarely hold 12 dB in one bin for long, and never to a beat.
2. **Beeps**: per bin, a run of frames over 12 dB (kept up while over 8 dB, gaps up to 30 ms bridged),
   counted only in the bins next to the tone's own peak, is a beep with a start, an end, a pitch (the
   peak refined by a parabola, to a few Hz) and a mean prominence.
3. **Rhythm**, per bin and at one pitch (beeps within 8 Hz, or 0.5 % above 1.6 kHz, of each other), so
   a voice passing through the bin neither makes nor breaks an alarm:
   - T3: beeps of 0.3-0.75 s (pieces under 0.12 s apart joined, as speech can cut a beep in two), each
     onset-to-onset interval short (0.8-1.25 s with a 0.3-0.7 s gap) or long (1.6-2.45 s with a
     1.1-1.95 s gap). The longest stretch that keeps the cycle short-short-long counts once it has four
     beeps and two short intervals in a row: about 4.3 s after the alarm starts. Two beeps and a pause
     (a kitchen timer) or an even beat (a metronome) never make that.
   - T4: groups of 2-4 beeps of about 0.1 s, 0.15-0.25 s apart (one lost beep allowed), without the
     stray tones of a voice; the groups' first beeps 5-6.5 s apart. Counts from the second beep of the
     second group: about 6 s after the alarm starts. A kitchen timer's quick beeps repeat after about a
     second, not five.
4. **Confidence** (`alarm_confidence`): how far the beeps stand out, whether they keep the standard's
   timing closely, how many cycles have gone by, and whether other tones at that pitch, about as loud
   (not a voice's weaker harmonic passing by), fill the silences. A rhythm must reach the bar (0.5 at
   the default sensitivity) to be alerted on; a weak one is alerted on a cycle later, when the rhythm
   has gone on.

An alarm is alerted on once; when its beeps have been gone for two of its cycles an "ended" event says
how long it lasted. The tone tracking is vectorised over bins; the cost is about 1.3 % of a core.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from assistant.audio.source import AudioArray
from assistant.sounds.spectrum import (
    BIN_HZ,
    FRAMES_PER_SECOND,
    FULL_SCALE_TONE,
    TONE_BINS,
    TONE_HIGH_HZ,
    TONE_LOW_HZ,
    FloatMatrix,
    FrameBlock,
    Spectrogram,
    frame_time,
    prominence_bins,
)
from assistant.sounds.types import CO_ALARM, SMOKE_ALARM, AlertEvent

log = logging.getLogger("assistant.sounds.alarms")

_SMOOTH = 3  # frames averaged (causal), so a tone must hold its bin for 30 ms
_NEVER = np.int64(1 << 40)  # the start of a segment with no frame loud enough to start a beep

BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class AlarmSettings:
    """Thresholds of the pattern detector. The defaults are what `bench/alerts_accuracy.py` measures."""

    low_hz: float = 400.0
    high_hz: float = 4000.0
    on_db: float = 12.0
    """A bin's prominence that starts a beep."""
    hold_db: float = 8.0
    """A beep goes on while its bin stays this prominent (hysteresis)."""
    min_level_db: float = -70.0
    """A quieter tone is ignored (dB relative to a full-scale sine)."""
    gap_fill_s: float = 0.03
    history_s: float = 14.0


@dataclass(frozen=True)
class Run:
    """A beep in one frequency bin: audio seconds it started and ended, its mean prominence (dB).
    `complete` is False for a beep still sounding (reported once it is long enough to matter)."""

    bin: int
    start: float
    end: float
    prominence: float
    complete: bool = True
    offset: float = 0.0
    """Where the tone peaks relative to the bin, in bins (-1.5..1.5), averaged over the beep."""
    wobble: float = 0.0
    """Standard deviation of that offset over the beep: a piezo holds its pitch, a voice does not."""

    @property
    def hz(self) -> float:
        return (self.bin + self.offset) * BIN_HZ

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class _Segments:
    """A block's beep candidates, one per segment of a bin's sounding frames: its bin (column of the
    block), first loud frame (`_NEVER` if none) and last sounding frame relative to the block, its sums
    (prominence, frames, offset, offset squared) and whether it was already reported while sounding."""

    bins: npt.NDArray[np.intp]
    start: npt.NDArray[np.int64]
    last: npt.NDArray[np.int64]
    totals: npt.NDArray[np.float64]
    reported: BoolArray


class ToneRuns:
    """Per-bin tone beeps from the shared spectrum: `process(block)` returns beeps that ended, and beeps
    still sounding once they pass `report_ongoing_s` (so the T3 rhythm can be confirmed early)."""

    def __init__(self, settings: AlarmSettings, report_ongoing_s: float = 0.3) -> None:
        self.settings = settings
        self.bins = prominence_bins(max(settings.low_hz, TONE_LOW_HZ), min(settings.high_hz, TONE_HIGH_HZ))
        self._columns = np.searchsorted(TONE_BINS, self.bins)
        bins = len(self.bins)
        self._previous: FloatMatrix = np.zeros((0, bins), np.float32)
        self._active = np.zeros(bins, dtype=bool)
        self._reported = np.zeros(bins, dtype=bool)
        self._start = np.zeros(bins, dtype=np.int64)
        self._last_on = np.zeros(bins, dtype=np.int64)
        self._sum = np.zeros(bins, dtype=np.float64)
        self._count = np.zeros(bins, dtype=np.int64)
        self._offset_sum = np.zeros(bins, dtype=np.float64)
        self._offset_squares = np.zeros(bins, dtype=np.float64)
        self._gap_frames = int(round(settings.gap_fill_s * FRAMES_PER_SECOND))
        self._ongoing_frames = int(round(report_ongoing_s * FRAMES_PER_SECOND))
        self._min_level = FULL_SCALE_TONE * 10 ** (settings.min_level_db / 10)

    def process(self, block: FrameBlock) -> list[Run]:
        if len(block) == 0:
            return []
        prominence, tone = block.tones
        raw = np.where(
            tone[:, self._columns] >= self._min_level, prominence[:, self._columns], np.float32(-99.0)
        )
        history = np.concatenate([self._previous, raw])
        smoothed = history.copy()
        for shift in range(1, _SMOOTH):
            smoothed[shift:] += history[:-shift]
        smoothed /= _SMOOTH
        smoothed = smoothed[len(self._previous) :]
        if len(history) < _SMOOTH:  # the very first frames: average what there is
            smoothed = raw
        self._previous = history[-(_SMOOTH - 1) :]
        offsets = self._peak_offsets(block.power)
        return self._runs(block.first, smoothed, offsets)

    def _peak_offsets(self, power: FloatMatrix) -> FloatMatrix:
        """Where the tone that lights each bin actually peaks, in bins relative to it (-1.5..1.5): the
        strongest of the bin and its two neighbours, refined by a parabola through the log power there."""
        k = self.bins
        logs = np.log(power[:, k[0] - 3 : k[-1] + 4] + np.float32(1e-12))  # bins k-3 .. k+3
        width = len(k)
        centre = logs[:, 3 : 3 + width]
        left, right = logs[:, 2 : 2 + width], logs[:, 4 : 4 + width]
        step = np.where(left > np.maximum(centre, right), -1, np.where(right > centre, 1, 0))
        rows = np.arange(len(power))[:, None]
        peak = np.arange(width)[None, :] + 3 + step
        below, at, above = logs[rows, peak - 1], logs[rows, peak], logs[rows, peak + 1]
        curvature = below - 2 * at + above
        safe = np.where(curvature < -1e-6, curvature, np.float32(-1e-6))
        refined = np.clip(0.5 * (below - above) / safe, -0.5, 0.5)
        result: FloatMatrix = (step + refined).astype(np.float32)
        return result

    def _runs(self, first: int, values: FloatMatrix, offsets: FloatMatrix) -> list[Run]:
        """Beeps in this block, for all bins at once.

        A beep starts at a frame over `on_db` and goes on through frames over `hold_db` until more than
        `gap_fill_s` of frames fall under it; only bins next to the tone's own peak count (a loud tone's
        skirts light up bins +-4 away). Each bin's beeps are segments of its sounding frames; a beep
        still sounding at the end of the block is carried over to the next in the per-bin state."""
        near_peak = np.abs(offsets) <= 1.0
        hold = near_peak & (values >= self.settings.hold_db)
        columns = np.flatnonzero(hold.any(axis=0) | self._active)
        if not len(columns):
            return []
        segments = self._segments(first, values, offsets, hold, columns)
        beeps = segments.start < _NEVER
        closed = segments.last + self._gap_frames + 1 <= len(values) - 1
        self._active[columns] = False  # everything looked at is settled afresh
        open_beeps = np.flatnonzero(beeps & ~closed)
        due = self._carry_over(first, segments, open_beeps)
        runs = [
            self._make_run(segments, index, first, complete=True) for index in np.flatnonzero(beeps & closed)
        ]
        runs += [self._make_run(segments, index, first, complete=False) for index in open_beeps[due]]
        runs.sort(key=lambda run: run.end)
        return runs

    def _segments(
        self,
        first: int,
        values: FloatMatrix,
        offsets: FloatMatrix,
        hold: BoolArray,
        columns: npt.NDArray[np.intp],
    ) -> _Segments:
        """Each bin's sounding frames split where more than the gap falls silent, joined to the beep the
        bin carried over from the last block."""
        strong = values[:, columns] >= self.settings.on_db
        column_of, frame_of = np.nonzero(hold[:, columns].T)
        carried = np.flatnonzero(self._active[columns])
        bins = columns[carried]
        # Every sounding frame, plus one stand-in per carried beep holding what it has gathered so far.
        column_all = np.concatenate([column_of, carried])
        frame_all = np.concatenate([frame_of, self._last_on[bins] - first])
        start_all = np.concatenate(
            [np.where(strong[frame_of, column_of], frame_of, _NEVER), self._start[bins] - first]
        )
        picked_values = values[frame_of, columns[column_of]].astype(np.float64)
        picked_offsets = offsets[frame_of, columns[column_of]].astype(np.float64)
        sums = np.stack(
            [
                np.concatenate([picked_values, self._sum[bins]]),
                np.concatenate([np.ones(len(frame_of)), self._count[bins].astype(np.float64)]),
                np.concatenate([picked_offsets, self._offset_sum[bins]]),
                np.concatenate([picked_offsets**2, self._offset_squares[bins]]),
            ]
        )
        reported_all = np.concatenate([np.zeros(len(frame_of), bool), self._reported[bins]])
        order = np.lexsort((frame_all, column_all))
        column_all, frame_all, start_all = column_all[order], frame_all[order], start_all[order]
        sums, reported_all = sums[:, order], reported_all[order]
        new = np.ones(len(order), bool)
        new[1:] = (column_all[1:] != column_all[:-1]) | (
            frame_all[1:] - frame_all[:-1] > self._gap_frames + 1
        )
        heads = np.flatnonzero(new)
        segment = np.cumsum(new) - 1
        run_start = np.minimum.reduceat(start_all, heads)
        inside = frame_all >= run_start[segment]  # frames before the first loud one are not the beep
        return _Segments(
            bins=columns[column_all[heads]],
            start=run_start,
            last=np.maximum.reduceat(np.where(inside, frame_all, -_NEVER), heads),
            totals=np.add.reduceat(sums * inside, heads, axis=1),
            reported=np.logical_or.reduceat(reported_all, heads),
        )

    def _carry_over(self, first: int, segments: _Segments, open_beeps: npt.NDArray[np.intp]) -> BoolArray:
        """Keep the beeps still sounding at the block's end in the per-bin state; which of them have
        gone on long enough to be reported while still sounding (once each)."""
        open_bins = segments.bins[open_beeps]
        totals = segments.totals[:, open_beeps]
        self._active[open_bins] = True
        self._start[open_bins] = segments.start[open_beeps] + first
        self._last_on[open_bins] = segments.last[open_beeps] + first
        self._sum[open_bins], self._count[open_bins] = totals[0], totals[1]
        self._offset_sum[open_bins], self._offset_squares[open_bins] = totals[2], totals[3]
        length = segments.last[open_beeps] - segments.start[open_beeps] + 1
        due: BoolArray = (length >= self._ongoing_frames) & ~segments.reported[open_beeps]
        self._reported[open_bins] = segments.reported[open_beeps] | due
        return due

    def _make_run(self, segments: _Segments, index: np.intp, first: int, *, complete: bool) -> Run:
        """Segment `index` of a block whose first frame is `first`, as a beep in stream time."""
        column = segments.bins[index]
        start, last = int(segments.start[index]) + first, int(segments.last[index]) + first
        # The smoothing delays a frame's value by one frame; a frame spans half a hop either side.
        half_hop = 0.5 / FRAMES_PER_SECOND
        value_sum, count, offset_sum, offset_squares = (float(v) for v in segments.totals[:, index])
        count = max(count, 1.0)
        offset = offset_sum / count
        spread = offset_squares / count - offset**2
        return Run(
            bin=int(self.bins[column]),
            start=frame_time(start - 1) - half_hop,
            end=frame_time(last - 1) + half_hop,
            prominence=value_sum / count,
            complete=complete,
            offset=offset,
            wobble=float(np.sqrt(max(0.0, spread))),
        )


# ------------------------------------------------------------------------------------------- rhythm


@dataclass
class _Alarm:
    """An alarm alerted on and still sounding: where and when it was last heard."""

    sound: str
    start: float
    bins: set[int]
    last_heard: float
    timeout: float


@dataclass
class _BinHistory:
    runs: list[Run] = field(default_factory=list)
    ongoing: Run | None = None


def _coalesce(runs: list[Run], max_gap: float, max_length: float) -> list[Run]:
    """Join pieces of one beep that speech cut apart (gaps under `max_gap`, the whole under
    `max_length`, at least 70 % of it sounding). The joined beep's pitch and prominence are the pieces'
    averages weighted by their lengths."""
    joined: list[Run] = []
    sounding: list[float] = []
    for run in runs:
        last = joined[-1] if joined else None
        if (
            last is not None
            and run.start - last.end < max_gap
            and run.end - last.start <= max_length
            and sounding[-1] + run.duration >= 0.7 * (run.end - last.start)
        ):
            a, b = sounding[-1], run.duration
            joined[-1] = Run(
                bin=last.bin,
                start=last.start,
                end=run.end,
                prominence=(last.prominence * a + run.prominence * b) / max(a + b, 1e-6),
                complete=run.complete,
                offset=(last.offset * a + (run.offset + run.bin - last.bin) * b) / max(a + b, 1e-6),
                wobble=max(last.wobble, run.wobble),
            )
            sounding[-1] = a + b
        else:
            joined.append(run)
            sounding.append(run.duration)
    return joined


def _pitch_tolerance(hz: float) -> float:
    return max(8.0, 0.005 * hz)


def _same_pitch(beeps: list[Run]) -> bool:
    """One sounder: every beep within 8 Hz (0.5 % above 1.6 kHz) of their median pitch."""
    pitches = [beep.hz for beep in beeps]
    centre = float(np.median(pitches))
    return all(abs(pitch - centre) <= _pitch_tolerance(centre) for pitch in pitches)


def _at_pitches_of_latest(runs: list[Run], longest: float, count: int = 4) -> list[list[Run]]:
    """For each distinct pitch among the newest few runs up to `longest` s long, the runs at that
    pitch: other tones in the same bin (a voice passing through) neither make nor break its rhythm."""
    anchors: list[float] = []
    for run in reversed(runs):
        if 0.05 <= run.duration <= longest and all(
            abs(run.hz - known) > _pitch_tolerance(known) for known in anchors
        ):
            anchors.append(run.hz)
            if len(anchors) == count:
                break
    return [
        [run for run in runs if abs(run.hz - anchor) <= 1.5 * _pitch_tolerance(anchor)] for anchor in anchors
    ]


_STRAY_BELOW_DB = 8.0
"""A tone this much weaker than the beeps is not the same sounder's (a timer's or a tune's notes are as
loud as its others): a voice's harmonic passing the alarm's pitch, which does not count as a stray."""


def _strays(runs: list[Run], beeps: list[Run]) -> int:
    """Tones at the beeps' pitch, and about as loud, in the silences between them (pieces of the beeps
    themselves aside). A blip under 50 ms is no timer's or tune's note (nor part of any pattern, see
    `AlarmPatternDetector.process_frames`): a voice at a low alarm's pitch (450 Hz) leaves them in its
    silences, and two of them (with one longer tone) held a CO alarm back a whole cycle."""
    centre = float(np.median([beep.hz for beep in beeps]))
    tolerance = _pitch_tolerance(centre)
    weakest = float(np.median([beep.prominence for beep in beeps])) - _STRAY_BELOW_DB
    inside = [(beep.start - 0.2, beep.end + 0.2) for beep in beeps]
    return sum(
        1
        for run in runs
        if beeps[0].start < run.start < beeps[-1].start
        and run.duration >= 0.05
        and abs(run.hz - centre) <= tolerance
        and run.prominence >= weakest
        and not any(start <= run.start and run.end <= end for start, end in inside)
    )


def _t3_interval(first: Run, second: Run) -> str:
    onset_gap = second.start - first.start
    silence = second.start - first.end
    if 0.8 <= onset_gap <= 1.25 and 0.3 <= silence <= 0.7:
        return "S"
    if 1.6 <= onset_gap <= 2.45 and 1.1 <= silence <= 1.95:
        return "L"
    return "X"


_T3_CYCLE = "SSL" * 8


def _match_t3(runs: list[Run]) -> list[Run] | None:
    """The longest stretch of beeps at the end of `runs` (one bin's recent tones, at one pitch) that
    keeps the T3 rhythm, if it has at least four beeps and two short intervals in a row; else None."""
    beeps: list[Run] = []
    for run in _coalesce(runs, max_gap=0.12, max_length=0.75):
        if run.duration > 0.75:
            beeps = []  # a held tone is not part of a beep pattern: start again after it
        elif run.duration >= 0.3:
            beeps.append(run)
    if len(beeps) < 4:
        return None
    codes = "".join(_t3_interval(a, b) for a, b in zip(beeps, beeps[1:], strict=False))
    length = 0
    while length < len(codes) and codes[len(codes) - length - 1 :] in _T3_CYCLE:
        length += 1
    # "SLS" alone is also two beeps and a pause, twice (a kitchen timer): a T3 needs "SS" somewhere.
    if length < 3 or "SS" not in codes[len(codes) - length :]:
        return None
    # Three short intervals in a row never happen in T3: that is an even beat (a metronome, a timer)
    # that lost a beep under speech, which is how it made a "long" interval.
    if "SSS" in codes:
        return None
    matched = beeps[-length - 1 :]
    durations = [beep.duration for beep in matched]
    if max(durations) > 1.6 * min(durations) or not _same_pitch(matched):
        return None
    return matched


_MERGED_BEEP = 0.2  # a T4 beep longer than this ran into another sound at its pitch (a voice)
_RUN_ON_BEEP = 0.14  # a T4 beep longer than this (0.1 s +8 %, and a frame) may have run into one


def _t4_groups(runs: list[Run]) -> list[list[Run]]:
    """One bin's short beeps grouped by onsets under 0.5 s apart (a tone held over 0.45 s ends a
    group), each group without members off its pitch, or weaker than 25 dB and 20 dB weaker than its
    loudest (a voice's passing tone beside a loud alarm)."""
    groups: list[list[Run]] = []
    current: list[Run] = []
    for run in runs:
        if run.duration > 0.45:
            if current:
                groups.append(current)
            current = []
            continue
        if run.duration < 0.05:
            continue
        if current and run.start - current[-1].start > 0.5:
            groups.append(current)
            current = []
        current.append(run)
    if current:
        groups.append(current)
    cores = []
    for group in groups:
        loudest = max(run.prominence for run in group)
        pitch = float(np.median([run.hz for run in group]))
        tolerance = _pitch_tolerance(pitch)
        cores.append(
            [
                run
                for run in group
                if run.prominence >= min(loudest - 20.0, 25.0) and abs(run.hz - pitch) <= tolerance
            ]
        )
    return cores


def _t4_group_ok(group: list[Run]) -> bool:
    """2-4 beeps 0.15-0.25 s apart onset to onset with silences between them, or one 0.32-0.5 s
    interval where a beep was lost under speech; the beeps about 0.1 s long (median 0.07-0.14 s: a
    timer's 0.15 s beeps are not, nor the quick notes of a tune). One beep may run on into a voice at
    its pitch (up to 0.45 s): only its onset counts."""
    if not 2 <= len(group) <= 4 or group[-1].start - group[0].start > 0.75:
        return False
    if sum(1 for run in group if run.duration > _MERGED_BEEP) > 1:
        return False
    if not 0.07 <= float(np.median([run.duration for run in group])) <= 0.14:
        return False
    pairs = list(zip(group, group[1:], strict=False))
    # Times are whole 10 ms frames: rounded, so a gap of exactly 40 ms is not lost to a float's last bit
    # (it was: a CO alarm at 450 Hz under louder speech went unheard, bench/alerts_accuracy.py).
    if any(a.duration <= _MERGED_BEEP and round(b.start - a.end, 3) < 0.04 for a, b in pairs):
        return False
    normal = wide = 0
    for a, b in pairs:
        # A beep that ran into a voice at its pitch *before* it starts early, so its onset is off by
        # up to 0.1 s (a CO alarm at 450 Hz under speech lost its first group, and was alerted a cycle
        # late, to that: onsets 0.28 s apart). Its end is still the beep's: time such a pair by ends.
        spacings = [round(b.start - a.start, 3)]
        if max(a.duration, b.duration) > _RUN_ON_BEEP:
            spacings.append(round(b.end - a.end, 3))
        if any(0.15 <= gap <= 0.25 for gap in spacings):
            normal += 1
        elif any(0.32 <= gap <= 0.5 for gap in spacings):
            wide += 1
    return normal + wide == len(pairs) and wide <= 1


def _match_t4(runs: list[Run]) -> list[Run] | None:
    """The longest chain of beep groups at the end of `runs` (one bin, one pitch) that keeps the T4
    rhythm: groups of 3-4 beeps whose first beeps are 5-6.5 s apart, the newest group possibly still
    only two beeps in; at least two groups. Lone tones between groups are ignored, and one pair of
    them; more, or a group of three, in the silence (a timer's) breaks the chain."""
    groups = [group for group in _t4_groups(runs) if len(group) >= 2]
    if len(groups) < 2 or not _t4_group_ok(groups[-1]):
        return None
    chain = [groups[-1]]
    strays = 0
    for group in reversed(groups[:-1]):
        full = len(group) >= 3 and _t4_group_ok(group)
        spacing = chain[0][0].start - group[0].start
        if spacing < 5.0:
            strays += 1
            if full or strays > 1:
                break  # beeps in the silence: a timer's (some of its groups half lost under speech)
            continue  # two tones of a voice that happen to be 0.2 s apart
        if not full or spacing > 6.5:
            break
        chain.insert(0, group)
        strays = 0
    if len(chain) < 2:
        return None
    matched = [beep for group in chain for beep in group]
    return matched if _same_pitch(matched) else None


def _extra_cycles(sound: str, beeps: list[Run]) -> float:
    """Evidence beyond the shortest pattern, in alarm cycles: a T3 cycle is three more beeps; for T4,
    each group after the second is a cycle and a beep missing from the first 4 + 2 is a quarter less."""
    if sound == SMOKE_ALARM:
        return (len(beeps) - 4) / 3
    groups = 1 + sum(1 for a, b in zip(beeps, beeps[1:], strict=False) if b.start - a.start > 1.0)
    if groups > 2:
        return float(groups - 2)
    return min(0, len(beeps) - 6) / 4


def _on_the_beat(sound: str, beeps: list[Run]) -> bool:
    """Whether a matched rhythm keeps the standard's timing closely (every beep and interval within
    about 12 %, as a sounder does), rather than loosely (as a melody that wanders into it)."""
    onsets = [b.start - a.start for a, b in zip(beeps, beeps[1:], strict=False)]
    if sound == SMOKE_ALARM:
        return all(0.38 <= beep.duration <= 0.62 for beep in beeps) and all(
            0.88 <= gap <= 1.12 or 1.76 <= gap <= 2.24 for gap in onsets
        )
    return all(0.07 <= beep.duration <= 0.13 for beep in beeps) and all(
        0.175 <= gap <= 0.225 or 0.35 <= gap <= 0.45 or 5.2 <= gap <= 6.2 for gap in onsets
    )


def alarm_confidence(sound: str, beeps: list[Run], strays: int) -> float:
    """How sure a matched rhythm is an alarm, 0..1; 0.5 is the default bar.

    Measured on speech, music and alarms mixed at 0 to -10 dB (`bench/alerts_accuracy.py`): real
    alarms' beeps stand a median 21-46 dB out of their surroundings in speech (16 dB in loud white
    noise), while the few melodies that fall into an alarm's rhythm stand 12-20 dB out. So the shortest
    pattern needs 21 dB to reach 0.5, or 15 dB when it keeps the standard's timing closely; each
    further cycle of the rhythm counts as 8 dB (an alarm keeps going; a melody moves on), and a tone at
    that pitch in the silences takes some away."""
    prominence = float(np.median([beep.prominence for beep in beeps]))
    extra = min(_extra_cycles(sound, beeps), 2.0)
    timing = 6.0 if _on_the_beat(sound, beeps) else 0.0
    score = 0.5 + (prominence - 21.0 + timing + 8.0 * extra) / 40.0 - 0.1 * strays
    return round(float(np.clip(score, 0.0, 1.0)), 3)


class AlarmPatternDetector:
    """Recognises T3 (smoke) and T4 (carbon monoxide) alarms from the shared spectrum.

    Feed it every `FrameBlock` in order with `process_frames`; it returns an alert the first time an
    alarm's rhythm is complete, and an "ended" event once the alarm has been silent for two cycles."""

    _T3_TIMEOUT = 8.0  # two T3 cycles
    _T4_TIMEOUT = 11.5  # two T4 cycles

    def __init__(self, settings: AlarmSettings | None = None) -> None:
        self.settings = settings or AlarmSettings()
        self.tones = ToneRuns(self.settings)
        self.required: dict[str, float] = {SMOKE_ALARM: 0.5, CO_ALARM: 0.5}
        """Confidence an alarm needs before it is alerted on (the sensitivity setting moves it)."""
        self._bins: dict[int, _BinHistory] = {}
        self._sounding: dict[str, _Alarm] = {}
        self._now = 0.0
        self._tidied = 0.0

    def process_frames(self, block: FrameBlock) -> list[AlertEvent]:
        events: list[AlertEvent] = []
        runs = self.tones.process(block)
        if len(block):
            self._now = frame_time(block.first + len(block) - 1)
        touched: set[int] = set()
        for run in runs:
            history = self._bins.setdefault(run.bin, _BinHistory())
            if run.complete:
                history.ongoing = None
                if run.duration >= 0.03:
                    history.runs.append(run)
            else:
                history.ongoing = run
            if run.duration >= 0.05:  # shorter blips (most of them, in speech) can complete no pattern
                touched.add(run.bin)
        for bin_index in sorted(touched):
            events.extend(self._match(bin_index))
        events.extend(self._expire())
        if self._now - self._tidied > 1.0:
            self._forget_old()
            self._tidied = self._now
        return events

    def _match(self, bin_index: int) -> Iterator[AlertEvent]:
        history = self._bins[bin_index]
        runs = history.runs + ([history.ongoing] if history.ongoing is not None else [])
        for sound, candidates, matcher, timeout, longest in (
            (SMOKE_ALARM, runs, _match_t3, self._T3_TIMEOUT, 0.75),
            (CO_ALARM, history.runs, _match_t4, self._T4_TIMEOUT, 0.45),
        ):
            for nearby in _at_pitches_of_latest(candidates, longest):
                matched = matcher(nearby)
                if matched is not None:
                    break
            else:
                continue
            alarm = self._sounding.get(sound)
            if alarm is not None:
                alarm.bins.add(bin_index)
                alarm.last_heard = max(alarm.last_heard, matched[-1].end)
                continue
            strays = _strays(nearby, matched)
            if strays > 1:
                continue  # its silences are full of tones at its pitch: a timer or a tune, half heard
            confidence = alarm_confidence(sound, matched, strays)
            if confidence < self.required.get(sound, 0.5):
                continue
            start = matched[0].start
            self._sounding[sound] = _Alarm(sound, start, {bin_index}, matched[-1].end, timeout)
            log.info("sounds: %s at %.0f Hz from %.2f s", sound, matched[-1].hz, start)
            yield AlertEvent(
                sound=sound, start=start, at=self._now, confidence=confidence, detector="pattern"
            )
        if runs:
            self._heard(bin_index, runs[-1])

    def _heard(self, bin_index: int, latest: Run) -> None:
        """Keep an alarm alive while beeps of its kind go on in (or next to) the bins it was found in."""
        for alarm in self._sounding.values():
            if not any(abs(bin_index - known) <= 1 for known in alarm.bins):
                continue
            if alarm.sound == SMOKE_ALARM:
                fits = 0.3 <= latest.duration <= 0.75
            else:
                fits = 0.05 <= latest.duration <= 0.2
            if fits:
                alarm.last_heard = max(alarm.last_heard, latest.end)

    def _expire(self) -> Iterator[AlertEvent]:
        for sound, alarm in list(self._sounding.items()):
            if self._now - alarm.last_heard > alarm.timeout:
                del self._sounding[sound]
                yield AlertEvent(
                    sound=sound,
                    start=alarm.start,
                    at=self._now,
                    confidence=1.0,
                    detector="pattern",
                    kind="ended",
                    end=alarm.last_heard,
                )

    def _forget_old(self) -> None:
        horizon = self._now - self.settings.history_s
        for bin_index in list(self._bins):
            history = self._bins[bin_index]
            if history.runs and history.runs[0].end < horizon:
                history.runs = [run for run in history.runs if run.end >= horizon]
            if not history.runs and history.ongoing is None:
                del self._bins[bin_index]

    def finish(self) -> list[AlertEvent]:
        """The end of the audio: every alarm still sounding has ended."""
        events = [
            AlertEvent(
                sound=sound,
                start=alarm.start,
                at=self._now,
                confidence=1.0,
                detector="pattern",
                kind="ended",
                end=alarm.last_heard,
            )
            for sound, alarm in self._sounding.items()
        ]
        self._sounding.clear()
        return events


def detect_alarms(
    audio: AudioArray, settings: AlarmSettings | None = None, chunk_s: float = 0.1
) -> list[AlertEvent]:
    """Every alarm event in a whole recording, fed in microphone-sized chunks (for tests and scripts)."""
    spectrogram = Spectrogram()
    detector = AlarmPatternDetector(settings)
    step = int(chunk_s * 16_000)
    events: list[AlertEvent] = []
    for offset in range(0, len(audio), step):
        events += detector.process_frames(spectrogram.push(audio[offset : offset + step]))
    return events + detector.finish()
