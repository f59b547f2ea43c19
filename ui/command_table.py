"""The command table: every user action of the window, declared once.

Menus, keyboard shortcuts, the shortcut editor and the spoken keyboard help are all built from
`COMMANDS`. Default shortcuts are Ctrl+Shift+letter or function keys: screen readers use Insert or Caps
Lock as their modifier (NVDA, Orca, JAWS), desktops reserve the Windows/Super key and Alt+Tab/Alt+F4, so
none of these collide with them. The commands that make sense while another program has focus also
have a system-wide key (`global_shortcut`), Ctrl+Alt+Shift+letter by default: a combination desktops and
programs leave free, where Ctrl+Shift+letter belongs to browsers and terminals (see `ui/commands.py`).
"""

from __future__ import annotations

from ui.alert_commands import AlertCommands
from ui.app_commands import AppCommands
from ui.caption_commands import CaptionCommands
from ui.commands import Command
from ui.desktop_commands import DesktopCommands
from ui.find_commands import FindCommands
from ui.vision_commands import VisionCommands

V, C, A, D, F, S = VisionCommands, CaptionCommands, AppCommands, DesktopCommands, FindCommands, AlertCommands

COMMANDS: tuple[Command, ...] = (
    Command("describe_now", "&Describe now", "Describe what the camera sees, briefly.",
            "Ctrl+Shift+D", V.describe_now, "Vision"),
    Command("describe_detailed", "Detailed d&escription", "Describe what the camera sees in detail.",
            "Ctrl+Shift+E", V.describe_detailed, "Vision"),
    Command("ask_typed", "&Ask a question", "Type a question about what the camera sees.",
            "Ctrl+Shift+Q", V.ask_typed, "Vision"),
    Command("ask_voice", "Ask by &voice (hold)", "Hold the key, ask aloud, release it to hear the answer.",
            "F9", V.start_voice_question, "Vision", release_handler=V.finish_voice_question,
            global_shortcut="Ctrl+Alt+Shift+V"),
    Command("read_text", "&Read text", "Read the printed text the camera sees.",
            "Ctrl+Shift+R", V.read_text, "Vision"),
    Command("toggle_narration", "&Narration on or off", "Describe the scene by itself whenever it changes.",
            "Ctrl+Shift+N", V.toggle_narration, "Vision"),
    Command("describe_screen", "Describe the &screen", "Describe everything on the screen.",
            "Ctrl+Shift+F", V.describe_screen, "Vision", global_shortcut="Ctrl+Alt+Shift+F"),
    Command("describe_window", "Describe the active &window", "Describe the window that has focus.",
            "Ctrl+Shift+W", D.describe_window, "Vision", global_shortcut="Ctrl+Alt+Shift+W"),
    Command("read_window", "Read the active window's &text",
            "Read the text of the window that has focus, in reading order.",
            "Ctrl+Shift+T", D.read_window, "Vision", global_shortcut="Ctrl+Alt+Shift+T"),
    Command("describe_pointer", "Describe around the mouse &pointer",
            "Describe the part of the screen around the mouse pointer.",
            "Ctrl+Shift+P", D.describe_pointer, "Vision", global_shortcut="Ctrl+Alt+Shift+P"),
    Command("describe_clipboard", "Describe the &clipboard image", "Describe the picture on the clipboard.",
            "Ctrl+Shift+B", V.describe_clipboard, "Vision", global_shortcut="Ctrl+Alt+Shift+B"),
    Command("find", "F&ind…", "Say where something is once the camera sees it; press again to stop.",
            "Ctrl+Shift+G", F.toggle_find, "Vision"),
    Command("find_voice", "Find by v&oice (hold)", "Hold the key, say what to find, release it to start.",
            "F8", F.start_voice_find, "Vision", release_handler=F.finish_voice_find),
    Command("describe_file", "Describe an image &file…", "Choose a picture file and describe it.",
            "Ctrl+O", V.describe_file, "Vision"),
    Command("toggle_captions", "&Captions on or off", "Start or stop live captions.",
            "Ctrl+Shift+L", C.toggle_captions, "Captions", global_shortcut="Ctrl+Alt+Shift+L"),
    Command("toggle_overlay", "Caption &overlay on or off", "Show or hide the always-on-top caption window.",
            "Ctrl+Shift+O", C.toggle_overlay, "Captions", global_shortcut="Ctrl+Alt+Shift+O"),
    Command("focus_overlay", "&Move to the caption overlay",
            "Put the keyboard on the caption overlay, to read it or move it; Escape comes back.",
            "Ctrl+Shift+M", C.focus_overlay, "Captions"),
    Command("toggle_alerts", "Sound alerts on or o&ff",
            "Listen for alarms, the doorbell and other sounds, and show them.",
            "Ctrl+Shift+H", S.toggle_alerts, "Captions"),
    Command("dismiss_alert", "D&ismiss the sound alert", "Hide the sound alert banner.",
            "Ctrl+Shift+J", S.dismiss_alert, "Captions"),
    Command("snooze_alert", "Snoo&ze the last sound", "Do not alert on the last sound for 5 minutes.",
            "Ctrl+Shift+Z", S.snooze_alert, "Captions"),
    Command("teach_sound", "Teac&h a sound…",
            "Record your doorbell, kettle or another sound a few times, so sound alerts know it.",
            "Ctrl+Shift+Y", S.teach_sound, "Captions"),
    Command("larger_text", "&Larger caption text", "Make the caption text bigger.",
            "Ctrl+=", C.larger_text, "Captions"),
    Command("smaller_text", "&Smaller caption text", "Make the caption text smaller.",
            "Ctrl+-", C.smaller_text, "Captions"),
    Command("copy_caption", "Copy last ca&ption", "Copy the last caption line to the clipboard.",
            "Ctrl+Shift+K", C.copy_caption, "Captions"),
    Command("save_transcript", "Save &transcript…", "Save the captions to a file, and keep adding to it.",
            "Ctrl+Shift+S", C.save_transcript, "Captions"),
    Command("stop_speech", "&Stop speech", "Stop speaking at once.",
            "Ctrl+Shift+X", A.stop_speech, "Speech", global_shortcut="Ctrl+Alt+Shift+X"),
    Command("repeat_last", "&Repeat last", "Say the last thing again.",
            "Ctrl+Shift+A", A.repeat_last, "Speech", global_shortcut="Ctrl+Alt+Shift+A"),
    Command("copy_description", "&Copy last description", "Copy the last description to the clipboard.",
            "Ctrl+Shift+C", A.copy_description, "Speech"),
    Command("open_settings", "&Settings…", "Open the settings.", "Ctrl+,", A.open_settings, "Tools"),
    Command("keyboard_help", "&Keyboard help", "Say and show every command and its key.",
            "F1", A.keyboard_help, "Help"),
    Command("quit", "&Quit", "Close the assistant.", "Ctrl+Q", A.quit, "Tools"),
)  # fmt: skip

MENUS = ("Vision", "Captions", "Speech", "Tools", "Help")
