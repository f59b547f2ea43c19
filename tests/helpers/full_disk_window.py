"""The window captioning a recording into a transcript on a 'full disk', in a process of its own:
`python -m tests.helpers.full_disk_window TRANSCRIPT CLIP SETTINGS` sets a real file-size limit
(RLIMIT_FSIZE) just past the transcript's earlier notes, captions CLIP in the window, and prints one JSON
object: the caption lines and the status messages. A process of its own because the limit holds for
every file the process writes: in the test runner it also broke pytest's own output when that went to
a file (as it does in CI)."""

from __future__ import annotations

import json
import os
import resource
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(transcript: str, clip: str, settings_path: str) -> int:
    from PySide6.QtWidgets import QApplication

    from assistant.session import Overrides
    from assistant.speech.live import build_live_captioner
    from ui.controller import AppController
    from ui.settings import Key, Settings

    app = QApplication(sys.argv[:1])
    settings = Settings(settings_path)
    settings.set(Key.VOICE_OUTPUT, "off")
    settings.set(Key.CAMERA, "")
    settings.set(Key.CAPTIONS_AT_START, False)
    controller = AppController(settings, Overrides(captions_at_start=False))
    controller.start(load_models=False)
    controller.window.show()

    limit = os.path.getsize(transcript) + 8  # room for a line break, not for a caption
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    def factory(on_event: object, on_status: object) -> object:
        return build_live_captioner(clip, realtime=False, on_event=on_event, on_status=on_status)  # type: ignore[arg-type]

    controller.captions.start_transcript(transcript)
    handle = controller.captions.start_captions_with(factory)  # type: ignore[arg-type]
    deadline = time.monotonic() + 120
    while handle.is_running() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)
    for _ in range(20):  # the last signals from the worker
        app.processEvents()
        time.sleep(0.01)
    window = controller.window
    result = {
        "ended": not handle.is_running(),
        "lines": list(window.captions.lines),
        "statuses": [window.status_list.item(i).text() for i in range(window.status_list.count())],
    }
    controller.shutdown()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
