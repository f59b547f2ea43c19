"""Soak: live captions on a long generated stream, and `transcribe` peak memory on long recordings.

The stream is the speech clips in tests/data/speech joined end to end with stretches of silence and of
pink noise between them (1-6 s each), repeated to the length asked for. It is generated as it is fed, so
the benchmark's own memory does not grow with it. It goes through the real pipeline
(`StreamingTranscriber` with the real VAD and model) in 0.1 s chunks at full speed, not real time, and
prints:

- RSS over time (every `--sample-minutes` of stream), and its growth from the first sample to the last
- CPU seconds per second of speech and per second of silence or noise (the gaps)
- `transcribe` peak memory (the child's max RSS) for FLAC files of each length in
  `--transcribe-minutes`, written block by block. Their gaps are `--transcribe-gap` seconds (default the
  stream's 1-6 s; a longer gap, say 60, makes hours of recording quick to transcribe while each
  five-minute piece still holds speech)

Usage (a full run: an hour of captions, transcribe of 1 h and 3 h):

    .venv/bin/python bench/soak.py --minutes 60 --transcribe-minutes 60 180

A short check that it works: `--minutes 2 --transcribe-minutes 2`.
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from collections.abc import Iterator  # noqa: E402

from assistant.audio.source import SAMPLE_RATE  # noqa: E402
from assistant.audio.sources import load_audio_file  # noqa: E402

SPEECH_DIR = ROOT / "tests" / "data" / "speech"
CHUNK = SAMPLE_RATE // 10


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _pink(seconds: float, rms: float, rng: np.random.Generator) -> np.ndarray:
    count = int(seconds * SAMPLE_RATE)
    spectrum = np.fft.rfft(rng.standard_normal(count))
    frequencies = np.fft.rfftfreq(count, 1 / SAMPLE_RATE)
    frequencies[0] = frequencies[1]
    noise = np.fft.irfft(spectrum / np.sqrt(frequencies), count).astype(np.float32)
    noise *= np.float32(rms / float(np.sqrt(np.mean(noise**2))))
    np.clip(noise, -1.0, 1.0, out=noise)
    return noise


def generate_stream(
    minutes: float, seed: int = 1, gap: float | None = None
) -> Iterator[tuple[np.ndarray, bool]]:
    """The stream, piece by piece: (audio, True) for a speech clip, (audio, False) for a gap of silence
    or (every third gap) quiet pink noise, 1-6 s long unless `gap` says how long."""
    rng = np.random.default_rng(seed)
    clips = [load_audio_file(path) for path in sorted(SPEECH_DIR.glob("*.flac"))]
    left = int(minutes * 60 * SAMPLE_RATE)
    for index in itertools.count():
        clip = clips[index % len(clips)]
        gap_seconds = float(rng.uniform(1.0, 6.0)) if gap is None else gap
        noise = (
            _pink(gap_seconds, 0.02, rng)
            if index % 3 == 2
            else np.zeros(int(gap_seconds * SAMPLE_RATE), np.float32)
        )
        for piece, is_speech in ((clip, True), (noise, False)):
            if left <= 0:
                return
            yield piece[:left], is_speech
            left -= len(piece[:left])


def _chunks(minutes: float) -> Iterator[tuple[np.ndarray, bool]]:
    """The stream in 0.1 s chunks, each marked by whether its first sample is speech."""
    audio, speech = np.zeros(0, np.float32), np.zeros(0, bool)
    for piece, is_speech in generate_stream(minutes):
        audio = np.concatenate([audio, piece])
        speech = np.concatenate([speech, np.full(len(piece), is_speech)])
        whole = len(audio) // CHUNK * CHUNK
        for offset in range(0, whole, CHUNK):
            yield audio[offset : offset + CHUNK], bool(speech[offset])
        audio, speech = audio[whole:].copy(), speech[whole:].copy()
    if len(audio):
        yield audio, bool(speech[0])


def soak_captions(minutes: float, sample_minutes: float, model: str, threads: int) -> None:
    from assistant.speech.engines import RecognizerOptions, load_recognizer
    from assistant.speech.live import build_transcriber

    recognizer = load_recognizer("faster-whisper", model, RecognizerOptions(threads=threads))
    transcriber = build_transcriber(recognizer)
    cpu = {True: 0.0, False: 0.0}
    seconds = {True: 0.0, False: 0.0}
    samples: list[tuple[float, float]] = [(0.0, _rss_mb())]
    next_sample = sample_minutes * 60
    finals = fed = 0
    started = time.monotonic()
    for chunk, is_speech in _chunks(minutes):
        before = time.process_time()
        transcriber.insert_audio(chunk)
        finals += sum(1 for event in transcriber.process() if event.kind == "final" and event.text)
        cpu[is_speech] += time.process_time() - before
        seconds[is_speech] += len(chunk) / SAMPLE_RATE
        fed += len(chunk)
        if fed / SAMPLE_RATE >= next_sample:
            samples.append((fed / SAMPLE_RATE / 60, _rss_mb()))
            next_sample += sample_minutes * 60
    transcriber.finish()
    samples.append((fed / SAMPLE_RATE / 60, _rss_mb()))
    print(
        f"captions: {minutes:g} min of stream in {time.monotonic() - started:.0f} s, {finals} final captions"
    )
    print("  minute  RSS MB")
    for minute, rss in samples:
        print(f"  {minute:6.1f}  {rss:6.0f}")
    growth = samples[-1][1] - samples[1][1] if len(samples) > 2 else 0.0
    print(f"  RSS growth after the first sample: {growth:+.0f} MB")
    print(f"  CPU per second of speech: {cpu[True] / max(seconds[True], 1e-9):.3f} core-s")
    print(f"  CPU per second of silence or noise: {cpu[False] / max(seconds[False], 1e-9):.3f} core-s")


def write_recording(path: Path, minutes: float, gap: float | None) -> float:
    """The stream as a FLAC file, written piece by piece; the seconds of speech in it."""
    import soundfile

    speech = 0.0
    with soundfile.SoundFile(path, "w", SAMPLE_RATE, 1, subtype="PCM_16", format="FLAC") as out:
        for piece, is_speech in generate_stream(minutes, seed=2, gap=gap):
            out.write(piece)
            speech += len(piece) / SAMPLE_RATE if is_speech else 0.0
    return speech


def transcribe_peak(minutes: float, model: str, folder: Path, gap: float | None) -> None:
    path = folder / f"soak_{minutes:g}min.flac"
    speech = write_recording(path, minutes, gap)
    started = time.monotonic()
    transcript = folder / "transcript.txt"
    with transcript.open("wb") as stdout:
        process = subprocess.Popen(
            [sys.executable, "-m", "assistant", "transcribe", "--model", model, str(path)],
            stdout=stdout, stderr=subprocess.PIPE, cwd=ROOT,
        )  # fmt: skip
        _, status, usage = os.wait4(process.pid, 0)  # this child's own peak, not the largest child's
    process.returncode = os.waitstatus_to_exitcode(status)
    error = process.stderr.read().decode() if process.stderr else ""
    lines = len(transcript.read_text().splitlines())
    peak_mb = usage.ru_maxrss / 1024
    print(
        f"transcribe {minutes:g} min ({speech / 60:.1f} min of speech, "
        f"FLAC {path.stat().st_size / 1e6:.0f} MB): "
        f"peak RSS {peak_mb:.0f} MB, {time.monotonic() - started:.0f} s, {lines} lines, "
        f"exit {process.returncode}" + (f" ({error.strip().splitlines()[-1]})" if process.returncode else ""),
        flush=True,
    )
    path.unlink()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=60.0, help="length of the captions stream")
    parser.add_argument("--sample-minutes", type=float, default=5.0, help="RSS sampled this often")
    parser.add_argument("--transcribe-minutes", type=float, nargs="*", default=[60.0, 180.0])
    parser.add_argument(
        "--transcribe-gap", type=float, help="seconds between clips in the transcribe files (default 1-6)"
    )
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for minutes in args.transcribe_minutes:
            transcribe_peak(minutes, args.model, Path(folder), args.transcribe_gap)
    if args.minutes > 0:
        soak_captions(args.minutes, args.sample_minutes, args.model, args.threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
