"""Find latency on the CPU: the contrastive finder against scoring with the scene describer, in one run.

The finder model is SigLIP base at its REAL size (google/siglip-base-patch16-224's published config,
ViT-B/16 at 224 px + a 12-layer text tower, written out offline with random weights: compute does not
depend on the weights' values) and is loaded through `load_scorer_from`, the app's own path. With
`--threads` torch threads (2 by default) it times, on 640x480 frames:

- whole-frame score per frame (one image embedding against the cached text side); target ≤ 0.25 s;
- score with position (the whole frame and the left / centre / right crops in one batch); target ≤ 0.5 s;
- the text side per frame once cached (the logits against the prepared query), target ≤ 5 ms, next to
  what preparing the query costs once (the prompt templates and the background prompts);
- object entering view → "found" spoken: a simulated live camera (always the newest frame) whose object
  appears at a random moment; the finder runs on the real model's per-frame cost, with the match taken
  from whether the object is in the frame (random weights recognise nothing), confirmed over 3 frames as
  in the app; plus eSpeak NG's time to synthesise "keys, on the left, near". Target ≤ 1.5 s.
- baseline, same run: scoring with the describer, the way one would without a contrastive model: a
  brief Florence-2 caption (real size, random weights, int8 at 384 px, our optimised path; `--tokens`
  tokens) then a string match for the query; and its "found" latency with the same confirmation.

Prints medians and the baseline/finder ratios. Usage:

    .venv/bin/python bench/find_latency.py [--runs 5] [--threads 2] [--tokens 12] [--no-baseline]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.vision.finder import (
    ContrastiveScorer,
    Finder,
    FinderSettings,
    FrameScore,
    PreparedQuery,
    load_scorer_from,
)
from assistant.vision.image import Frame

CONFIRM = FinderSettings().confirm_frames


def median_seconds(run: Callable[[], Any], runs: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        run()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def camera_frame(seed: int = 0, with_object: bool = False) -> Frame:
    rng = np.random.default_rng(seed)
    frame = np.full((480, 640, 3), (150, 110, 70), dtype=np.uint8)
    frame += rng.integers(0, 20, frame.shape, dtype=np.uint8)
    if with_object:
        frame[260:340, 80:200] = (200, 190, 40)
    return frame


class TimedScorer:
    """The real model's cost per frame, with the match decided by whether the object is in the frame:
    random weights recognise nothing, and this measures time, not recognition."""

    model_name = "siglip-base (timed)"

    def __init__(self, real: ContrastiveScorer, object_in: Callable[[Frame], bool]) -> None:
        self.real = real
        self.object_in = object_in

    def prepare(self, query: str) -> PreparedQuery:
        return self.real.prepare(query)

    def score(self, frame: Frame, query: PreparedQuery, *, with_position: bool = False) -> FrameScore:
        scored = self.real.score(frame, query, with_position=with_position)
        match = 0.9 if self.object_in(frame) else 0.1
        return FrameScore(match, (0.95, 0.2, 0.1) if scored.columns else ())


def found_latency(
    new_pass: Callable[[], Callable[[Frame], float]], trials: int, seed: int = 5
) -> list[float]:
    """Seconds from the object entering a live camera's view to the found event: the search loop always
    takes the newest frame; the object appears at a random moment of a scoring pass. `new_pass` starts a
    fresh search (its baseline already built from empty frames) and returns its per-frame pass."""
    rng = random.Random(seed)
    results = []
    for _ in range(trials):
        score_frame = new_pass()
        # A pass is busy with an empty frame when the object appears, part-way through it.
        empty_pass = score_frame(camera_frame(1))
        elapsed = empty_pass - rng.uniform(0.0, empty_pass)
        found = False
        for _ in range(20):  # a search that never confirms is a bench bug, not a wait
            started = time.perf_counter()
            found = score_frame(camera_frame(2, True)) < 0  # negative: this pass found it
            elapsed += time.perf_counter() - started
            if found:
                break
        if not found:
            raise RuntimeError("the timed finder never confirmed the object")
        results.append(elapsed)
    return results


def bench_finder(folder: Path, args: argparse.Namespace) -> dict[str, float]:
    plain = load_scorer_from(folder, "siglip-base", threads=args.threads, quantize=False)
    frame = camera_frame()
    plain_query = plain.prepare("my keys")
    fp32_s = median_seconds(lambda: plain.score(frame, plain_query), args.runs)
    scorer = load_scorer_from(folder, "siglip-base", threads=args.threads)
    prepare_s = median_seconds(lambda: scorer.prepare("my keys"), max(2, args.runs // 2))
    query = scorer.prepare("my keys")
    whole_s = median_seconds(lambda: scorer.score(frame, query), args.runs)
    position_s = median_seconds(lambda: scorer.score(frame, query, with_position=True), args.runs)
    image = scorer.encode_images([frame])
    text_s = median_seconds(lambda: scorer._probabilities(image, query.embeddings), 50)
    scene_s = median_seconds(lambda: scorer.scene(camera_frame(3)), args.runs)

    timed = TimedScorer(scorer, lambda f: bool(f[300, 100, 2] < 50))  # the object is blue 40, the table 70+

    def new_pass() -> Callable[[Frame], float]:
        finder = Finder(timed, query, FinderSettings(score_interval=0.0))
        for index in range(5):  # a few empty frames: the baseline the finder compares against
            finder.feed(camera_frame(10 + index), float(index))

        def finder_pass(frame: Frame) -> float:
            started = time.perf_counter()
            events = finder.feed(frame, time.perf_counter())
            elapsed = time.perf_counter() - started
            return -elapsed if any(event.type == "found" for event in events) else elapsed

        return finder_pass

    latencies = found_latency(new_pass, args.runs)
    return {
        "prepare": prepare_s,
        "whole": whole_s,
        "fp32": fp32_s,
        "position": position_s,
        "text": text_s,
        "scene": scene_s,
        "found": statistics.median(latencies),
    }


def speech_seconds() -> float:
    """eSpeak NG's time to synthesise the found phrase (0 when no voice is installed)."""
    try:
        from assistant.voice import load_speaker

        speaker = load_speaker()
        speaker.open()
        started = time.perf_counter()
        speaker.synthesize("keys, on the left, near")
        elapsed = time.perf_counter() - started
        speaker.close()
        return elapsed
    except Exception as error:  # noqa: BLE001 - the bench reports what it could not measure
        print(f"(no voice: {error})")
        return 0.0


def bench_describer(root: Path, args: argparse.Namespace) -> dict[str, float]:
    from assistant.vision.describe import DescriberOptions, load_model_describer
    from tests.helpers.tiny_models import build_florence2

    folder = build_florence2(root / "florence2", real=True)
    describer = load_model_describer(
        folder,
        "florence-2-base",
        DescriberOptions(
            threads=args.threads,
            quantize=True,
            cache_images=False,
            brief_tokens=args.tokens,
            min_new_tokens=args.tokens,
        ),
    )
    frame = camera_frame()

    def caption_match(frame: Frame) -> bool:
        return "key" in describer.describe(frame, "brief").text.lower()

    runs = max(2, args.runs // 2)
    score_s = median_seconds(lambda: caption_match(frame), runs)
    return {"whole": score_s, "found": score_s * (CONFIRM + 0.5)}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tokens", type=int, default=12, help="caption tokens for the describer baseline")
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    from tests.helpers.tiny_clip import build_siglip

    with tempfile.TemporaryDirectory(prefix="find-bench-") as temp:
        root = Path(temp)
        started = time.perf_counter()
        folder = build_siglip(root / "siglip", real=True)
        print(f"built real-size SigLIP base with random weights in {time.perf_counter() - started:.1f} s")
        finder = bench_finder(folder, args)
        speak = speech_seconds()
        baseline = None if args.no_baseline else bench_describer(root, args)

    print(f"\nfind latency, {args.threads} threads, 640x480 frames, medians of {args.runs} runs")
    rows = [
        ("whole-frame score per frame (int8)", finder["whole"], 0.25),
        ("whole-frame score, fp32 (for reference)", finder["fp32"], None),
        ("score with position (4 images)", finder["position"], 0.5),
        ("text side per frame (cached)", finder["text"], 0.005),
        ("text side prepared once per query", finder["prepare"], None),
        ("scene category (new frame)", finder["scene"], None),
        ("object enters view -> found event", finder["found"], None),
        ("object enters view -> found spoken", finder["found"] + speak, 1.5),
    ]
    for label, seconds, target in rows:
        verdict = "" if target is None else ("  ok" if seconds <= target else "  MISSED") + f" (≤ {target} s)"
        print(f"  {label:<38} {seconds * 1000:9.1f} ms{verdict}")
    if baseline is not None:
        print(f"\nbaseline: Florence-2 brief caption ({args.tokens} tokens, int8, 384 px) then string match")
        print(f"  {'caption score per frame':<38} {baseline['whole'] * 1000:9.1f} ms")
        print(f"  {'object enters view -> found spoken':<38} {(baseline['found'] + speak) * 1000:9.1f} ms")
        print(f"  ratio per frame (describer / finder): {baseline['whole'] / finder['whole']:.1f}x")
        found_ratio = (baseline["found"] + speak) / (finder["found"] + speak)
        print(f"  ratio found spoken (describer / finder): {found_ratio:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
