"""Soak: live captions on a long generated stream, and `transcribe` peak memory on long recordings.

The stream is the speech clips in tests/data/speech joined end to end with stretches of silence and of
pink noise between them, repeated to the length asked for. It goes through the real pipeline
(`StreamingTranscriber` with the real VAD and model) in 0.1 s chunks at full speed, not real time, and
prints:

- RSS over time (every `--sample-minutes` of stream), and its growth from the first sample to the last
- CPU seconds per second of speech and per second of silence or noise (the gaps)
- `transcribe` peak memory (the child's max RSS) for WAV files of each length in `--transcribe-minutes`

Usage (a full run: an hour of captions, transcribe of 1 h and 3 h):

    .venv/bin/python bench/soak.py --minutes 60 --transcribe-minutes 60 180

A short check that it works: `--minutes 2 --transcribe-minutes 2`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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


def build_stream(minutes: float, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The stream and a per-sample mask, True where a speech clip plays."""
    rng = np.random.default_rng(seed)
    clips = [load_audio_file(path) for path in sorted(SPEECH_DIR.glob("*.flac"))]
    pieces: list[np.ndarray] = []
    speech: list[np.ndarray] = []
    total, target, index = 0, int(minutes * 60 * SAMPLE_RATE), 0
    while total < target:
        clip = clips[index % len(clips)]
        gap_seconds = float(rng.uniform(1.0, 6.0))
        gap = (
            _pink(gap_seconds, 0.02, rng)
            if index % 3 == 2
            else np.zeros(int(gap_seconds * SAMPLE_RATE), np.float32)
        )
        for piece, is_speech in ((clip, True), (gap, False)):
            pieces.append(piece)
            speech.append(np.full(len(piece), is_speech))
            total += len(piece)
        index += 1
    return np.concatenate(pieces)[:target], np.concatenate(speech)[:target]


def soak_captions(minutes: float, sample_minutes: float, model: str, threads: int) -> None:
    from assistant.speech.engines import RecognizerOptions, load_recognizer
    from assistant.speech.live import build_transcriber

    audio, speech = build_stream(minutes)
    recognizer = load_recognizer("faster-whisper", model, RecognizerOptions(threads=threads))
    transcriber = build_transcriber(recognizer)
    cpu = {True: 0.0, False: 0.0}
    samples: list[tuple[float, float]] = [(0.0, _rss_mb())]
    next_sample = sample_minutes * 60
    finals = 0
    started = time.monotonic()
    for offset in range(0, len(audio), CHUNK):
        before = time.process_time()
        transcriber.insert_audio(audio[offset : offset + CHUNK])
        finals += sum(1 for event in transcriber.process() if event.kind == "final" and event.text)
        cpu[bool(speech[offset])] += time.process_time() - before
        if offset / SAMPLE_RATE >= next_sample:
            samples.append((offset / SAMPLE_RATE / 60, _rss_mb()))
            next_sample += sample_minutes * 60
    transcriber.finish()
    samples.append((len(audio) / SAMPLE_RATE / 60, _rss_mb()))
    speech_seconds = float(speech.sum()) / SAMPLE_RATE
    gap_seconds = len(audio) / SAMPLE_RATE - speech_seconds
    print(
        f"captions: {minutes:g} min of stream in {time.monotonic() - started:.0f} s, {finals} final captions"
    )
    print("  minute  RSS MB")
    for minute, rss in samples:
        print(f"  {minute:6.1f}  {rss:6.0f}")
    growth = samples[-1][1] - samples[1][1] if len(samples) > 2 else 0.0
    print(f"  RSS growth after the first sample: {growth:+.0f} MB")
    print(f"  CPU per second of speech: {cpu[True] / max(speech_seconds, 1e-9):.3f} core-s")
    print(f"  CPU per second of silence or noise: {cpu[False] / max(gap_seconds, 1e-9):.3f} core-s")


def transcribe_peak(minutes: float, model: str, folder: Path) -> None:
    import soundfile

    path = folder / f"soak_{minutes:g}min.wav"
    audio, _ = build_stream(minutes, seed=2)
    soundfile.write(path, audio, SAMPLE_RATE, subtype="PCM_16")
    del audio
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "assistant", "transcribe", "--model", model, str(path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    error = process.stderr.read().decode() if process.stderr else ""
    peak_mb = usage.ru_maxrss / 1024
    print(
        f"transcribe {minutes:g} min: peak RSS {peak_mb:.0f} MB, {time.monotonic() - started:.0f} s, "
        f"exit {process.returncode}" + (f" ({error.strip().splitlines()[-1]})" if process.returncode else "")
    )
    path.unlink()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=60.0, help="length of the captions stream")
    parser.add_argument("--sample-minutes", type=float, default=5.0, help="RSS sampled this often")
    parser.add_argument("--transcribe-minutes", type=float, nargs="*", default=[60.0, 180.0])
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if args.minutes > 0:
        soak_captions(args.minutes, args.sample_minutes, args.model, args.threads)
    with tempfile.TemporaryDirectory() as folder:
        for minutes in args.transcribe_minutes:
            transcribe_peak(minutes, args.model, Path(folder))
    return 0


if __name__ == "__main__":
    sys.exit(main())
