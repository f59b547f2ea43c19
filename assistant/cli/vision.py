"""`assistant describe`, `assistant read` and `assistant narrate`: the vision features from a terminal.

Results go to standard output (plain text, or JSON with `--json`); progress, notes and errors go to
standard error, so `assistant narrate --camera 0 --json | jq` sees nothing but one JSON object per
description. Models, OCR and speech are imported inside the handlers: `assistant --help` stays instant.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from typing import Any

from assistant.errors import AssistantError
from assistant.session import NO_TEXT, Config, Overrides, Session, result_json
from assistant.vision.image import Frame

CAMERA_WARMUP_SECONDS = 0.5
"""Frames discarded after opening a webcam for a single shot, while its exposure and focus settle."""


def register(subparsers: Any) -> None:
    describe = subparsers.add_parser(
        "describe",
        help="describe a picture or what a camera sees",
        description="Describe a picture, or one frame from a camera, video or stream, in a sentence.",
    )
    _add_input_arguments(describe)
    describe.add_argument(
        "--detail",
        choices=("brief", "detailed"),
        default="brief",
        help="one sentence, or a fuller description",
    )
    describe.add_argument("--question", "-q", metavar="Q", help="ask a question about the picture instead")
    describe.add_argument("--model", metavar="M", help="scene model to use (default: the installed default)")
    _add_output_arguments(describe)
    describe.set_defaults(handler=describe_command)

    read = subparsers.add_parser(
        "read",
        help="read the text in a picture or what a camera sees",
        description="Read printed text (a letter, a label, a screen) in a picture or a camera frame.",
    )
    _add_input_arguments(read)
    _add_output_arguments(read)
    read.set_defaults(handler=read_command)

    narrate = subparsers.add_parser(
        "narrate",
        help="describe each new scene a camera sees, until Ctrl-C",
        description=(
            "Watch a camera, video or stream and describe the scene each time it changes and the camera "
            "has settled. Stops at Ctrl-C or when a video file ends."
        ),
    )
    narrate.add_argument(
        "--camera",
        metavar="SRC",
        required=True,
        help="camera number (0 is the first), video file, or http/rtsp stream address",
    )
    narrate.add_argument("--model", metavar="M", help="scene model to use (default: the installed default)")
    _add_output_arguments(narrate, json_help='print one JSON object per description: {"t": ..., "text": ...}')
    narrate.set_defaults(handler=narrate_command)


def _add_input_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("image", nargs="?", metavar="IMAGE", help="picture file (PNG, JPEG, ...)")
    group.add_argument(
        "--camera",
        metavar="SRC",
        help="take one frame from a camera number (0), video file, or stream address",
    )


def _add_output_arguments(
    parser: argparse.ArgumentParser, json_help: str = "print the result as JSON"
) -> None:
    parser.add_argument("--speak", action="store_true", help="also say the result aloud")
    parser.add_argument("--json", action="store_true", help=json_help)


def _note(message: str) -> None:
    print(f"assistant: {message}", file=sys.stderr, flush=True)


def _input_frame(args: argparse.Namespace) -> Any:
    from assistant.vision.frames import CameraSource, grab_frame, open_frame_source
    from assistant.vision.image import load_image

    if args.camera is None:
        return load_image(args.image)
    source = open_frame_source(args.camera)
    warmup = CAMERA_WARMUP_SECONDS if isinstance(source, CameraSource) else 0.0
    return grab_frame(source, warmup=warmup)


def _session(args: argparse.Namespace) -> Session:
    """The session these commands run on: the built-in defaults and the command line's choices."""
    return Session(Config().overridden_by(Overrides(scene_model=getattr(args, "model", None))))


def _load_scene_model(session: Session) -> None:
    """Load the scene model now, or say once that the quick cues stand in for it."""
    _, reason = session.scene.load_or_fallback()
    if reason:
        _note(reason)


def _speak_blocking(text: str) -> None:
    from assistant.voice import speak_text_blocking

    speak_text_blocking(text)


def describe_command(args: argparse.Namespace) -> int:
    frame = _input_frame(args)
    session = _session(args)
    _load_scene_model(session)
    if args.question:
        result = session.ask(frame, args.question, wait=True)
        output: dict[str, Any] = {
            "question": args.question,
            "answer": result.text,
            "fallback": result.fallback,
        }
    else:
        result = session.describe(frame, args.detail, wait=True)
        output = result_json(result)
    print(json.dumps(output, ensure_ascii=False) if args.json else result.text, flush=True)
    if args.speak:
        _speak_blocking(result.text)
    return 0


def read_command(args: argparse.Namespace) -> int:
    frame = _input_frame(args)
    result = _session(args).read(frame)
    has_text = result.text != NO_TEXT
    if args.json:
        print(
            json.dumps({"text": result.text if has_text else "", "has_text": has_text}, ensure_ascii=False),
            flush=True,
        )
    else:
        print(result.text, flush=True)
    if args.speak:
        _speak_blocking(result.text)
    return 0


def _start_narration_voice() -> Any:
    """The speech controller for narration, or None (with a warning) when speech is unavailable."""
    from assistant import voice

    controller = voice.SpeechController(voice.load_speaker)
    try:
        controller.start()
    except AssistantError as error:
        _note(f"warning: descriptions will not be spoken: {error}")
        return None
    return controller


def narrate_command(args: argparse.Namespace) -> int:
    from assistant.vision.frames import open_frame_source
    from assistant.vision.narrator import NarrationEvent, run_narration

    source = open_frame_source(args.camera, on_status=_note)
    # Open the camera before loading the model: a missing camera should fail in a moment, not after
    # seconds of model loading.
    source.open()
    session = _session(args)
    try:
        _load_scene_model(session)
    except BaseException:
        source.close()
        raise
    speech = _start_narration_voice() if args.speak else None
    stop = threading.Event()
    started = time.monotonic()

    def on_description(event: NarrationEvent) -> None:
        if args.json:
            print(json.dumps({"t": round(event.t, 2), "text": event.text}, ensure_ascii=False), flush=True)
        else:
            print(event.text, flush=True)
        if speech is not None:
            # A new description cuts off whatever is left of the previous, stale one.
            if event.interrupt:
                speech.interrupt()
            speech.say(event.text)

    def describe_frame(frame: Frame) -> str:
        return session.narrate(frame).text

    _note(f"narrating {source.description}; press Ctrl-C to stop")
    try:
        count = run_narration(
            source, describe_frame, on_description, stop, clock=lambda: time.monotonic() - started
        )
    except KeyboardInterrupt:
        stop.set()
        if speech is not None:
            speech.stop()
        _note("narration stopped")
        return 0
    finally:
        source.close()
        if speech is not None:
            speech.wait_until_idle(timeout=30.0)
            speech.close()
    _note(f"{source.description} ended after {count} description{'s' if count != 1 else ''}")
    return 0
