"""`assistant models ...`: list the models the app knows, show where one is, download one on request, and
suggest the speech model this computer keeps up with (measured here)."""

from __future__ import annotations

import argparse
import sys

from assistant import models
from assistant.cli.options import thread_count
from assistant.errors import AssistantError, ModelNotFoundError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("models", help="list, locate and download models")
    commands = parser.add_subparsers(dest="models_command", metavar="SUBCOMMAND")
    parser.set_defaults(handler=lambda _args: _print_help(parser))

    listing = commands.add_parser("list", help="every model the app can use, and where it is installed")
    listing.set_defaults(handler=_list)

    path = commands.add_parser("path", help="print where a model's files are (never downloads)")
    path.add_argument("name", metavar="NAME", help="a model name from `assistant models list`, or a path")
    path.add_argument("--engine", choices=models.ENGINES, help="the runtime that will load it")
    path.add_argument("--deep", action="store_true", help="also check every byte where that is possible")
    path.set_defaults(handler=_path)

    suggest = commands.add_parser(
        "suggest",
        help="measure how fast each installed speech model runs here and suggest one for live captions",
    )
    suggest.add_argument("--again", action="store_true", help="measure again, even models measured before")
    suggest.add_argument(
        "--threads", type=thread_count, default=2, help="CPU threads, as live captions use (default 2)"
    )
    suggest.add_argument(
        "--language",
        default="en",
        help="the language you caption: any but en (auto too) suggests only multilingual models",
    )
    suggest.set_defaults(handler=_suggest)

    download = commands.add_parser("download", help="download a model (asks first unless --yes)")
    download.add_argument("name", metavar="NAME", help="a model name from `assistant models list`")
    download.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    download.add_argument("--quiet", action="store_true", help="no progress bar")
    download.add_argument(
        "--timeout",
        type=float,
        default=models.DOWNLOAD_TIMEOUT_S,
        metavar="SECONDS",
        help=f"give up when the server sends nothing for this long (default {models.DOWNLOAD_TIMEOUT_S:g})",
    )
    download.set_defaults(handler=_download)


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 0


def _list(args: argparse.Namespace) -> int:
    from assistant.speech.suggest import load_speeds, speed_file

    speeds = load_speeds(speed_file())
    rows = [("NAME", "ENGINE", "TASK", "SIZE", "LICENCE", "INSTALLED")]
    for status in models.list_models():
        spec = status.spec
        if status.note is not None:
            where = f"{status.path} ({status.note})" if status.path else status.note
        elif status.path is not None:
            where = str(status.path)
        else:
            where = "not installed"
        speed = speeds.get(spec.name) if spec.engine == "faster-whisper" else None
        if speed is not None:
            verdict = "keeps up with live captions" if speed.keeps_up else "too slow for live captions"
            where += f" ({verdict} here: {speed.rtf:.2f} s per second of speech)"
        rows.append((spec.name, spec.engine, spec.task, f"{spec.size_mb} MB", spec.licence, where))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1])
    if not speeds:
        print(
            "(`assistant models suggest` measures which speech model this computer keeps up with)",
            file=sys.stderr,
        )
    return 0


def _suggest(args: argparse.Namespace) -> int:
    from assistant.speech.suggest import KEEP_UP_RTF, installed_speech_models, suggest

    names = installed_speech_models()
    if not names:
        raise AssistantError("No speech model is installed: see `assistant models list`.")
    english = args.language == "en"
    print(f"Measuring {', '.join(names)} where not measured before (seconds each)...", file=sys.stderr)
    result = suggest(models=names, threads=args.threads, english=english, again=args.again)
    for speed in result.speeds:
        verdict = "keeps up" if speed.keeps_up else "too slow for live captions"
        when = "now" if speed.model in result.measured_now else speed.measured_at
        print(f"{speed.model:10} {speed.rtf:.3f} s per second of speech  {verdict}  (measured {when})")
    print(f"(a model keeps up at {KEEP_UP_RTF:.2f} or less)")
    print(result.message)
    if result.model is not None:
        print(f"Use it: assistant captions --model {result.model}")
    return 0


def _path(args: argparse.Namespace) -> int:
    resolved = models.resolve(args.name, engine=args.engine, deep=args.deep)
    print(resolved.path)
    return 0


def _download(args: argparse.Namespace) -> int:
    spec = models.get_spec(args.name)
    if spec is None:
        raise AssistantError(
            f"Unknown model {args.name!r}: see `assistant models list` for the names to download."
        )
    try:
        existing = models.resolve(spec.name)
    except ModelNotFoundError:  # also a damaged copy: downloading again is the fix
        existing = None
    if existing is not None:
        print(f"{spec.name} is already installed at {existing.path}")
        return 0
    models.ensure_downloads_allowed(spec)
    if not args.yes:
        where = "the Hugging Face hub" if spec.engine != "openai-whisper" else "OpenAI's model server"
        question = f"Download {spec.name} ({spec.licence}, about {spec.size_mb} MB) from {where}? [y/N] "
        try:
            answer = input(question)
        except EOFError:
            print("\nNo answer: nothing downloaded. Pass --yes to download without asking.", file=sys.stderr)
            return 1
        if answer.strip().lower() not in {"y", "yes"}:
            print("Nothing downloaded.")
            return 1
    print(
        f"Connecting to {models.download_host(spec)} for {spec.name} "
        f"(giving up after {args.timeout:g} s without an answer)...",
        file=sys.stderr,
        flush=True,
    )
    path = models.download(spec.name, progress=not args.quiet, timeout=args.timeout)
    print(f"{spec.name} downloaded to {path}")
    return 0
