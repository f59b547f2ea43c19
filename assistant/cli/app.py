"""`assistant app` (and plain `assistant`): open the desktop window.

The options mirror the command line's so the window runs on files as well as devices; what they leave
unset comes from the window's stored settings. Only one assistant runs per desktop session: a second
start forwards its command line to it (`assistant.desktop.instance`) and exits. This is the one place
the core reaches into `ui/`, and PySide6 is imported only when the window opens, so the rest of the
command line works without Qt.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from assistant.cli.options import add_recognition_options
from assistant.desktop.instance import InstanceServer, NotRunningError, forward_start
from assistant.errors import AssistantError
from assistant.session import Overrides

log = logging.getLogger("assistant.cli.app")


def register(subparsers: Any) -> None:
    app = subparsers.add_parser(
        "app",
        help="open the desktop window (the default)",
        description="The keyboard-first window for scene descriptions and live captions.",
    )
    app.add_argument(
        "--camera", metavar="SRC", help="camera number, stream address, or a video or picture file"
    )
    app.add_argument(
        "--input",
        metavar="SRC",
        help="caption source: mic, system, a device name or number, or an audio file",
    )
    add_recognition_options(app, with_defaults=False)
    app.add_argument(
        "--transcript",
        metavar="FILE",
        help="save captions to FILE (.txt, .srt, .vtt, .json) as they are finalised",
    )
    app.add_argument("--no-captions", action="store_true", help="do not start captions when the window opens")
    app.add_argument("--settings", metavar="FILE", help="use this settings file instead of the user's own")
    app.set_defaults(handler=run_app)


def overrides_from(args: argparse.Namespace) -> Overrides:
    """The command line's choices; naming a caption source means "caption it now"."""
    captions: bool | None = None
    if args.no_captions:
        captions = False
    elif args.input is not None:
        captions = True
    return Overrides(
        camera=args.camera,
        audio=args.input,
        engine=args.engine,
        model=args.model,
        language=args.language,
        translate=args.translate,
        vocabulary=args.vocabulary,
        threads=args.threads,
        transcript=args.transcript,
        captions_at_start=captions,
    )


def run_app(args: argparse.Namespace) -> int:
    # One assistant per desktop session: a second start hands its command line to the first and exits,
    # before Qt is even loaded.
    try:
        instance = InstanceServer.claim()
    except OSError as error:  # no writable runtime folder: the window still opens, unreachable by send
        log.warning("app: no instance socket (%s); `assistant send` will not reach this window", error)
        return _open_window(args, None)
    if instance is None:
        try:
            reply = forward_start(sys.argv[1:])
        except NotRunningError as error:
            raise AssistantError(f"another assistant is starting or stuck: {error}") from None
        print(reply.message)
        return 0 if reply.ok else 1
    try:
        return _open_window(args, instance)
    finally:
        instance.close()


def _open_window(args: argparse.Namespace, instance: InstanceServer | None) -> int:
    try:
        from ui.app import run
    except ImportError as error:
        raise AssistantError(
            f"the window needs PySide6 ({error}); install it with `pip install PySide6-Essentials`, "
            "or use `assistant captions` in the terminal"
        ) from None
    return run(overrides_from(args), args.settings, instance=instance)
