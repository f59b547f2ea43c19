"""`assistant say`: speak a text aloud, write it to a WAV file, or list the voices."""

from __future__ import annotations

import argparse
import sys
import wave
from pathlib import Path
from typing import Any

import numpy as np

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


def _write_speech(speaker: Any, text: str, path: Path) -> float:
    """Synthesise `text` into the WAV file `path` as it is made (a long text never sits in memory
    whole); the seconds written. Any failure is one `AssistantError`."""
    if path.suffix.lower() != ".wav":
        raise AssistantError(f"cannot write {path}: only WAV files can be written; name it {path.stem}.wav")
    if path.is_dir():
        raise AssistantError(f"cannot write {path}: it is a folder; give a file name ending in .wav")
    try:
        raw = open(path, "wb")  # closed below, also when wave fails
    except OSError as error:
        raise AssistantError(f"cannot write {path}: {error.strerror}: choose another path") from error
    output = wave.open(raw, "wb")
    output.setnchannels(1)
    output.setsampwidth(2)
    output.setframerate(speaker.sample_rate)
    frames = 0
    failed: list[OSError] = []

    def write(chunk: Any) -> bool:
        # Runs on eSpeak's thread: an exception here would be printed and ignored, so it is kept and
        # synthesis stopped instead.
        nonlocal frames
        try:
            output.writeframes((np.clip(chunk, -1.0, 1.0) * 32767.0).astype("<i2").tobytes())
        except OSError as error:
            failed.append(error)
            return False
        frames += len(chunk)
        return True

    try:
        if hasattr(speaker, "synthesize_into"):
            speaker.synthesize_into(text, write)
        else:
            write(speaker.synthesize(text))
        if failed:
            raise failed[0]
        output.close()
    except OSError as error:
        # WORKAROUND: a failed Wave_write retries its header in __del__ and prints a second traceback;
        # forget its file once ours is closed.
        output._file = None  # type: ignore[attr-defined]
        raw.close()
        raise AssistantError(f"cannot write {path}: {error.strerror}: choose another path") from error
    finally:
        raw.close()
    return float(frames / speaker.sample_rate)


def _say(args: argparse.Namespace) -> int:
    from assistant.voice import StopSignal, load_speaker

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
            seconds = _write_speech(speaker, text, args.to_file)
            print(f"wrote {seconds:.1f} s of speech to {args.to_file}", file=sys.stderr)
            return 0
        speaker.check_output()
        speaker.speak(text, StopSignal())
        return 0
    finally:
        speaker.close()
