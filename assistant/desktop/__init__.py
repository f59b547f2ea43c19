"""The assistant in the user's desktop, without Qt: keys that work from any program, the window that has
focus and the mouse pointer, one running instance that other starts and `assistant send` talk to, the
desktop portals of Wayland sessions, and starting at login.

- `keys`: a key chord as Qt writes it ("Ctrl+Alt+Shift+W") turned into X11 key names and modifiers.
- `x11`: system-wide keys by XGrabKey (`GlobalKeyListener`), the active window (`active_window`) and the
  pointer (`pointer_position`), each over its own X connection (python-xlib).
- `portal`: the `org.freedesktop.portal.GlobalShortcuts` and `Screenshot` portals (jeepney), for Wayland.
- `instance`: one running instance: a Unix socket in $XDG_RUNTIME_DIR that `assistant send` and a second
  `assistant` start talk to.
- `commands`: the commands that can be sent (`assistant send --list`).
- `autostart`: the XDG autostart entry that starts the assistant at login.
- `session`: what kind of desktop session this is (X11, Wayland, none).
"""
