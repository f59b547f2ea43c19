"""Commands and their keys: every user action is a `Command` (NVDA's `@script`, Orca's command
definitions), and `CommandActions` turns a table of them into menus, shortcuts and spoken help.

The table itself is `ui.command_table.COMMANDS`. A command's handler is a method of one of the window's
command classes, bound to the instance when the actions are built, so a table row without an object to
run it fails at start. A "hold" command (ask by voice) runs `handler` when its key goes down and
`release_handler` when it comes up.

A command with a `global_shortcut` also has a system-wide key, which works while any program has focus
(`ui/global_keys.py` grabs it). It is a second key, not the window key made global: the window keys are
Ctrl+Shift+letter, which browsers and terminals use for their own commands, so taking them from every
program would break those; the system-wide defaults are Ctrl+Alt+Shift+letter, which desktops and programs
leave free. Both are edited in the shortcut editor; `trigger` and `press_global`/`release_global` run a
command exactly as its window key does (interrupt first, the same handler), whoever asked.

Default shortcuts are Ctrl+Shift+letter or function keys: screen readers use Insert or Caps Lock as
their modifier (NVDA, Orca, JAWS), desktops reserve the Windows/Super key and Alt+Tab/Alt+F4, so none of
these collide with them. `CommandActions.set_shortcut` refuses a key another command already has, and
the keys of the operating system and of screen readers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QEvent, QKeyCombination, QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QMenuBar, QWidget

from assistant.errors import AssistantError
from ui.settings import Settings

Handler = Callable[[Any], None]
"""A command's handler: a method of one of the window's command classes, unbound
(`VisionCommands.describe_now`). `CommandActions` runs it on the instance it is given of that class."""


@dataclass(frozen=True)
class Command:
    id: str
    title: str  # menu text; "&" marks the menu accelerator
    description: str  # what keyboard help says and the menu's status tip
    shortcut: str  # default, in QKeySequence portable text; "" = none
    handler: Handler
    menu: str
    release_handler: Handler | None = None  # for hold-to-talk commands: called when the key is released
    global_shortcut: str | None = None  # default system-wide key; None: not offered outside the window

    @property
    def plain_title(self) -> str:
        return self.title.replace("&", "")

    @property
    def global_key(self) -> bool:
        """True for the commands that make sense while another program has focus."""
        return self.global_shortcut is not None


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


def bind(handler: Handler, targets: Sequence[object]) -> Callable[[], None]:
    """`handler` as a call on the one target of its class; `LookupError` when none of them has it."""
    for target in targets:
        if getattr(type(target), handler.__name__, None) is handler:
            name = handler.__name__
            # Looked up at each call, so the instance's own attribute is what runs.
            return lambda: getattr(target, name)()
    raise LookupError(f"no command object runs {handler.__qualname__}")


class CommandActions(QObject):
    """One `QAction` per command, wired to its handler on one of `targets`, with the user's shortcuts.

    Every command first calls `interrupt`, so the assistant never talks over the user. Shortcuts are
    application-wide so they also work while the caption overlay has focus. Hold commands get no
    `QAction` shortcut: `HoldKeyFilter` watches their key going down and up. A system-wide key is also
    the action's second shortcut, so it works in the window where the desktop grants no system-wide keys."""

    ran = Signal(str, str)  # command id, how it was asked for ("key", "system-wide key", "send", "menu")
    global_keys_changed = Signal()  # a system-wide key was assigned, removed or restored
    global_state_changed = Signal()  # `global_state` or `global_refused` changed (the grabber's answer)

    def __init__(
        self,
        settings: Settings,
        commands: Sequence[Command],
        targets: Sequence[object],
        interrupt: Callable[[], None],
        parent: QWidget,
        menus: Sequence[str] = (),
    ) -> None:
        super().__init__(parent)
        self._settings = settings
        self.commands = tuple(commands)
        self.menus = tuple(menus)
        self.interrupt = interrupt
        self.handlers = {item.id: bind(item.handler, targets) for item in commands}
        self.release_handlers = {
            item.id: bind(item.release_handler, targets) for item in commands if item.release_handler
        }
        self.actions: dict[str, QAction] = {}
        self.sequences: dict[str, QKeySequence] = {}
        self.global_sequences: dict[str, QKeySequence] = {}
        self.global_refused: dict[str, str] = {}  # command id -> why its system-wide key does not work
        self.global_state = ""  # what the settings say about system-wide keys on this desktop
        for item in commands:
            action = QAction(item.title, parent)
            action.setObjectName(f"action_{item.id}")
            action.setStatusTip(item.description)
            action.setToolTip(item.description)
            action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
            action.triggered.connect(self._make_trigger(item))
            parent.addAction(action)
            self.actions[item.id] = action
            if item.global_shortcut is not None:
                stored_global = settings.global_shortcut(item.id)
                default = item.global_shortcut if stored_global is None else stored_global
                self.global_sequences[item.id] = QKeySequence(default)
            stored = settings.shortcut(item.id)
            self._apply(item, QKeySequence(item.shortcut if stored is None else stored))
        self.hold_filter = HoldKeyFilter(self)

    def _make_trigger(self, item: Command) -> Callable[[], None]:
        def trigger() -> None:
            self.trigger(item.id, "key")

        return trigger

    def trigger(self, command_id: str, via: str) -> None:
        """Run a command as its key does: interrupt, then its handler. `via` is for the trace."""
        self.interrupt()
        self.ran.emit(command_id, via)
        self.handlers[command_id]()

    def press_global(self, command_id: str) -> None:
        """A system-wide key went down: a hold command starts, any other runs."""
        self.trigger(command_id, "system-wide key")

    def release_global(self, command_id: str) -> None:
        """A system-wide key came up: a hold command finishes (ask by voice hears the question)."""
        release = self.release_handlers.get(command_id)
        if release is not None:
            release()

    def command(self, command_id: str) -> Command:
        for item in self.commands:
            if item.id == command_id:
                return item
        raise KeyError(command_id)

    def _apply(self, item: Command, sequence: QKeySequence) -> None:
        self.sequences[item.id] = sequence
        action = self.actions[item.id]
        if item.release_handler:
            action.setShortcut(QKeySequence())
            # Menus still show the key (in the title: a tab there reaches screen readers as a character).
            keys = sequence.toString(QKeySequence.SequenceFormat.NativeText) or "no key"
            action.setText(f"{item.title.removesuffix(' (hold)')} (hold {keys})")
        else:
            extra = self.global_sequences.get(item.id, QKeySequence())
            action.setShortcuts([key for key in (sequence, extra) if not key.isEmpty()])

    def shortcut(self, command_id: str) -> QKeySequence:
        return self.sequences[command_id]

    def global_shortcut(self, command_id: str) -> QKeySequence:
        """The system-wide key of a command (empty for none, and for commands that have none)."""
        return self.global_sequences.get(command_id, QKeySequence())

    def global_keys(self) -> dict[str, str]:
        """Every system-wide key, command id -> portable text ("" for none), for the key grabber."""
        return {
            command_id: sequence.toString(QKeySequence.SequenceFormat.PortableText)
            for command_id, sequence in self.global_sequences.items()
        }

    def keys_of(self, command_id: str) -> list[QKeySequence]:
        """The window key and the system-wide key of a command, those that are set."""
        keys = (self.sequences[command_id], self.global_shortcut(command_id))
        return [key for key in keys if not key.isEmpty()]

    def owner_of(self, sequence: QKeySequence, ignore: str = "") -> str | None:
        if sequence.isEmpty():
            return None
        for command_id in self.sequences:
            if command_id == ignore:
                continue
            for existing in self.keys_of(command_id):
                if existing.matches(sequence) == QKeySequence.SequenceMatch.ExactMatch:
                    return command_id
        return None

    def check_shortcut(self, command_id: str, sequence: QKeySequence, system_wide: bool = False) -> None:
        """Raise `ShortcutConflictError` if `sequence` cannot be given to `command_id` (as its system-wide
        key when `system_wide`): a reserved key, another command's key, or the command's own other key."""
        reason = reserved_reason(sequence)
        if reason is not None:
            raise ShortcutConflictError(
                f"{reason}; choose another key, for example Control Shift and a letter."
            )
        other_own = self.sequences[command_id] if system_wide else self.global_shortcut(command_id)
        if not sequence.isEmpty() and other_own.matches(sequence) == QKeySequence.SequenceMatch.ExactMatch:
            raise ShortcutConflictError("the window key and the system-wide key must differ.")
        owner = self.owner_of(sequence, ignore=command_id)
        if owner is not None:
            keys = sequence.toString(QKeySequence.SequenceFormat.NativeText)
            raise ShortcutConflictError(
                f"{keys} is already the key for “{self.command(owner).plain_title}”; "
                "change or clear that one first, or choose another key."
            )

    def set_shortcut(self, command_id: str, sequence: QKeySequence) -> None:
        """Give a command a new key (an empty sequence clears it), refusing conflicts, and persist it."""
        self.check_shortcut(command_id, sequence)
        self._apply(self.command(command_id), sequence)
        self._settings.set_shortcut(command_id, sequence.toString(QKeySequence.SequenceFormat.PortableText))

    def set_global_shortcut(self, command_id: str, sequence: QKeySequence) -> None:
        """Give a command a new system-wide key (empty: none), refusing conflicts and commands that have
        no system-wide key, and persist it; the grabber takes it up from `global_keys_changed`."""
        item = self.command(command_id)
        if not item.global_key:
            raise ShortcutConflictError(f"“{item.plain_title}” works only in the assistant's window.")
        self.check_shortcut(command_id, sequence, system_wide=True)
        self.global_sequences[command_id] = sequence
        self._apply(item, self.sequences[command_id])
        self._settings.set_global_shortcut(
            command_id, sequence.toString(QKeySequence.SequenceFormat.PortableText)
        )
        self.global_keys_changed.emit()

    def reset_shortcuts(self) -> None:
        self.restore_shortcuts(
            {item.id: QKeySequence(item.shortcut) for item in self.commands},
            {item.id: QKeySequence(item.global_shortcut or "") for item in self.commands if item.global_key},
        )

    def restore_shortcuts(
        self, sequences: dict[str, QKeySequence], global_sequences: dict[str, QKeySequence] | None = None
    ) -> None:
        """Give every command its key from `sequences` (and its system-wide key from `global_sequences`),
        taken earlier, and persist them."""
        if global_sequences is not None:
            for command_id, sequence in global_sequences.items():
                self.global_sequences[command_id] = sequence
                text = sequence.toString(QKeySequence.SequenceFormat.PortableText)
                self._settings.set_global_shortcut(command_id, text)
        for item in self.commands:
            sequence = sequences[item.id]
            self._apply(item, sequence)
            self._settings.set_shortcut(item.id, sequence.toString(QKeySequence.SequenceFormat.PortableText))
        if global_sequences is not None:
            self.global_keys_changed.emit()

    def build_menus(self, menu_bar: QMenuBar) -> None:
        menu_bar.setAccessibleName("Menu bar")  # Qt leaves it nameless, and screen readers say "unlabelled"
        for name in self.menus:
            menu = menu_bar.addMenu(f"&{name}")
            menu.setObjectName(f"menu_{name.lower()}")
            for item in self.commands:
                if item.menu == name:
                    menu.addAction(self.actions[item.id])

    def help_lines(self) -> list[str]:
        """One line per command, as keyboard help says it; a system-wide key comes after the window's."""
        lines = []
        for item in self.commands:
            keys = spoken_keys(self.sequences[item.id])
            anywhere = self.global_shortcut(item.id)
            if not anywhere.isEmpty():
                keys += f"; from any program: {spoken_keys(anywhere)}"
            lines.append(f"{item.plain_title.rstrip('…')}: {keys}. {item.description}")
        return lines

    def hold_commands(self) -> Iterable[Command]:
        return (item for item in self.commands if item.release_handler)


class HoldKeyFilter(QObject):
    """Application event filter for hold-to-talk keys: key down runs `handler`, key up `release_handler`.

    Auto-repeat presses and releases are ignored, so holding the key starts listening exactly once."""

    def __init__(self, actions: CommandActions) -> None:
        super().__init__(actions)
        self._actions = actions
        self._held: str | None = None
        self._held_code = -1  # the key (without modifiers) that started the hold

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        kind = event.type()
        if kind not in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease) or not isinstance(event, QKeyEvent):
            return False
        if event.isAutoRepeat():
            return self._held is not None and event.key() == self._held_key()
        if kind == QEvent.Type.KeyPress:
            pressed = QKeySequence(QKeyCombination(event.modifiers(), Qt.Key(event.key())))
            for item in self._actions.hold_commands():
                for wanted in self._actions.keys_of(item.id):
                    if wanted.matches(pressed) == QKeySequence.SequenceMatch.ExactMatch:
                        self._held = item.id
                        self._held_code = int(wanted[0].key().value)  # type: ignore[index]  # stubs
                        self._actions.trigger(item.id, "key")
                        return True
            return False
        if self._held is not None and event.key() == self._held_key():
            held, self._held = self._held, None
            self._actions.release_handlers[held]()
            return True
        return False

    def _held_key(self) -> int:
        return self._held_code
