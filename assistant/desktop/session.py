"""What kind of desktop session the assistant runs in, from the environment the session manager set."""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping


class DesktopKind(enum.Enum):
    X11 = "X11"
    WAYLAND = "Wayland"
    NONE = "no desktop"


def desktop_kind(environ: Mapping[str, str] | None = None) -> DesktopKind:
    """Wayland when the session says so (XDG_SESSION_TYPE, or WAYLAND_DISPLAY without DISPLAY); X11 when
    there is an X display; else none. Under Wayland, DISPLAY points at Xwayland, which sees only X
    programs' keys and windows, so the Wayland way is the one that works for every program."""
    env = os.environ if environ is None else environ
    session_type = env.get("XDG_SESSION_TYPE", "").lower()
    if session_type == "wayland" or (env.get("WAYLAND_DISPLAY") and not env.get("DISPLAY")):
        return DesktopKind.WAYLAND
    if env.get("DISPLAY"):
        return DesktopKind.X11
    return DesktopKind.NONE
