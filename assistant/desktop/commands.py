"""The commands another program can send to the running assistant (`assistant send NAME`), so any
desktop, Wayland included, can bind a key to them in its own keyboard settings.

Each name stands for one command of the window's command table (`command_id`), and the window runs the
same handler as that command's key does, so a result is shown, spoken and traced the same way. `show`
and `hide` are the window itself. The table lives here, without Qt, so `assistant send --list` prints it
at once; a test checks that every `command_id` is in the window's table.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.errors import AssistantError


@dataclass(frozen=True)
class SendableCommand:
    name: str
    command_id: str
    description: str


SHOW_WINDOW = "show_window"
HIDE_WINDOW = "hide_window"

SENDABLE: tuple[SendableCommand, ...] = (
    SendableCommand("describe-window", "describe_window", "Describe the window that has focus."),
    SendableCommand("read-window", "read_window", "Read the text of the window that has focus."),
    SendableCommand("describe-pointer", "describe_pointer", "Describe the area around the mouse pointer."),
    SendableCommand("describe-screen", "describe_screen", "Describe everything on the screen."),
    SendableCommand("describe-clipboard", "describe_clipboard", "Describe the picture on the clipboard."),
    SendableCommand("describe", "describe_now", "Describe what the camera sees, briefly."),
    SendableCommand("read", "read_text", "Read the printed text the camera sees."),
    SendableCommand(
        "ask-voice", "ask_voice", "Start listening for a spoken question; send it again to stop."
    ),
    SendableCommand("stop", "stop_speech", "Stop speaking at once."),
    SendableCommand("repeat", "repeat_last", "Say the last thing again."),
    SendableCommand("captions", "toggle_captions", "Start or stop live captions."),
    SendableCommand("overlay", "toggle_overlay", "Show or hide the caption overlay."),
    SendableCommand("narration", "toggle_narration", "Describe the scene by itself whenever it changes."),
    SendableCommand("show", SHOW_WINDOW, "Show the assistant's window and bring it to the front."),
    SendableCommand("hide", HIDE_WINDOW, "Hide the window (the assistant keeps running)."),
    SendableCommand("settings", "open_settings", "Open the settings."),
    SendableCommand("help", "keyboard_help", "Say and show every command and its key."),
    SendableCommand("quit", "quit", "Close the assistant."),
)


class UnknownCommandError(AssistantError):
    """A name `assistant send` does not know."""


def sendable(name: str) -> SendableCommand:
    """The command called `name`; `UnknownCommandError` listing the names otherwise."""
    for command in SENDABLE:
        if command.name == name:
            return command
    names = ", ".join(command.name for command in SENDABLE)
    raise UnknownCommandError(f"no command called {name!r}; these can be sent: {names}")


def send_hint(name: str = "describe-window") -> str:
    """What to tell a user whose desktop gives no system-wide keys to programs."""
    return (
        f"bind `assistant send {name}` (and the others `assistant send --list` prints) to a key in your "
        "desktop's keyboard settings"
    )
