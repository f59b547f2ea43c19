"""Save a current screenshot of the real window, with live captions and a description on it.

Runs `python -m assistant app` on a private Xvfb display (its voice on a private PulseAudio null sink
when PulseAudio is installed): the camera is a video of an evaluation photo, the caption source two
evaluation speech clips played at real time. Once their captions are on screen it presses "Describe now"
(Ctrl+Shift+D, through XTEST), waits for the description, grabs the window from the X server and closes
the app. Without a scene model installed the description is the offline quick cues. Usage:

    .venv/bin/python scripts/screenshot.py [--output resources/screenshot.png]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.speech.evaluation import build_stream, load_clips  # noqa: E402
from assistant.vision.image import load_image  # noqa: E402
from tests.helpers.app_process import AppProcess  # noqa: E402
from tests.helpers.data import IMAGES_DIR, SPEECH_DIR  # noqa: E402
from tests.helpers.pulse import voice_environment  # noqa: E402
from tests.helpers.speech import write_wav  # noqa: E402
from tests.helpers.video import make_scene_video  # noqa: E402
from tests.helpers.x11 import XDisplay, XvfbServer, grab_window  # noqa: E402

PHOTO = "skimage_astronaut.png"
CLIPS = ("jfk.flac", "ljspeech_LJ001-0009.flac")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--output", type=Path, default=ROOT / "resources" / "screenshot.png")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="assistant-screenshot-"))
    try:
        photo = load_image(IMAGES_DIR / PHOTO)
        video = make_scene_video(workdir / "camera.avi", [photo], seconds_each=90.0, size=(640, 480))
        clips = [clip for clip in load_clips(SPEECH_DIR) if clip.path.name in CLIPS]
        speech = write_wav(workdir / "speech.wav", build_stream(clips).audio)

        with voice_environment() as env:
            xvfb = XvfbServer()
            display = xvfb.start()
            app = AppProcess(
                display,
                workdir,
                ["--camera", str(video), "--input", str(speech), "--settings", str(workdir / "settings.ini")],
                env=env,
            )
            try:
                app.start()
                exposed = app.wait_for(lambda e: e["event"] == "exposed", 60, "window on screen")
                app.wait_for_status("camera: watching", 60)
                app.wait_for_status("the audio ended", 90)
                with XDisplay(display) as x:
                    x.focus(exposed["window"])
                    x.press("Ctrl+Shift+D")
                app.wait_for(lambda e: e["event"] == "description", 30, "description")
                args.output.parent.mkdir(parents=True, exist_ok=True)
                grab_window(display, exposed["window"], args.output)
            finally:
                app.terminate(timeout=15)
                app.kill()
                xvfb.stop()
        print(f"saved {args.output}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
