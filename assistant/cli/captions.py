"""`assistant captions` (live captions in the terminal) and `assistant transcribe` (a whole file)."""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

from assistant.cli.options import add_recognition_options
from assistant.speech.caption_lines import CaptionLines
from assistant.speech.types import CaptionEvent


def register(subparsers: Any) -> None:
    captions = subparsers.add_parser(
        "captions",
        help="live captions of a microphone, the computer's audio, or a file",
        description="Live captions in the terminal. Partial text is rewritten in place; final lines stay.",
    )
    captions.add_argument(
        "--input",
        default="mic",
        help="mic (default), system (what the computer plays), a device index or name, or an audio file",
    )
    captions.add_argument(
        "--realtime", action="store_true", help="play a file at real time, exactly like a microphone"
    )
    captions.add_argument("--json", action="store_true", help="print one JSON object per caption event")
    captions.add_argument(
        "--save", metavar="FILE", help="save final captions as they come (.txt, .srt, .vtt or .json)"
    )
    add_recognition_options(captions)
    captions.set_defaults(handler=run_captions)

    transcribe = subparsers.add_parser("transcribe", help="transcribe a whole audio file offline")
    transcribe.add_argument("file", help="an audio or video file (any format ffmpeg reads)")
    transcribe.add_argument("-o", "--output", help="write .txt, .srt, .vtt or .json instead of printing")
    add_recognition_options(transcribe)
    transcribe.set_defaults(handler=run_transcribe)


def _language(args: argparse.Namespace) -> str | None:
    return None if args.language in ("auto", "") else str(args.language)


class TerminalCaptions:
    """Prints captions broken into lines by the one caption line policy (`CaptionLines`). On a terminal
    the open line and the partial text after it are rewritten in place; elsewhere each line is printed
    once, when it is complete."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._tty = out.isatty()
        self._lines = CaptionLines(keep=2)

    def show(self, event: CaptionEvent) -> None:
        for line in self._lines.apply(event):
            self._write_line(line, end="\n")
        if self._tty:
            self._write_line(self._lines.last_line, partial=self._lines.partial)

    def _write_line(self, text: str, partial: str = "", end: str = "") -> None:
        if not self._tty:
            if end:
                print(text, file=self._out, flush=True)
            return
        width = shutil.get_terminal_size((80, 20)).columns - 1
        shown = text + (" \x1b[2;3m" + partial + "\x1b[0m" if partial else "")
        visible = len(text) + (len(partial) + 1 if partial else 0)
        if visible > width:  # keep the newest words on one line so \r can rewrite it
            cut = visible - width
            shown = (
                text[cut:] + (" \x1b[2;3m" + partial + "\x1b[0m" if partial else "")
                if cut < len(text)
                else ("\x1b[2;3m" + partial[-width:] + "\x1b[0m")
            )
        self._out.write("\r\x1b[K" + shown + end)
        self._out.flush()

    def close(self) -> None:
        if self._lines.last_line:
            self._write_line(self._lines.last_line, end="\n")
        elif self._tty and self._lines.partial:
            self._out.write("\r\x1b[K")
        self._lines = CaptionLines(keep=2)


def run_captions(args: argparse.Namespace) -> int:
    from assistant.speech.live import build_live_captioner
    from assistant.speech.transcripts import TranscriptWriter

    terminal = TerminalCaptions(sys.stdout)
    writer = TranscriptWriter(args.save) if args.save else None

    def on_event(event: CaptionEvent) -> None:
        if args.json:
            print(json.dumps(event.to_json_dict()), flush=True)
        else:
            terminal.show(event)
        if writer is not None and event.kind == "final" and event.text:
            writer.add(event)

    def on_status(message: str) -> None:
        print(f"assistant: {message}", file=sys.stderr, flush=True)

    captioner = build_live_captioner(
        args.input,
        engine=args.engine,
        model=args.model,
        language=_language(args),
        translate=args.translate,
        vocabulary=args.vocabulary,
        realtime=args.realtime,
        threads=args.threads,
        on_event=on_event,
        on_status=on_status,
    )
    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        captioner.run(stop)
    finally:
        signal.signal(signal.SIGINT, previous)
        if not args.json:
            terminal.close()
        if writer is not None:
            writer.close()
            print(f"assistant: saved {writer.count} captions to {args.save}", file=sys.stderr)
    return 0


def run_transcribe(args: argparse.Namespace) -> int:
    from assistant.audio.sources import load_audio_file
    from assistant.speech.engines import RecognizerOptions, load_recognizer
    from assistant.speech.transcripts import TranscriptSegment, transcript_format, write_transcript

    if args.output:
        transcript_format(Path(args.output))  # refuse an unknown format before the slow work
    audio = load_audio_file(Path(args.file))
    recognizer = load_recognizer(
        args.engine,
        args.model,
        RecognizerOptions(
            language=_language(args),
            translate=args.translate,
            vocabulary=args.vocabulary,
            threads=args.threads,
        ),
    )
    segments = []
    for segment in recognizer.transcribe_long(audio):
        if args.output:
            segments.append(TranscriptSegment(segment.start, segment.end, segment.text))
        else:
            print(segment.text, flush=True)
    if args.output:
        write_transcript(segments, Path(args.output))
        print(f"assistant: wrote {len(segments)} segments to {args.output}", file=sys.stderr)
    return 0
