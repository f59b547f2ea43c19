"""Starting the assistant at login: an XDG autostart entry (`~/.config/autostart/assistant.desktop`),
which GNOME, KDE, Xfce, LXQt and most other desktops read, that the settings add and remove.

The entry is the desktop entry in `resources/assistant.desktop` with `Exec` pointing at the launcher that
runs now (the virtual environment's `assistant`, or this Python with `-m assistant`), since a login
session's PATH rarely includes a virtual environment. Whether the window then starts hidden is the
app's own setting, so the entry never needs rewriting when that changes.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
DESKTOP_ENTRY = RESOURCES / "assistant.desktop"
ICON = RESOURCES / "assistant.svg"
ENTRY_NAME = "assistant.desktop"


def config_home(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get("XDG_CONFIG_HOME") or Path(env.get("HOME", str(Path.home()))) / ".config")


def autostart_path(environ: Mapping[str, str] | None = None) -> Path:
    return config_home(environ) / "autostart" / ENTRY_NAME


def launcher_command() -> str:
    """The command that starts this installation of the assistant, quoted for a desktop entry."""
    beside = Path(sys.executable).with_name("assistant")
    if beside.exists():
        return _quoted(str(beside))
    found = shutil.which("assistant")
    if found:
        return _quoted(found)
    return f"{_quoted(sys.executable)} -m assistant"


def _quoted(argument: str) -> str:
    """An argument as the desktop entry spec quotes it (double quotes; \\ before " ` $ and \\)."""
    if not re.search(r"[\s\"'\\`$<>~|&;*?#()]", argument):
        return argument
    return '"' + re.sub(r'(["`$\\])', r"\\\1", argument) + '"'


def autostart_entry(command: str) -> str:
    """The autostart entry's text: the app's desktop entry, started by `command`, without its actions."""
    lines = []
    for line in DESKTOP_ENTRY.read_text(encoding="utf-8").splitlines():
        if line.startswith("[Desktop Action"):
            break
        if line.startswith("Exec="):
            line = f"Exec={command}"
        elif line.startswith("Icon="):
            line = f"Icon={ICON}"
        elif line.startswith("Actions="):
            continue
        lines.append(line)
    while lines and not lines[-1].strip():
        lines.pop()
    lines += ["X-GNOME-Autostart-enabled=true", "Hidden=false"]
    return "\n".join(lines) + "\n"


def autostart_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """True when our entry is in the autostart folder and not switched off there."""
    path = autostart_path(environ)
    if not path.exists():
        return False
    text = path.read_text(encoding="utf-8", errors="replace")
    return "Hidden=true" not in text and "X-GNOME-Autostart-enabled=false" not in text


def set_autostart(
    enabled: bool, command: str | None = None, environ: Mapping[str, str] | None = None
) -> Path:
    """Add (or rewrite) the entry, or remove it; the entry's path."""
    path = autostart_path(environ)
    if enabled:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(autostart_entry(command or launcher_command()), encoding="utf-8")
    else:
        path.unlink(missing_ok=True)
    return path
