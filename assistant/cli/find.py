"""`assistant find "my keys"`: watch a camera until the thing named is in view, and say where it is.

Standard output gets one line per event (with `--json`, one object: `{"type": "found"|"lost"|"score",
"query", "where", "score", "t"}`; score events at most every half second); notes and errors go to standard
error. With `--speak` the finds are spoken and a guidance tone rises as the match grows (`--no-tone`).
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from typing import Any

from assistant.cli.console import note, start_voice
from assistant.session import Config, Overrides, Session
from assistant.vision.finder import Finder, FinderSettings, FindEvent, clean_query, run_find


def register(subparsers: Any) -> None:
    find = subparsers.add_parser(
        "find",
        help="watch a camera until something is in view, and say where",
        description=(
            'Watch a camera, video or stream for something named ("my keys", "a cup", "the door") and '
            "report when it comes into view, where it is, and when it leaves. Needs the finder model: "
            "assistant models download siglip-base."
        ),
    )
    find.add_argument("query", help='what to find, for example "my keys"')
    find.add_argument(
        "--camera",
        metavar="SRC",
        default="0",
        help="camera number (0 is the first), video file, or http/rtsp stream address",
    )
    find.add_argument("--model", metavar="M", help="finder model (default: siglip-base) or a model folder")
    find.add_argument("--json", action="store_true", help="print one JSON object per event")
    find.add_argument("--speak", action="store_true", help="say what is found, with a guidance tone")
    find.add_argument("--no-tone", action="store_true", help="with --speak: no guidance tone")
    find.add_argument("--until-found", action="store_true", help="stop once it has been in view for a moment")
    find.set_defaults(handler=find_command)




def _print_event(event: FindEvent, as_json: bool) -> None:
    if as_json:
        print(json.dumps(event.as_dict(), ensure_ascii=False), flush=True)
    elif event.type != "score":
        print(event.spoken(), flush=True)


def find_command(args: argparse.Namespace) -> int:
    from assistant.vision.frames import FrameSourceError, open_frame_source

    query = clean_query(args.query)  # an empty query fails before anything opens
    if not args.camera.strip():
        raise FrameSourceError("No camera given. Use --camera 0 for the first camera, or a video file.")
    source = open_frame_source(args.camera, on_status=note)
    source.open()  # a missing camera fails in a moment, not after the model has loaded
    session = Session(Config().overridden_by(Overrides(finder_model=args.model)))
    speech: Any = None
    try:
        scorer = session.finder.get()
        prepared = scorer.prepare(query)
        if args.speak:
            speech = start_voice("finds")
    except BaseException:
        source.close()
        raise
    tone = None
    if speech is not None and not args.no_tone:
        from assistant.voice.tone import GuidanceTone

        tone = GuidanceTone(lambda: bool(speech.is_speaking))
    finder = Finder(scorer, prepared, FinderSettings())
    started = time.monotonic()
    stop = threading.Event()

    def on_event(event: FindEvent) -> None:
        _print_event(event, args.json)
        if speech is not None and event.type != "score":
            from assistant.voice.controller import Priority

            speech.say(event.spoken(), Priority.NOW)
        elif tone is not None and not finder.found:
            tone.update(event.level, event.t)

    note(f"looking for {query} in {source.description}; press Ctrl-C to stop")
    try:
        run_find(
            source,
            finder,
            on_event,
            stop,
            lambda: time.monotonic() - started,
            stop_after_found=2.0 if args.until_found else None,
        )
    except KeyboardInterrupt:
        stop.set()
        note("find stopped")
    finally:
        source.close()
        if speech is not None:
            speech.wait_until_idle(timeout=10.0)
            speech.close()
    return 0


