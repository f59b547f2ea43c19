"""The command table: every user action, declared once (NVDA's `@script`, Orca's command definitions).

Menus, keyboard shortcuts, the shortcut editor and the spoken keyboard help are all built from
`COMMANDS`. A command names the method of the app controller that runs it (`handler`). A "hold" command
(ask by voice) runs `handler` when its key goes down and `release_handler` when it comes up.

Default shortcuts are Ctrl+Shift+letter or function keys: screen readers use Insert or Caps Lock as
their modifier (NVDA, Orca, JAWS), desktops reserve the Windows/Super key and Alt+Tab/Alt+F4, so none of
these collide with them. `CommandActions.set_shortcut` refuses a key another command already has, and
the keys of the operating system and of screen readers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QEvent, QKeyCombination, QObject, Qt
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QMenuBar, QWidget

from assistant.errors import AssistantError
from ui.settings import Settings

log = logging.getLogger("ui.commands")


@dataclass(frozen=True)
class Command:
    id: str
    title: str  # menu text; "&" marks the menu accelerator
    description: str  # what keyboard help says and the menu's status tip
    shortcut: str  # default, in QKeySequence portable text; "" = none
    handler: str  # method name on the controller
    menu: str
    release_handler: str = ""  # for hold-to-talk commands: called when the key is released

    @property
    def plain_title(self) -> str:
        return self.title.replace("&", "")


COMMANDS: tuple[Command, ...] = (
    Command("describe_now", "&Describe now", "Describe what the camera sees, briefly.",
            "Ctrl+Shift+D", "describe_now", "Vision"),
    Command("describe_detailed", "Detailed d&escription", "Describe what the camera sees in detail.",
            "Ctrl+Shift+E", "describe_detailed", "Vision"),
    Command("ask_typed", "&Ask a question", "Type a question about what the camera sees.",
            "Ctrl+Shift+Q", "ask_typed", "Vision"),
    Command("ask_voice", "Ask by &voice (hold)", "Hold the key, ask aloud, release it to hear the answer.",
            "F9", "start_voice_question", "Vision", release_handler="finish_voice_question"),
    Command("read_text", "&Read text", "Read the printed text the camera sees.",
            "Ctrl+Shift+R", "read_text", "Vision"),
    Command("toggle_narration", "&Narration on or off", "Describe the scene by itself whenever it changes.",
            "Ctrl+Shift+N", "toggle_narration", "Vision"),
    Command("describe_screen", "Describe the &screen", "Describe everything on the screen.",
            "Ctrl+Shift+F", "describe_screen", "Vision"),
    Command("describe_window", "Describe the active &window", "Describe the window that has focus.",
            "Ctrl+Shift+W", "describe_window", "Vision"),
    Command("describe_clipboard", "Describe the &clipboard image", "Describe the picture on the clipboard.",
            "Ctrl+Shift+B", "describe_clipboard", "Vision"),
    Command("describe_file", "Describe an image &file…", "Choose a picture file and describe it.",
            "Ctrl+O", "describe_file", "Vision"),
    Command("toggle_captions", "&Captions on or off", "Start or stop live captions.",
            "Ctrl+Shift+L", "toggle_captions", "Captions"),
    Command("toggle_overlay", "Caption &overlay on or off", "Show or hide the always-on-top caption window.",
            "Ctrl+Shift+O", "toggle_overlay", "Captions"),
    Command("larger_text", "&Larger caption text", "Make the caption text bigger.",
            "Ctrl+=", "larger_text", "Captions"),
    Command("smaller_text", "&Smaller caption text", "Make the caption text smaller.",
            "Ctrl+-", "smaller_text", "Captions"),
    Command("copy_caption", "Copy last ca&ption", "Copy the last caption line to the clipboard.",
            "Ctrl+Shift+K", "copy_caption", "Captions"),
    Command("save_transcript", "Save &transcript…", "Save the captions to a file, and keep adding to it.",
            "Ctrl+Shift+S", "save_transcript", "Captions"),
    Command("stop_speech", "&Stop speech", "Stop speaking at once.",
            "Ctrl+Shift+X", "stop_speech", "Speech"),
    Command("repeat_last", "&Repeat last", "Say the last thing again.",
            "Ctrl+Shift+A", "repeat_last", "Speech"),
    Command("copy_description", "&Copy last description", "Copy the last description to the clipboard.",
            "Ctrl+Shift+C", "copy_description", "Speech"),
    Command("open_settings", "&Settings…", "Open the settings.", "Ctrl+,", "open_settings", "Tools"),
    Command("keyboard_help", "&Keyboard help", "Say and show every command and its key.",
            "F1", "keyboard_help", "Help"),
    Command("quit", "&Quit", "Close the assistant.", "Ctrl+Q", "quit", "Tools"),
)  # fmt: skip

MENUS = ("Vision", "Captions", "Speech", "Tools", "Help")

# Keys the operating system or screen readers own. Any sequence using Meta (Windows/Super) is refused
# too, as is anything with Insert or Caps Lock (NVDA, JAWS and Orca modifiers).
_RESERVED = {
    "Alt+Tab", "Alt+Shift+Tab", "Alt+F4", "Ctrl+Alt+Del", "Ctrl+Alt+Delete", "Ctrl+Esc", "Alt+Esc",
    "Ctrl+Alt+Backspace", "Alt+Space", "Alt+F1", "Alt+F2", "Ctrl+Alt+T", "Ctrl+Alt+N", "Ctrl+Alt+S",
    "Print", "Alt+Print",
}  # fmt: skip
_RESERVED_KEYS = {Qt.Key.Key_Insert, Qt.Key.Key_CapsLock, Qt.Key.Key_NumLock, Qt.Key.Key_ScrollLock}


class ShortcutConflictError(AssistantError):
    """A shortcut is taken by another command, or by the system or a screen reader."""


def command(command_id: str) -> Command:
    for item in COMMANDS:
        if item.id == command_id:
            return item
    raise KeyError(command_id)


def reserved_reason(sequence: QKeySequence) -> str | None:
    """Why a sequence must not be used, or None when it is free of system and screen reader keys."""
    if sequence.isEmpty():
        return None
    text = sequence.toString(QKeySequence.SequenceFormat.PortableText)
    if text in _RESERVED:
        return f"{text} belongs to the operating system"
    for index in range(sequence.count()):
        combination = sequence[index]  # type: ignore[index]  # PySide stubs lack __getitem__
        if combination.keyboardModifiers() & Qt.KeyboardModifier.MetaModifier:
            return f"{text} uses the Windows or Super key, which the desktop owns"
        if combination.key() in _RESERVED_KEYS:
            return f"{text} uses a key screen readers use as their modifier"
    return None


def spoken_keys(sequence: QKeySequence) -> str:
    """'Ctrl+Shift+D' as a person says it: 'Control Shift D'."""
    text = sequence.toString(QKeySequence.SequenceFormat.PortableText)
    if not text:
        return "no key"
    words = {"Ctrl": "Control", "Esc": "Escape", "=": "equals", "-": "minus", ",": "comma", "+": "plus"}
    parts = text.replace("++", "+plus").split("+")
    return " ".join(words.get(part, part) for part in parts if part)


def _interrupt(target: Any) -> None:
    """Every user command first silences the assistant, so it never talks over the user."""
    interrupt = getattr(target, "interrupt_speech", None)
    if interrupt is not None:
        interrupt()


class CommandActions(QObject):
    """One `QAction` per command, wired to the controller's handler, with the user's shortcuts.

    Shortcuts are application-wide so they also work while the caption overlay has focus. Hold
    commands get no `QAction` shortcut: `HoldKeyFilter` watches their key going down and up."""

    def __init__(self, settings: Settings, target: Any, parent: QWidget) -> None:
        super().__init__(parent)
        self._settings = settings
        self._target = target
        self.actions: dict[str, QAction] = {}
        self.sequences: dict[str, QKeySequence] = {}
        for item in COMMANDS:
            action = QAction(item.title, parent)
            action.setObjectName(f"action_{item.id}")
            action.setStatusTip(item.description)
            action.setToolTip(item.description)
            action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
            action.triggered.connect(self._make_trigger(item))
            parent.addAction(action)
            self.actions[item.id] = action
            stored = settings.shortcut(item.id)
            self._apply(item, QKeySequence(item.shortcut if stored is None else stored))
        self.hold_filter = HoldKeyFilter(self)

    def _make_trigger(self, item: Command) -> Any:
        def trigger() -> None:
            _interrupt(self._target)
            # From a menu a hold command cannot be held: it toggles instead.
            if item.release_handler and getattr(self._target, "voice_question_active", False):
                getattr(self._target, item.release_handler)()
            else:
                getattr(self._target, item.handler)()

        return trigger

    def _apply(self, item: Command, sequence: QKeySequence) -> None:
        self.sequences[item.id] = sequence
        action = self.actions[item.id]
        if item.release_handler:
            action.setShortcut(QKeySequence())
            # Menus still show the key, after a tab, as Qt does for real shortcuts.
            action.setText(f"{item.title}\t{sequence.toString(QKeySequence.SequenceFormat.NativeText)}")
        else:
            action.setShortcut(sequence)

    def shortcut(self, command_id: str) -> QKeySequence:
        return self.sequences[command_id]

    def owner_of(self, sequence: QKeySequence, ignore: str = "") -> str | None:
        for command_id, existing in self.sequences.items():
            if (
                command_id != ignore
                and not sequence.isEmpty()
                and existing.matches(sequence) == (QKeySequence.SequenceMatch.ExactMatch)
            ):
                return command_id
        return None

    def check_shortcut(self, command_id: str, sequence: QKeySequence) -> None:
        """Raise `ShortcutConflictError` if `sequence` cannot be given to `command_id`."""
        reason = reserved_reason(sequence)
        if reason is not None:
            raise ShortcutConflictError(
                f"{reason}; choose another key, for example Control Shift and a letter."
            )
        owner = self.owner_of(sequence, ignore=command_id)
        if owner is not None:
            keys = sequence.toString(QKeySequence.SequenceFormat.NativeText)
            raise ShortcutConflictError(
                f"{keys} is already the key for “{command(owner).plain_title}”; "
                "change or clear that one first, or choose another key."
            )

    def set_shortcut(self, command_id: str, sequence: QKeySequence) -> None:
        """Give a command a new key (an empty sequence clears it), refusing conflicts, and persist it."""
        self.check_shortcut(command_id, sequence)
        self._apply(command(command_id), sequence)
        self._settings.set_shortcut(command_id, sequence.toString(QKeySequence.SequenceFormat.PortableText))

    def reset_shortcuts(self) -> None:
        for item in COMMANDS:
            self._apply(item, QKeySequence(item.shortcut))
            self._settings.set_shortcut(item.id, item.shortcut)

    def build_menus(self, menu_bar: QMenuBar) -> None:
        for name in MENUS:
            menu = menu_bar.addMenu(f"&{name}")
            menu.setObjectName(f"menu_{name.lower()}")
            for item in COMMANDS:
                if item.menu == name:
                    menu.addAction(self.actions[item.id])

    def help_lines(self) -> list[str]:
        """One line per command, as keyboard help says it."""
        return [
            f"{item.plain_title.rstrip('…')}: {spoken_keys(self.sequences[item.id])}. {item.description}"
            for item in COMMANDS
        ]

    def hold_commands(self) -> Iterable[Command]:
        return (item for item in COMMANDS if item.release_handler)


class HoldKeyFilter(QObject):
    """Application event filter for hold-to-talk keys: key down runs `handler`, key up `release_handler`.

    Auto-repeat presses and releases are ignored, so holding the key starts listening exactly once."""

    def __init__(self, actions: CommandActions) -> None:
        super().__init__(actions)
        self._actions = actions
        self._held: str | None = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        kind = event.type()
        if kind not in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease) or not isinstance(event, QKeyEvent):
            return False
        if event.isAutoRepeat():
            return self._held is not None and event.key() == self._held_key()
        if kind == QEvent.Type.KeyPress:
            pressed = QKeySequence(QKeyCombination(event.modifiers(), Qt.Key(event.key())))
            for item in self._actions.hold_commands():
                wanted = self._actions.shortcut(item.id)
                if not wanted.isEmpty() and wanted.matches(pressed) == QKeySequence.SequenceMatch.ExactMatch:
                    self._held = item.id
                    _interrupt(self._actions._target)
                    getattr(self._actions._target, item.handler)()
                    return True
            return False
        if self._held is not None and event.key() == self._held_key():
            item = command(self._held)
            self._held = None
            getattr(self._actions._target, item.release_handler)()
            return True
        return False

    def _held_key(self) -> int:
        assert self._held is not None
        sequence = self._actions.shortcut(self._held)
        if sequence.isEmpty():
            return -1
        return int(sequence[0].key().value)  # type: ignore[index]  # PySide stubs lack __getitem__
