"""`assistant captions` (live captions in the terminal) and `assistant transcribe` (a whole file)."""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from assistant.cli.options import add_recognition_options
from assistant.errors import AssistantError, AudioInputError
from assistant.speech.caption_lines import CaptionLines
from assistant.speech.types import CaptionEvent, CharSpan

if TYPE_CHECKING:
    from collections.abc import Iterator

    from assistant.audio.source import AudioArray
    from assistant.speech.transcripts import TranscriptWriter


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
    captions.add_argument(
        "--alerts",
        action="store_true",
        help="also listen for smoke and CO alarms and taught sounds (one capture), shown between captions",
    )
    add_recognition_options(captions)
    captions.set_defaults(handler=run_captions)

    transcribe = subparsers.add_parser("transcribe", help="transcribe a whole audio file offline")
    transcribe.add_argument("file", help="an audio or video file (any format ffmpeg reads)")
    transcribe.add_argument("-o", "--output", help="write .txt, .srt, .vtt or .json instead of printing")
    add_recognition_options(transcribe)
    transcribe.add_argument(
        "--server",
        metavar="URL",
        help=(
            "send the recording to this model server's /v1/audio/transcriptions (vLLM or transformers "
            "serve with a Whisper model); when it has none, or fails, this computer transcribes"
        ),
    )
    transcribe.add_argument(
        "--server-model", metavar="NAME", help="the server's speech model (default: one named whisper)"
    )
    transcribe.add_argument(
        "--allow-insecure",
        action="store_true",
        help="send the recording over plain http:// even to a server outside this computer and network",
    )
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
        for line in self._lines.apply(event):  # the line before the one just started
            self._write_line(line, end="\n", unsure=self._lines.unsure[-2])
        if self._tty:
            self._write_line(
                self._lines.last_line,
                partial=self._lines.partial,
                unsure=self._lines.last_unsure,
                partial_unsure=self._lines.partial_unsure,
            )

    def _write_line(
        self,
        text: str,
        partial: str = "",
        end: str = "",
        unsure: tuple[CharSpan, ...] = (),
        partial_unsure: tuple[CharSpan, ...] = (),
    ) -> None:
        """On a terminal, words the recogniser was unsure of are underlined (never in piped output)."""
        if not self._tty:
            if end:
                print(text, file=self._out, flush=True)
            return
        width = shutil.get_terminal_size((80, 20)).columns - 1
        dim = " \x1b[2;3m" + _underlined(partial, partial_unsure) + "\x1b[0m" if partial else ""
        shown = _underlined(text, unsure) + dim
        visible = len(text) + (len(partial) + 1 if partial else 0)
        if visible > width:  # keep the newest words on one line so \r can rewrite it
            cut = visible - width
            kept = tuple((a - cut, b - cut) for a, b in unsure if a >= cut)
            shown = (
                _underlined(text[cut:], kept) + dim
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


def _underlined(text: str, spans: tuple[CharSpan, ...]) -> str:
    pieces, at = [], 0
    for start, end in sorted(spans):
        if start >= at:
            pieces += [text[at:start], "\x1b[4m", text[start:end], "\x1b[24m"]
            at = end
    return "".join([*pieces, text[at:]])


def run_captions(args: argparse.Namespace) -> int:
    from assistant.speech.live import build_live_captioner
    from assistant.speech.transcripts import TranscriptWriter

    terminal = TerminalCaptions(sys.stdout)
    writer = None
    if args.save:
        # Opened now: a file that cannot be written is said before the model loads, and an existing
        # transcript is continued, never replaced.
        writer = TranscriptWriter(args.save, on_problem=_note)
        writer.open()
        if writer.appended:
            _note(f"adding to {args.save}, which already holds {writer.appended} captions")

    def on_event(event: CaptionEvent) -> None:
        if args.json:
            print(json.dumps(event.to_json_dict()), flush=True)
        else:
            terminal.show(event)
        if writer is not None and event.kind == "final" and event.text:
            writer.add(event)

    on_audio = _alert_tap(on_event, args.json) if args.alerts else None
    stop = threading.Event()
    # Ctrl+C, closing the terminal (SIGHUP) and logging out or a service manager (SIGTERM) all end the
    # same way, from the start: the utterance in progress is finalised and saved, and the saved line is
    # printed.
    with _stop_on_signals(stop):
        try:
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
                on_status=_note,
                on_audio=on_audio,
            )
            if not stop.is_set():
                captioner.run(stop)
        finally:
            if not args.json:
                terminal.close()
            if writer is not None:
                _finish_transcript(writer)
    return 0


def _alert_tap(on_caption: Callable[[CaptionEvent], None], as_json: bool) -> Callable[[AudioArray], None]:
    """The sound detectors on the captions' own capture: each alert is printed between the captions,
    as a JSON line (`assistant alerts --json`'s form) or as a marker line ("[Smoke alarm]") that is also
    saved with the transcript."""
    from assistant.sounds.alerts import build_alert_detectors

    detectors = build_alert_detectors(on_status=_note, background_classifier=False)

    def on_audio(chunk: AudioArray) -> None:
        # The detectors stamp `t_emit` from the first sample they hear, the captions' own clock (not
        # from before the speech model loaded).
        for event in detectors.process(chunk):
            if event.kind != "alert":
                continue
            if as_json:
                print(json.dumps(event.to_json_dict()), flush=True)
            else:
                name = event.sound[:1].upper() + event.sound[1:]
                on_caption(CaptionEvent("final", f"[{name}]", event.at, event.at, event.t_emit))

    return on_audio


def _note(message: str) -> None:
    print(f"assistant: {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    wanted = [signal.SIGINT, signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    previous = {number: signal.signal(number, lambda *_: stop.set()) for number in wanted}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _finish_transcript(writer: TranscriptWriter) -> None:
    writer.retry()  # the disk may have room again
    writer.close()
    if writer.waiting:
        _note(
            f"saved {writer.count} captions to {writer.path}; the last {writer.waiting} could not be written "
            "(said above) and are only in the output above"
        )
    else:
        _note(f"saved {writer.count} captions to {writer.path}")


def _server_then_local_segments(args: argparse.Namespace) -> Iterator[Any]:
    """The recording's transcript from the server, decoded and sent five minutes at a time (hours are
    never in memory whole); if the server cannot transcribe, or fails part way, this computer goes on
    from where the server stopped, so nothing it heard is lost or heard twice."""
    import itertools

    from assistant.audio.source import SAMPLE_RATE
    from assistant.audio.sources import iter_audio_file
    from assistant.remote.address import parse_server_url
    from assistant.remote.errors import ServerError
    from assistant.remote.keys import server_key
    from assistant.remote.transcribe import RemoteTranscriber
    from assistant.speech.engines import stream_pieces
    from assistant.speech.transcripts import TranscriptSegment

    host = parse_server_url(args.server).display
    transcriber = RemoteTranscriber(
        args.server,
        args.server_model or "",
        api_key=lambda: server_key(host),
        allow_insecure=args.allow_insecure,
    )
    # Opened here, before anything is sent: a missing or unreadable file is said first.
    pieces = stream_pieces(iter_audio_file(args.file))  # a str: Path() would turn http:// into http:/
    print(f"assistant: sending the recording to {host}", file=sys.stderr, flush=True)
    with contextlib.closing(transcriber):
        for offset, piece in pieces:
            done = 0.0  # seconds of this piece the server has given text for
            try:
                for segment in transcriber.transcribe(piece, offset=offset):
                    yield TranscriptSegment(segment.start, segment.end, segment.text)
                    done = segment.end - offset
            except ServerError as error:
                resume = f" from {_clock(offset + done)}" if offset + done else ""
                print(
                    f"assistant: {error} Transcribing on this computer instead{resume}.",
                    file=sys.stderr,
                    flush=True,
                )
                rest = itertools.chain([piece[round(done * SAMPLE_RATE) :]], (p for _, p in pieces))
                yield from _local_segments(args, rest, offset + done)
                return
            del piece  # not held while the next piece is cut


def _clock(seconds: float) -> str:
    minutes, second = divmod(int(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{second:02d}" if minutes >= 60 else f"{minutes}:{second:02d}"


def _local_segments(args: argparse.Namespace, audio: Any, offset: float = 0.0) -> Iterator[Any]:
    """This computer's transcript of `audio` (an array or blocks), timed from `offset` seconds."""
    from assistant.speech.engines import RecognizerOptions, load_recognizer
    from assistant.speech.transcripts import TranscriptSegment

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
    for segment in recognizer.transcribe_long(audio):
        yield TranscriptSegment(offset + segment.start, offset + segment.end, segment.text)


def run_transcribe(args: argparse.Namespace) -> int:
    from assistant.audio.sources import iter_audio_file
    from assistant.speech.transcripts import check_writable

    if args.output:
        check_writable(args.output)  # a bad name or folder is said before the slow work, not after
    if args.server:
        transcript = _server_then_local_segments(args)
    else:
        # Decoded block by block as it is transcribed: hours of audio are never in memory whole.
        # Opening it here says a missing or unreadable file before the model loads.
        transcript = _local_segments(args, iter_audio_file(args.file))
    segments = []
    heard = 0
    try:
        for segment in transcript:
            heard += 1
            if args.output:
                segments.append(segment)
            else:
                print(segment.text, flush=True)
    except AudioInputError as error:
        if not (args.output and segments):
            raise
        # Damage met part way through: what was heard before it is kept.
        _write_transcript_or_print(segments, args.output)
        raise AudioInputError(f"{error}; the transcript up to {segments[-1].end:.0f} s is saved") from None
    if not heard:
        print(f"assistant: no speech found in {args.file}", file=sys.stderr)
    if args.output:
        _write_transcript_or_print(segments, args.output)
        print(f"assistant: wrote {len(segments)} segments to {args.output}", file=sys.stderr)
    return 0


def _write_transcript_or_print(segments: list[Any], output: str) -> None:
    from assistant.speech.transcripts import write_transcript

    try:
        write_transcript(segments, Path(output))
    except AssistantError as error:
        # The work is not lost: the text goes to the terminal instead, and the error is said.
        for segment_written in segments:
            print(segment_written.text, flush=True)
        raise AssistantError(f"{error} The transcript is printed above instead.") from None
