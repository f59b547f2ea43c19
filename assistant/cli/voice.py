"""`assistant say`: speak a text aloud, write it to a WAV file, or list the voices."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from assistant.errors import AssistantError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from assistant.voice.espeak import DEFAULT_RATE

    parser = subparsers.add_parser("say", help="speak a text aloud (or write it to a WAV file)")
    parser.add_argument("text", nargs="*", help="what to say; read from standard input when omitted or '-'")
    parser.add_argument(
        "--rate", type=int, default=DEFAULT_RATE, help=f"words per minute (default {DEFAULT_RATE})"
    )
    parser.add_argument("--volume", type=float, default=1.0, help="0 to 1 (default 1)")
    parser.add_argument("--voice", help="voice id or name (see --list-voices)")
    parser.add_argument("--list-voices", action="store_true", help="list the installed voices and exit")
    parser.add_argument(
        "--to-file", type=Path, metavar="OUT.wav", help="write the speech to a WAV file instead of playing it"
    )
    parser.add_argument("--device", help="output device (sounddevice index or part of its name)")
    parser.set_defaults(handler=_say)


def _text(args: argparse.Namespace) -> str:
    words: list[str] = args.text
    if not words or words == ["-"]:
        if sys.stdin.isatty():
            raise AssistantError("nothing to say: give the text as arguments or pipe it in")
        return sys.stdin.read()
    return " ".join(words)


def _say(args: argparse.Namespace) -> int:
    from assistant.voice import StopSignal, load_speaker, write_wav

    device: int | str | None = int(args.device) if args.device and args.device.isdigit() else args.device
    speaker = load_speaker(rate=args.rate, volume=args.volume, voice=args.voice, output_device=device)
    try:
        if args.list_voices:
            for voice in speaker.voices():
                languages = ", ".join(voice.languages)
                print(f"{voice.id:<28} {voice.name} [{languages}]")
            return 0
        text = _text(args).strip()
        if not text:
            raise AssistantError("nothing to say: the text is empty")
        if args.to_file is not None:
            audio = speaker.synthesize(text)
            try:
                write_wav(audio, speaker.sample_rate, args.to_file)
            except OSError as error:
                raise AssistantError(
                    f"cannot write {args.to_file}: {error.strerror}: choose another path"
                ) from error
            print(
                f"wrote {len(audio) / speaker.sample_rate:.1f} s of speech to {args.to_file}", file=sys.stderr
            )
            return 0
        speaker.check_output()
        speaker.speak(text, StopSignal())
        return 0
    finally:
        speaker.close()
