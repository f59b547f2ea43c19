"""The command line: `assistant <command>`. Each command group lives in its own module here and
registers its sub-commands; this module only builds the parser and turns errors into one clear line."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from assistant.errors import AssistantError

# Modules that each define `register(subparsers)`; their handlers return an exit code.
COMMAND_MODULES = (
    "assistant.cli.captions",
    "assistant.cli.models",
    "assistant.cli.devices",
    "assistant.cli.voice",
    "assistant.cli.vision",
    "assistant.cli.find",
    "assistant.cli.sounds",
    "assistant.cli.app",
    "assistant.cli.send",
)


# `assistant send` is bound to keys in desktops' own settings: it loads only itself, not the numeric and
# model libraries the other commands import, so the key answers without a second's wait.
FAST_COMMANDS = {"send": "assistant.cli.send"}


def build_parser(modules: Sequence[str] = COMMAND_MODULES) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assistant",
        description="On-device accessibility assistant: live captions, scene descriptions, text reading.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to standard error")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in modules:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    given = list(argv) if argv is not None else sys.argv[1:]
    command = next((arg for arg in given if not arg.startswith("-")), "")
    parser = build_parser((FAST_COMMANDS[command],) if command in FAST_COMMANDS else COMMAND_MODULES)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    handler = getattr(args, "handler", None)
    if handler is None:
        # No command: the app's main job, the window, on its built-in defaults.
        given = list(argv) if argv is not None else sys.argv[1:]
        args = parser.parse_args([*given, "app"])
        handler = args.handler
    try:
        code: int = handler(args)
        return code
    except AssistantError as error:
        print(f"assistant: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`assistant devices | head`): not an error. Point stdout at nothing so
        # the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
