"""`assistant app` (and plain `assistant`): open the desktop window.

The options mirror the command line's so the window runs on files as well as devices. PySide6 is
imported only when the window opens, so the rest of the command line works without Qt.
"""

from __future__ import annotations

import argparse
from typing import Any

from assistant.errors import AssistantError


def add_app_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--camera", metavar="SRC", help="camera number, stream address, or a video or picture file"
    )
    parser.add_argument(
        "--input",
        metavar="SRC",
        help="caption source: mic, system, a device name or number, or an audio file",
    )
    parser.add_argument("--engine", help="speech engine (faster-whisper or openai-whisper)")
    parser.add_argument("--model", help="speech model name or path (default: the setting, tiny.en)")
    parser.add_argument(
        "--transcript",
        metavar="FILE",
        help="save captions to FILE (.txt, .srt, .vtt, .json) as they are finalised",
    )
    parser.add_argument(
        "--no-captions", action="store_true", help="do not start captions when the window opens"
    )
    parser.add_argument("--settings", metavar="FILE", help="use this settings file instead of the user's own")


def register(subparsers: Any) -> None:
    app = subparsers.add_parser(
        "app",
        help="open the desktop window (the default)",
        description="The keyboard-first window for scene descriptions and live captions.",
    )
    add_app_arguments(app)
    app.set_defaults(handler=run_app)


def run_app(args: argparse.Namespace) -> int:
    try:
        from ui.app import run
    except ImportError as error:
        raise AssistantError(
            f"the window needs PySide6 ({error}); install it with `pip install PySide6-Essentials`, "
            "or use `assistant captions` in the terminal"
        ) from None
    return run(args)


def default_handler(args: argparse.Namespace) -> int:
    """What plain `assistant` runs: the window, with the app's default options."""
    for name in ("camera", "input", "engine", "model", "transcript", "settings"):
        if not hasattr(args, name):
            setattr(args, name, None)
    if not hasattr(args, "no_captions"):
        args.no_captions = False
    return run_app(args)
