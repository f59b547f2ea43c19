"""Speech recognisers side by side: every installed faster-whisper model (tiny.en ships with the app; base
and small where installed, e.g. base from the `multilingual` extra) on the same clips, in one run.

For each model, with the threads live captions use (2 by default):

- offline WER: `transcribe_long` (beam 5, VAD, as `assistant transcribe` does) on every clip, the word
  error rate over all clips (word edits over reference words, both sides through Whisper's English
  normaliser), with the edits and reference words counted;
- offline RTF: wall-clock seconds per second of speech of that transcription, the median over the clips;
  and its CPU cost, CPU seconds (all threads) per second of speech over all clips, which another
  process's load disturbs less than the wall clock;
- live RTF: the figure `assistant models suggest` measures (`assistant/speech/suggest.py`): a greedy
  window decode of the bundled 11 s clip, the median of `--runs` after a warm-up; "keeps up" at 0.2 or
  less;
- load: seconds to load the model (base is joined from its packages first when it never was).

tiny.en is the baseline: the ratio columns are against it, from the same run. These machines are shared:
the load average is printed before and after, and figures compare only within one run.

    .venv/bin/python bench/recognizer_models.py [--clips tests/data/speech] [--threads 2] [--runs 3]
    .venv/bin/python bench/recognizer_models.py --clips ../shared/evaldata/speech --models tiny.en base
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.speech.engines import RecognizerOptions, load_recognizer
from assistant.speech.evaluation import SpeechClip, load_clips, word_errors
from assistant.speech.suggest import KEEP_UP_RTF, installed_speech_models, load_clip, real_time_factor

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Row:
    model: str
    load_s: float
    errors: int
    words: int
    offline_rtf: float
    offline_cpu: float
    live_rtf: float

    @property
    def wer(self) -> float:
        return self.errors / max(1, self.words)


def measure(model: str, clips: list[SpeechClip], threads: int, runs: int) -> Row:
    started = time.perf_counter()
    recognizer = load_recognizer("faster-whisper", model, RecognizerOptions(language="en", threads=threads))
    load_s = time.perf_counter() - started
    errors = words = 0
    rtfs = []
    cpu_started = time.process_time()
    for clip in clips:
        started = time.perf_counter()
        text = " ".join(segment.text for segment in recognizer.transcribe_long(clip.audio))
        rtfs.append((time.perf_counter() - started) / clip.seconds)
        edits, count = word_errors(clip.reference, text)
        errors += edits
        words += count
    cpu = (time.process_time() - cpu_started) / sum(clip.seconds for clip in clips)
    live = real_time_factor(model, load_clip(), threads, runs)
    return Row(model, load_s, errors, words, statistics.median(rtfs), cpu, live)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clips", type=Path, default=PROJECT_ROOT / "tests" / "data" / "speech")
    parser.add_argument("--models", nargs="+", help="model names (default: every installed one)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3, help="timed live decodes per model")
    args = parser.parse_args()

    names = args.models or installed_speech_models()
    if not names:
        print("no faster-whisper speech model is installed", file=sys.stderr)
        return 1
    clips = load_clips(args.clips)
    seconds = sum(clip.seconds for clip in clips)
    print(f"clips: {len(clips)} from {args.clips} ({seconds:.0f} s); models: {', '.join(names)}; ", end="")
    print(f"threads {args.threads}; load average before {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    rows = []
    for name in names:
        rows.append(measure(name, clips, args.threads, args.runs))
        print(f"  measured {name}", file=sys.stderr, flush=True)
    base = next((row for row in rows if row.model == "tiny.en"), rows[0])
    print(f"load average after {os.getloadavg()[0]:.1f}\n")
    header = (
        f"{'model':10} {'WER':>7} {'edits/words':>12} {'offline RTF':>12} {'x ' + base.model:>10} "
        f"{'CPU s/s':>8} {'x ' + base.model:>10} {'live RTF':>9} {'x ' + base.model:>10} {'keeps up':>9} "
        f"{'load s':>7}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row.model:10} {row.wer:7.1%} {f'{row.errors}/{row.words}':>12} {row.offline_rtf:12.3f} "
            f"{row.offline_rtf / base.offline_rtf:10.2f} {row.offline_cpu:8.3f} "
            f"{row.offline_cpu / base.offline_cpu:10.2f} {row.live_rtf:9.3f} "
            f"{row.live_rtf / base.live_rtf:10.2f} {'yes' if row.live_rtf <= KEEP_UP_RTF else 'no':>9} "
            f"{row.load_s:7.1f}"
        )
    print(f"\nlive RTF keeps up at {KEEP_UP_RTF} or less (assistant/speech/suggest.py)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
