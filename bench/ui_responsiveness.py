"""How responsive the window stays with captions and narration both running, against the same app idle.

Runs the real app (`python -m assistant app`) on a private Xvfb display, with its voice on a private
PulseAudio null sink when PulseAudio is installed, and the stall timer switched on (`ASSISTANT_STALL_LOG`,
see `ui/diagnostics.py`: a 10 ms timer on the GUI thread that records how late each tick is). Each run
starts the app twice, one after the other:

- reference: nothing running (no camera, no captions, no narration); the timer over `--idle-seconds`.
- loaded: `--camera` a video of the evaluation photos (a few seconds each), `--input` a WAV of the
  speech clips in tests/data/speech played at real time (1 s of silence between them), captions
  on, and narration switched on with its real shortcut (Ctrl+Shift+N, pressed through XTEST); the timer
  over `--seconds` from the key press.

It prints, per run and app: the longest stall, the median and p99 lateness, ticks later than 50 ms;
time from starting the process to the window being on screen (exposed); from the key press to the
window saying "narration on"; peak memory (VmHWM) with the default models (Whisper tiny.en, eSpeak NG;
the scene model if installed, else the quick cues); descriptions and final captions shown; ALSA underruns
of the voice. Targets: longest stall <= 50 ms, start to window <= 2 s. Usage:

    .venv/bin/python bench/ui_responsiveness.py [--runs 2] [--seconds 40] [--idle-seconds 10]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.audio.source import SAMPLE_RATE
from assistant.speech.evaluation import build_stream, load_clips
from tests.helpers.app_process import AppProcess
from tests.helpers.data import SPEECH_DIR, load_photos
from tests.helpers.pulse import voice_environment
from tests.helpers.speech import write_wav
from tests.helpers.video import make_scene_video
from tests.helpers.x11 import XDisplay, XvfbServer

STALL_TARGET_MS = 50.0
WINDOW_TARGET_S = 2.0


@dataclass
class Measurement:
    name: str
    stalls_ms: list[float]
    window_s: float
    peak_mb: float | None
    exit_s: float
    exit_code: int
    key_to_status_ms: float | None = None
    descriptions: int = 0
    captions: int = 0
    underruns: int = 0
    worst: list[tuple[float, float]] = field(default_factory=list)  # (seconds into the span, ms)


def read_stalls(path: Path, start_wall: float, end_wall: float) -> list[tuple[float, float]]:
    """(wall time, lateness ms) of every tick in [start_wall, end_wall]."""
    if not path.exists():
        return []
    ticks = []
    for line in path.read_text().splitlines():
        wall, lateness = (float(part) for part in line.split())
        if start_wall <= wall <= end_wall:
            ticks.append((wall, lateness))
    return ticks


def run_app(
    name: str,
    display: str,
    workdir: Path,
    app_args: list[str],
    env: dict[str, str],
    seconds: float,
    narrate: bool,
) -> Measurement:
    workdir.mkdir(parents=True, exist_ok=True)
    stall_log = workdir / "stalls.txt"
    app = AppProcess(display, workdir, app_args, env={**env, "ASSISTANT_STALL_LOG": str(stall_log)})
    app.start()
    key_to_status_ms = None
    try:
        exposed = app.wait_for(lambda e: e["event"] == "exposed", 60, "window on screen")
        if narrate:
            app.wait_for_status("camera: watching", 60)
            app.wait_for_status("captions: listening", 60)
            with XDisplay(display) as x:
                x.focus(exposed["window"])
                pressed = time.time()
                x.press("Ctrl+Shift+N")
            shown = app.wait_for_status("narration on", 10)
            key_to_status_ms = (shown["wall"] - pressed) * 1000
            span_start = pressed
        else:
            app.wait_for_status("voice ready" if env else "starting", 60)
            time.sleep(2.0)  # let the start-up jobs (voice, scene model look-up) finish
            span_start = time.time()
        time.sleep(seconds)
        span_end = time.time()
        peak_mb = app.peak_rss_mb()
    finally:
        exit_code, exit_s = app.terminate(timeout=15)
        app.kill()
    events = app.events()
    ticks = read_stalls(stall_log, span_start, span_end)
    worst = sorted(((wall - span_start, ms) for wall, ms in ticks), key=lambda t: -t[1])[:5]
    log = app.log_path.read_text(errors="replace")
    return Measurement(
        name=name,
        stalls_ms=[ms for _wall, ms in ticks],
        window_s=exposed["wall"] - app.started_wall,
        peak_mb=peak_mb,
        exit_s=exit_s,
        exit_code=exit_code,
        key_to_status_ms=key_to_status_ms,
        descriptions=sum(e["event"] == "description" for e in events),
        captions=sum(e["event"] == "caption" for e in events),
        underruns=log.count("underrun occurred"),
        worst=worst,
    )


def report(m: Measurement) -> None:
    stalls = m.stalls_ms or [float("nan")]
    longest = max(stalls)
    late = sum(ms > STALL_TARGET_MS for ms in stalls)
    verdict = "ok" if longest <= STALL_TARGET_MS else "MISSED"
    median, p99 = statistics.median(stalls), float(np.percentile(stalls, 99))
    print(
        f"  {m.name:<9} longest stall {longest:6.1f} ms ({verdict})  median {median:4.1f} ms"
        f"  p99 {p99:5.1f} ms  ticks {len(m.stalls_ms):5d}, > {STALL_TARGET_MS:.0f} ms: {late}"
    )
    window = "ok" if m.window_s <= WINDOW_TARGET_S else "MISSED"
    key = f"{m.key_to_status_ms:.0f} ms" if m.key_to_status_ms is not None else "-"
    peak = f"{m.peak_mb:.0f} MB" if m.peak_mb is not None else "-"
    print(
        f"  {'':<9} start to window {m.window_s:.2f} s ({window})  key to status {key}  peak RSS {peak}"
        f"  exit {m.exit_s:.2f} s (code {m.exit_code})"
    )
    print(
        f"  {'':<9} descriptions {m.descriptions}  final captions {m.captions}  voice underruns {m.underruns}"
        f"  worst ticks (s into span, ms): {', '.join(f'{t:.1f}:{ms:.0f}' for t, ms in m.worst)}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=40.0, help="measured span with everything running")
    parser.add_argument("--idle-seconds", type=float, default=10.0, help="measured span of the idle app")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, traces, stall logs)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="ui-responsiveness-"))
    try:
        photos = load_photos()
        cycle_s = 4.0 * len(photos)
        cycles = int((args.seconds + 30) // cycle_s) + 1
        video = make_scene_video(workdir / "camera.avi", photos * cycles, seconds_each=4.0, size=(640, 480))
        clips = load_clips(SPEECH_DIR)
        stream = build_stream(clips)
        speech = write_wav(workdir / "speech.wav", stream.audio)
        print(
            f"camera: {video.name}, {len(photos) * cycles} scenes of 4 s (640x480, 10 fps); "
            f"captions: {speech.name}, {len(stream.audio) / SAMPLE_RATE:.0f} s of speech clips at real time"
        )
        print(f"machine: {os.cpu_count()} cores; work folder {workdir}")
        with voice_environment() as env:
            xvfb = XvfbServer()
            display = xvfb.start()
            try:
                for run in range(1, args.runs + 1):
                    print(f"run {run}:")
                    folder = workdir / f"run{run}"
                    idle = run_app(
                        "reference", display, folder / "idle",
                        ["--camera", "", "--no-captions", "--settings", str(folder / "idle.ini")],
                        env, args.idle_seconds, narrate=False,
                    )  # fmt: skip
                    report(idle)
                    loaded = run_app(
                        "loaded", display, folder / "loaded",
                        ["--camera", str(video), "--input", str(speech),
                         "--settings", str(folder / "loaded.ini")],
                        env, args.seconds, narrate=True,
                    )  # fmt: skip
                    report(loaded)
            finally:
                xvfb.stop()
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
