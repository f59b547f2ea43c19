"""`assistant describe`, `ask`, `read` and `narrate`: the vision features from a terminal.

Results go to standard output (plain text, or JSON with `--json`); progress, notes and errors go to
standard error, so `assistant narrate --camera 0 --json | jq` sees nothing but one JSON object per
description. Models, OCR and speech are imported inside the handlers: `assistant --help` stays instant.

`--server URL` (or `ASSISTANT_SERVER_URL`) sends detailed descriptions, questions and reading to a model
server; `--model` then names the server's model (`ASSISTANT_SERVER_MODEL` when `--server` is not given;
the key comes from `ASSISTANT_SERVER_KEY` or the keyring). A server's answer is printed, and spoken with
`--speak`, sentence by sentence as it streams in; when the server fails, the on-device model answers and
the reason is printed once on standard error.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from typing import Any

from assistant.cli.console import note, start_voice
from assistant.errors import AssistantError
from assistant.session import NO_TEXT, Config, Overrides, Result, Session, result_json
from assistant.vision.image import Frame

SERVER_URL_ENV = "ASSISTANT_SERVER_URL"
SERVER_MODEL_ENV = "ASSISTANT_SERVER_MODEL"

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
    describe.add_argument(
        "--model",
        metavar="M",
        help="scene model to use (default: the installed default); with --server, the server's model",
    )
    _add_server_arguments(describe)
    _add_output_arguments(describe)
    describe.set_defaults(handler=describe_command)

    ask = subparsers.add_parser(
        "ask",
        help="ask a question about a picture or what a camera sees",
        description=(
            "Answer a question about a picture: `assistant ask photo.jpg is the stove on`, or "
            "`assistant ask --camera 0 what colour is this shirt`."
        ),
    )
    ask.add_argument(
        "words",
        nargs="+",
        metavar="IMAGE QUESTION",
        help="the picture file, then the question (with --camera: only the question)",
    )
    ask.add_argument(
        "--camera",
        type=_camera_argument,
        metavar="SRC",
        help="take one frame from a camera number (0), video file, or stream address",
    )
    ask.add_argument(
        "--model",
        metavar="M",
        help="scene model to use (default: the installed default); with --server, the server's model",
    )
    _add_server_arguments(ask)
    _add_output_arguments(ask)
    ask.set_defaults(handler=ask_command)

    read = subparsers.add_parser(
        "read",
        help="read the text in a picture or what a camera sees",
        description="Read printed text (a letter, a label, a screen) in a picture or a camera frame.",
    )
    _add_input_arguments(read)
    read.add_argument("--model", metavar="M", help="with --server: the server's model")
    _add_server_arguments(read)
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
        type=_camera_argument,
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
        type=_camera_argument,
        metavar="SRC",
        help="take one frame from a camera number (0), video file, or stream address",
    )


def _add_server_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--server",
        metavar="URL",
        help=(
            f"an OpenAI-compatible model server for detailed descriptions, questions and reading "
            f"(default ${SERVER_URL_ENV}; off when unset)"
        ),
    )
    parser.add_argument(
        "--server-timeout",
        type=float,
        metavar="S",
        help="seconds to wait for the server's first words before answering here (default 8)",
    )
    parser.add_argument(
        "--allow-insecure",
        action="store_true",
        default=None,
        help="send pictures over plain http:// even to a server that is not on this machine or network",
    )


def _add_output_arguments(
    parser: argparse.ArgumentParser, json_help: str = "print the result as JSON"
) -> None:
    parser.add_argument("--speak", action="store_true", help="also say the result aloud")
    parser.add_argument("--json", action="store_true", help=json_help)


def _camera_argument(text: str) -> str:
    """An argparse type for --camera: an empty name is refused (it became the current folder, ".")."""
    if not text.strip():
        raise argparse.ArgumentTypeError("give a camera number (0), a video file or a stream address")
    return text


def _check_scene_model(name: str | None) -> None:
    """An unknown --model is an error, as a speech model given by mistake is, not a silent fallback."""
    from pathlib import Path

    from assistant import models

    if name and models.get_spec(name) is None and not Path(name).expanduser().exists():
        raise AssistantError(
            f"Unknown model {name!r}: not a model name (see `assistant models list`) nor a model folder"
        )




def _input_frame(args: argparse.Namespace) -> Any:
    from assistant.vision.frames import CameraSource, grab_frame, open_frame_source
    from assistant.vision.image import load_image

    if args.camera is None:
        return load_image(args.image)
    source = open_frame_source(args.camera)
    warmup = CAMERA_WARMUP_SECONDS if isinstance(source, CameraSource) else 0.0
    return grab_frame(source, warmup=warmup)


def _session(args: argparse.Namespace) -> Session:
    """The session these commands run on: the built-in defaults and the command line's choices.

    The server comes from --server, else ASSISTANT_SERVER_URL. With --server on the command line,
    --model names the server's model; otherwise --model is the scene model and the server's model comes
    from ASSISTANT_SERVER_MODEL."""
    model = getattr(args, "model", None)
    server = getattr(args, "server", None)
    if server:
        scene_model, server_model = None, model or os.environ.get(SERVER_MODEL_ENV)
    else:
        _check_scene_model(model)
        scene_model, server_model = model, os.environ.get(SERVER_MODEL_ENV)
        server = os.environ.get(SERVER_URL_ENV)
    overrides = Overrides(
        scene_model=scene_model,
        server_url=server or None,
        server_model=server_model or None,
        server_timeout=getattr(args, "server_timeout", None),
        server_allow_insecure=getattr(args, "allow_insecure", None),
    )
    return Session(Config().overridden_by(overrides))


class _Streamed:
    """Prints (and with --speak says) a server's answer sentence by sentence as it arrives. An answer that
    did not stream (on-device, or the server's when it failed) is printed and said whole at the end."""

    def __init__(self, args: argparse.Namespace) -> None:
        self._print = not args.json
        self._speak = bool(args.speak)
        self._speech: Any = None
        self.any = False

    def __call__(self, sentence: str) -> None:
        if self._print:
            print(("" if not self.any else " ") + sentence, end="", flush=True)
        if self._speak:
            if self._speech is None:
                self._speech = start_voice("descriptions")
                self._speak = self._speech is not None
            if self._speech is not None:
                self._speech.say(sentence)
        self.any = True

    def finish(self, result: Result) -> None:
        """End the streamed line, or print and say the whole result when it did not stream."""
        if result.notice:
            note(result.notice)
        if self.any and self._print:
            print(flush=True)
        if not result.spoken:
            if self._print:
                print(result.text, flush=True)
            if self._speak and self._speech is None:
                _speak_blocking(result.said or result.text)
            elif self._speech is not None:
                self._speech.say(result.said or result.text)
        if self._speech is not None:
            self._speech.wait_until_idle(timeout=120.0)
            self._speech.close()


def _load_unless_server(session: Session, command: str) -> None:
    """Load the scene model now, unless the server answers this command (then only if it fails)."""
    if session.server_host_for(command) is None:
        _load_scene_model(session)


def _load_scene_model(session: Session) -> None:
    """Load the scene model now, or say once that the quick cues stand in for it."""
    _, reason = session.scene.load_or_fallback()
    if reason:
        note(reason)


def _speak_blocking(text: str) -> None:
    from assistant.voice import speak_text_blocking

    speak_text_blocking(text)


def describe_command(args: argparse.Namespace) -> int:
    frame = _input_frame(args)
    session = _session(args)
    if args.question:
        return _answer(args, session, frame, args.question)
    _load_unless_server(session, f"describe-{args.detail}")
    streamed = _Streamed(args)
    result = session.describe(frame, args.detail, wait=True, on_sentence=streamed)
    if args.json:
        print(json.dumps(result_json(result), ensure_ascii=False), flush=True)
    streamed.finish(result)
    return 0


def ask_command(args: argparse.Namespace) -> int:
    words = list(args.words)
    if args.camera is None:
        if len(words) < 2:
            raise AssistantError(
                "Give the picture, then the question: assistant ask photo.jpg is the stove on"
            )
        args.image = words.pop(0)
    else:
        args.image = None
    session = _session(args)
    return _answer(args, session, _input_frame(args), " ".join(words))


def _answer(args: argparse.Namespace, session: Session, frame: Frame, question: str) -> int:
    _load_unless_server(session, "ask")
    streamed = _Streamed(args)
    result = session.ask(frame, question, wait=True, on_sentence=streamed)
    if args.json:
        output = {"question": question, "answer": result.text, "fallback": result.fallback}
        output.update({"remote": result.remote} | ({"notice": result.notice} if result.notice else {}))
        print(json.dumps(output, ensure_ascii=False), flush=True)
    streamed.finish(result)
    return 0


def read_command(args: argparse.Namespace) -> int:
    frame = _input_frame(args)
    streamed = _Streamed(args)
    result = _session(args).read(frame, on_sentence=streamed)
    has_text = result.text != NO_TEXT
    if args.json:
        output: dict[str, Any] = {"text": result.text if has_text else "", "has_text": has_text}
        output.update({"remote": result.remote} | ({"notice": result.notice} if result.notice else {}))
        print(json.dumps(output, ensure_ascii=False), flush=True)
    streamed.finish(result)
    return 0




def narrate_command(args: argparse.Namespace) -> int:
    from assistant.vision.frames import open_frame_source
    from assistant.vision.narrator import NarrationEvent, run_narration

    source = open_frame_source(args.camera, on_status=note)
    # Open the camera before loading the model: a missing camera should fail in a moment, not after
    # seconds of model loading.
    source.open()
    session = _session(args)
    try:
        _load_scene_model(session)
    except BaseException:
        source.close()
        raise
    speech = start_voice("descriptions") if args.speak else None
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

    note(f"narrating {source.description}; press Ctrl-C to stop")
    try:
        count = run_narration(
            source, describe_frame, on_description, stop, clock=lambda: time.monotonic() - started
        )
    except KeyboardInterrupt:
        stop.set()
        if speech is not None:
            speech.stop()
        note("narration stopped")
        return 0
    finally:
        source.close()
        if speech is not None:
            speech.wait_until_idle(timeout=30.0)
            speech.close()
    note(f"{source.description} ended after {count} description{'s' if count != 1 else ''}")
    return 0
