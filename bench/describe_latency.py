"""Scene description latency on the CPU: plain transformers against our optimised path, in one run.

For each supported architecture at its REAL size (the published model's config, written out offline with
random weights: compute does not depend on the weights' values), it times frame → text with a fixed
number of generated tokens (generation may not stop early), using `--threads` torch threads:

- baseline: the plain transformers way: processor(...) then model.generate(...), fp32, the model's own
  input resolution (SmolVLM: one 512 px image, no tiles, since its processor needs torchvision);
- optimised: `load_describer(...)` with int8 dynamic quantisation, and for Florence-2 the 384 px brief
  input; a row for int8 at the model's own resolution separates the two effects;
- follow-up: a second request on the same frame, which reuses the cached image encoding.

Then, on the same machine in the same run:

- OCR per 640x480 frame of each evaluation photo (tests/data/images): rapidocr's own call (the
  baseline) against our reader (the same engine plus reading order and spacing repair), and the offline
  quick cues;
- speech: time from text to the first synthesised audio and to the first sample handed to the output
  device (eSpeak NG, streamed), against pyttsx3's own `save_to_file` + `runAndWait` for the same text;
- the estimate that matters to a user: key press to first audio of a brief description.

Prints a table of medians and the baseline/optimised ratio. Usage:

    .venv/bin/python bench/describe_latency.py [--runs 3] [--tokens 20] [--threads 2] [--only florence2]
    .venv/bin/python bench/describe_latency.py --no-models   # OCR, cues and speech only (a minute)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.vision import vlm_runtime as runtime
from assistant.vision.describe import (
    DescriberOptions,
    FlorenceDescriber,
    SmolVLMDescriber,
    load_model_describer,
)
from assistant.vision.image import Frame
from tests.helpers.data import load_photos
from tests.helpers.tiny_models import BUILDERS


def test_frame() -> Frame:
    """The frame every model describes: the astronaut photo (512x512)."""
    return load_photos()[0]


def median_seconds(run: Callable[[], Any], runs: int) -> float:
    run()  # warm-up: first calls allocate and pick kernels
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def baseline(name: str, path: Path, frame: Frame, tokens: int) -> Callable[[], str]:
    """The plain transformers path, fp32, as a model card shows it."""
    import torch
    from transformers import AutoProcessor

    model, _ = runtime.load_transformers_model(path)
    image = runtime.to_pil(frame)
    if name == "smolvlm":
        # SmolVLMProcessor needs torchvision: use the describer's own input builder, without int8 or cache.
        plain = load_model_describer(path, name, DescriberOptions(quantize=False, cache_images=False))
        assert isinstance(plain, SmolVLMDescriber)

        def run_smolvlm() -> str:
            inputs = plain.question_inputs(frame, plain.PROMPTS["brief"])
            with torch.inference_mode():
                out = plain.model.generate(
                    **inputs, max_new_tokens=tokens, min_new_tokens=tokens, do_sample=False
                )
            return str(out.shape)

        return run_smolvlm
    processor = AutoProcessor.from_pretrained(path, local_files_only=True)  # type: ignore[no-untyped-call]

    def run() -> str:
        if name == "florence2":
            inputs = processor(text="<CAPTION>", images=image, return_tensors="pt")
        else:
            inputs = processor(images=image, return_tensors="pt")
        with torch.inference_mode():
            out = model.generate(
                **inputs, max_new_tokens=tokens, min_new_tokens=tokens, do_sample=False, num_beams=1
            )
        return str(processor.batch_decode(out, skip_special_tokens=True)[0])

    return run


def camera_frames() -> list[Frame]:
    """The evaluation photos at a laptop camera's 640x480."""
    import cv2

    return [
        np.asarray(cv2.resize(photo, (640, 480), interpolation=cv2.INTER_AREA), dtype=np.uint8)
        for photo in load_photos()
    ]


def bench_reading(frames: list[Frame], runs: int) -> list[tuple[str, str, float]]:
    from assistant.vision.cues import load_quick_cues
    from assistant.vision.ocr import load_text_reader

    reader = load_text_reader()
    engine = reader._engine  # the very rapidocr engine our reader wraps: a like-for-like baseline
    cues = load_quick_cues()

    def over_frames(run: Callable[[Frame], Any]) -> Callable[[], None]:
        def each() -> None:
            for frame in frames:
                run(frame)

        return each

    count = len(frames)
    return [
        (
            "ocr",
            "baseline: rapidocr call, per frame",
            median_seconds(over_frames(lambda f: engine(np.ascontiguousarray(f[:, :, ::-1]))), runs) / count,
        ),
        ("ocr", "ours: + order + spacing, per frame", median_seconds(over_frames(reader.read), runs) / count),
        ("ocr", "quick cues (no model), per frame", median_seconds(over_frames(cues), runs) / count),
    ]


SPOKEN = "A person sitting at a desk with a laptop, a lamp on the left."

_PYTTSX3_WHOLE_FILE = """
import sys, time, pyttsx3
engine = pyttsx3.init("espeak")
times = []
for _ in range(int(sys.argv[2]) + 1):
    started = time.perf_counter()
    engine.save_to_file(sys.argv[1], sys.argv[3])
    engine.runAndWait()
    times.append(time.perf_counter() - started)
print(sorted(times[1:])[len(times[1:]) // 2], file=sys.stderr)
"""


def bench_speech(runs: int) -> list[tuple[str, str, float]]:
    """Text to first audio. Needs eSpeak NG; an output device only for the 'at the device' row."""
    import subprocess

    import sounddevice as sd

    from assistant.errors import AssistantError
    from assistant.voice import StopSignal, load_speaker

    rows: list[tuple[str, str, float]] = []
    with tempfile.TemporaryDirectory(prefix="speech-bench-") as tmp:
        # Its own process: eSpeak NG is one engine per process, and pyttsx3 prints to stdout.
        baseline_run = subprocess.run(
            [sys.executable, "-c", _PYTTSX3_WHOLE_FILE, SPOKEN, str(runs), str(Path(tmp) / "said.wav")],
            capture_output=True,
            text=True,
            check=True,
        )
        whole = float(baseline_run.stderr.strip().splitlines()[-1])
        rows.append(("speech", "baseline: pyttsx3 save_to_file, whole", whole))
    speaker = load_speaker()
    try:
        try:
            speaker.check_output()
        except AssistantError as error:
            print(f"speech: no output device ({error}); timing synthesis only", flush=True)
            return rows
        # WORKAROUND (PulseAudio null sink only): an idle null sink sleeps in 2 s blocks, so a new
        # stream's first callback waits up to 2 s, where a real sound card starts at once. A silent
        # stream keeps it awake, as the voice tests do.
        awake = sd.OutputStream(samplerate=22_050, channels=1, latency="low", callback=_silence)
        awake.start()
        time.sleep(0.5)
        chunks, samples = [], []
        try:
            for _ in range(runs + 1):
                stop = StopSignal()
                timer = threading.Timer(0.5, stop.set)  # what is measured is the start: do not play it all
                timer.start()
                speaker.speak(SPOKEN, stop)
                timer.join()
                timing = speaker.last_timing
                if timing.first_chunk_s is not None and timing.first_audio_s is not None:
                    chunks.append(timing.first_chunk_s)
                    samples.append(timing.first_audio_s)
        finally:
            awake.abort()
            awake.close()
        if len(samples) < 2:
            print("speech: the output device never started; timing synthesis only", flush=True)
            return rows
        rows.append(("speech", "ours: text to first synthesised audio", statistics.median(chunks[1:])))
        rows.append(("speech", "ours: text to first sample at the device", statistics.median(samples[1:])))
    finally:
        speaker.close()
    return rows


def _silence(outdata: np.ndarray, frames: int, time_info: object, status: object) -> None:
    outdata.fill(0)


def bench_model(
    name: str, path: Path, frame: Frame, args: argparse.Namespace
) -> list[tuple[str, str, float]]:
    rows: list[tuple[str, str, float]] = []
    rows.append(
        (
            name,
            "baseline fp32, own resolution",
            median_seconds(baseline(name, path, frame, args.tokens), args.runs),
        )
    )
    common = {"brief_tokens": args.tokens, "min_new_tokens": args.tokens, "threads": args.threads}
    if name == "florence2":
        native = load_model_describer(
            path, name, DescriberOptions(quantize=True, brief_image_size=None, cache_images=False, **common)
        )
        rows.append(
            (name, "int8, own resolution (768 px)", median_seconds(lambda: native.describe(frame), args.runs))
        )
        del native
    fast = load_model_describer(path, name, DescriberOptions(quantize=True, cache_images=False, **common))
    label = "int8, 384 px brief input" if name == "florence2" else "int8"
    rows.append((name, f"optimised: {label}", median_seconds(lambda: fast.describe(frame), args.runs)))
    if isinstance(fast, FlorenceDescriber | SmolVLMDescriber):
        cached = load_model_describer(
            path, name, DescriberOptions(quantize=True, answer_tokens=args.tokens, **common)
        )
        cached.describe(frame)
        follow = (
            (lambda: cached.ask(frame, "What is on the table?"))
            if isinstance(cached, SmolVLMDescriber)
            else (lambda: cached.describe(frame))
        )
        rows.append((name, "follow-up on same frame (cached image)", median_seconds(follow, args.runs)))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", choices=sorted(BUILDERS), action="append")
    parser.add_argument("--no-models", action="store_true", help="OCR, quick cues and speech only")
    args = parser.parse_args()
    runtime.set_threads(args.threads)
    frame = test_frame()
    print(
        f"frame {frame.shape[1]}x{frame.shape[0]}, {args.tokens} new tokens, {args.threads} threads, "
        f"median of {args.runs} runs",
        flush=True,
    )
    results: list[tuple[str, str, float]] = []
    with tempfile.TemporaryDirectory(prefix="describe-bench-") as tmp:
        for name in [] if args.no_models else args.only or list(BUILDERS):
            started = time.perf_counter()
            path = BUILDERS[name](Path(tmp) / name, True)
            print(
                f"{name}: real-size random model written in {time.perf_counter() - started:.0f} s", flush=True
            )
            rows = bench_model(name, path, frame, args)
            for row in rows:
                print(f"  {row[1]:<42} {row[2]:6.2f} s", flush=True)
            results.extend(rows)
    for rows in (bench_reading(camera_frames(), args.runs), bench_speech(args.runs)):
        for row in rows:
            print(f"  {row[0]}: {row[1]:<42} {row[2]:6.3f} s", flush=True)
        results.extend(rows)
    print()
    print(f"{'model':<10} {'path':<42} {'median s':>8} {'vs baseline':>11}")
    base: dict[str, float] = {}
    for name, label, seconds in results:
        base.setdefault(name, seconds)
        print(f"{name:<10} {label:<42} {seconds:8.3f} {base[name] / seconds:10.2f}x")
    brief = [seconds for _, label, seconds in results if label.startswith("optimised")]
    first_audio = [seconds for _, label, seconds in results if label.endswith("first sample at the device")]
    if brief and first_audio:
        print(
            f"\nkey press to first audio of a brief description (fastest model): "
            f"{min(brief) + first_audio[0]:.2f} s (target 1.3 s)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
