"""`assistant alerts` (sound alerts from a microphone, the computer's audio or a file) and
`assistant sounds learn|list|forget` (the sounds the user teaches)."""

from __future__ import annotations

import argparse
import datetime
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from assistant.sounds.classifier import DEFAULT_CLASSIFIER
from assistant.sounds.types import AlertEvent


def register(subparsers: Any) -> None:
    alerts = subparsers.add_parser(
        "alerts",
        help="alerts for smoke and CO alarms, taught sounds and household sounds",
        description="Listen for sounds a deaf or hard-of-hearing person needs to know about: smoke and "
        "carbon-monoxide alarms (by their pattern), sounds taught with `assistant sounds learn`, and "
        "household sounds (dog, baby crying, knocking…) when the sound classifier is installed.",
    )
    alerts.add_argument(
        "--input",
        default="mic",
        help="mic (default), system (what the computer plays), a device index or name, or an audio file",
    )
    alerts.add_argument(
        "--realtime", action="store_true", help="play a file at real time, exactly like a microphone"
    )
    alerts.add_argument("--json", action="store_true", help="print one JSON object per line")
    alerts.add_argument(
        "--classifier",
        default=DEFAULT_CLASSIFIER,
        help="household-sound model: a name from `assistant models list` or a folder "
        f"(default {DEFAULT_CLASSIFIER})",
    )
    alerts.add_argument(
        "--no-classifier", action="store_true", help="alarms and taught sounds only (no model, least CPU)"
    )
    alerts.set_defaults(handler=run_alerts)

    sounds = subparsers.add_parser(
        "sounds",
        help="teach, list and forget your own sounds (doorbell, kettle, washing machine…)",
        description="Sounds you teach are recognised by `assistant alerts` and in the window.",
    )
    actions = sounds.add_subparsers(dest="action", metavar="ACTION", required=True)
    learn = actions.add_parser(
        "learn",
        help="teach a sound from 1-5 recordings of it",
        description="Teach a sound from 1 to 5 short recordings of it (any format ffmpeg reads). Three "
        "recordings, each of just the sound, work best.",
    )
    learn.add_argument("name", help="what to call it, e.g. doorbell")
    learn.add_argument("files", nargs="+", type=Path, metavar="FILE", help="recordings of the sound")
    learn.add_argument("--replace", action="store_true", help="replace a sound taught under this name")
    learn.set_defaults(handler=run_learn)
    listing = actions.add_parser("list", help="the sounds taught so far")
    listing.add_argument("--json", action="store_true", help="print one JSON object per sound")
    listing.set_defaults(handler=run_list)
    forget = actions.add_parser("forget", help="forget a taught sound")
    forget.add_argument("name", help="the sound's name, as `assistant sounds list` shows it")
    forget.set_defaults(handler=run_forget)


# -------------------------------------------------------------------------------------------- alerts


def _describe(event: AlertEvent) -> str:
    if event.kind == "ended":
        end = event.end if event.end is not None else event.at
        return f"{end:7.1f} s  {event.sound} stopped (it lasted {max(0.0, end - event.start):.1f} s)"
    marker = "!!" if event.critical else "  "
    return (
        f"{event.at:7.1f} s {marker}{event.sound.upper() if event.critical else event.sound} "
        f"(began at {event.start:.1f} s, confidence {event.confidence:.2f})"
    )


def run_alerts(args: argparse.Namespace) -> int:
    from assistant.audio.sources import FileSource, open_audio_source
    from assistant.sounds.alerts import AlertListener, build_alert_detectors

    def on_status(message: str) -> None:
        if args.json:
            print(json.dumps({"type": "status", "message": message}), flush=True)
        else:
            print(f"assistant: {message}", file=sys.stderr, flush=True)

    def on_event(event: AlertEvent) -> None:
        if args.json:
            print(json.dumps(event.to_json_dict()), flush=True)
        else:
            print(_describe(event), flush=True)

    source = open_audio_source(args.input, realtime=args.realtime)
    source.open()  # fails here, with one clear line, before any model loads
    # A file read faster than real time asks the classifier to look at every window in turn; live audio
    # lets it look on its own thread so the alarms never wait for it.
    offline = isinstance(source, FileSource) and not args.realtime
    detectors = build_alert_detectors(
        classifier_model=None if args.no_classifier else args.classifier,
        background_classifier=not offline,
        on_status=on_status,
    )
    listener = AlertListener(source, detectors, on_event, on_status)
    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        listener.run(stop)
    finally:
        signal.signal(signal.SIGINT, previous)
    return 0


# -------------------------------------------------------------------------------------------- sounds


def run_learn(args: argparse.Namespace) -> int:
    from assistant.sounds.taught import (
        MAX_EXAMPLES,
        SoundLibrary,
        TaughtSoundError,
        check_name,
        learn_sound,
        load_examples,
    )

    name = check_name(args.name)
    if len(args.files) > MAX_EXAMPLES:
        raise TaughtSoundError(
            f"Teach a sound with 1 to {MAX_EXAMPLES} examples (got {len(args.files)}): pick the clearest."
        )
    library = SoundLibrary()
    if not args.replace:
        library.ensure_free(name)  # before decoding anything
    examples = load_examples(args.files)
    sound = learn_sound(name, examples, [path.name for path in args.files])
    path = library.add(sound, replace=args.replace)
    agreement = "" if sound.agreement is None else f"; the examples agree {sound.agreement:.2f}"
    print(f"assistant: taught '{sound.name}' from {len(examples)} example(s){agreement} (kept in {path})")
    if sound.agreement is not None and sound.agreement < 0.5:
        print(
            f"assistant: the examples do not sound much alike ({sound.agreement:.2f}): check that each is "
            "the same sound, recorded with little else going on.",
            file=sys.stderr,
        )
    return 0


def run_list(args: argparse.Namespace) -> int:
    from assistant.sounds.taught import SoundLibrary

    library = SoundLibrary()
    sounds = library.load_all()
    if args.json:
        for sound in sounds:
            print(
                json.dumps(
                    {
                        "name": sound.name,
                        "examples": len(sound.examples),
                        "taught": datetime.datetime.fromtimestamp(sound.created).isoformat(
                            timespec="seconds"
                        ),
                        "agreement": sound.agreement,
                    }
                )
            )
        return 0
    if not sounds:
        print(f"No sounds taught yet ({library.folder}). Teach one: assistant sounds learn NAME FILE…")
        return 0
    width = max(len(sound.name) for sound in sounds)
    for sound in sounds:
        taught = datetime.datetime.fromtimestamp(sound.created).strftime("%Y-%m-%d %H:%M")
        agreement = "" if sound.agreement is None else f", examples agree {sound.agreement:.2f}"
        print(f"{sound.name:<{width}}  {len(sound.examples)} example(s), taught {taught}{agreement}")
    return 0


def run_forget(args: argparse.Namespace) -> int:
    from assistant.sounds.taught import SoundLibrary

    name = SoundLibrary().forget(args.name)
    print(f"assistant: forgot '{name}'")
    return 0
