"""`assistant send COMMAND`: run a command in the running assistant, as its key would.

For desktops that give no system-wide keys to programs (Wayland without the GlobalShortcuts portal), or
for scripts: bind `assistant send describe-window` to a key in the desktop's keyboard settings. `--list`
prints every command that can be sent. Qt is never imported here, so the command answers at once.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from assistant.desktop.commands import SENDABLE
from assistant.desktop.instance import send
from assistant.errors import AssistantError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "send",
        help="run a command in the running assistant (bind it to a key in your desktop's settings)",
        description="Run a command in the running assistant, exactly as its key would: the result is "
        "shown and spoken there. `assistant send --list` prints the commands.",
    )
    parser.add_argument("name", nargs="?", metavar="COMMAND", help="for example describe-window")
    parser.add_argument("--list", action="store_true", help="print the commands that can be sent")
    parser.set_defaults(handler=run_send)


def run_send(args: argparse.Namespace) -> int:
    if args.list or not args.name:
        width = max(len(command.name) for command in SENDABLE)
        for command in SENDABLE:
            print(f"{command.name:<{width}}  {command.description}")
        return 0 if args.list else 2
    try:
        reply = send(args.name)
    except OSError as error:  # no private runtime folder to find the running assistant in
        raise AssistantError(f"cannot reach the running assistant: {error}") from None
    print(reply.message, file=sys.stdout if reply.ok else sys.stderr)
    return 0 if reply.ok else 1
