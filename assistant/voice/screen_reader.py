"""Is a screen reader running, and how do we reach its voice?

A blind user who lives in a screen reader wants our results in *its* voice, queued and interrupted by its
rules, not in a second voice talking over it. On Linux:

- **Which reader**: AT-SPI's `org.a11y.Status.ScreenReaderEnabled` (set by Orca and by the desktop's
  "screen reader" switch) or a running `orca` process.
- **How to reach it** (`speech_route`):
  - Orca with its D-Bus remote service (`org.gnome.Orca.Service`, Orca 49 and newer): `PresentMessage`,
    so Orca speaks (and brailles) the text with the user's own verbosity. Not testable here (Debian 12
    ships Orca 43); built behind the same interface, `OrcaService`.
  - Orca 46 to 48 speak Qt's accessibility announcements (`object:announcement`) themselves: the window
    posts those and nothing else, so nothing is said twice.
  - Older Orca (43 here) ignores announcements: speech-dispatcher, which Orca itself speaks through
    (`assistant.voice.speechd`). An unknown reader gets the same.
- Windows and macOS (planned, behind the same `say`/`interrupt` interface, not built: this machine cannot
  run them): NVDA through its controller client (`nvdaControllerClient.dll`: `nvdaController_speakText`,
  `nvdaController_cancelSpeech`), other Windows readers through UI Automation notifications
  (`UiaRaiseNotificationEvent`, which Qt 6.8 raises for announcements); VoiceOver through
  `NSAccessibilityAnnouncementRequestedNotification` (Qt's announcements on macOS). There the window's
  Qt announcements are the route today.
"""

from __future__ import annotations

import enum
import logging
import queue
import re
import shutil
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.voice.controller import Priority
from assistant.voice.speechd import ScreenReaderSpeechError, SpeechDispatcher

log = logging.getLogger("assistant.voice.screen_reader")

ORCA_SERVICE = "org.gnome.Orca.Service"
ORCA_SERVICE_PATH = "/org/gnome/Orca/Service"
FIRST_ORCA_WITH_ANNOUNCEMENTS = 46
FIRST_ORCA_WITH_SERVICE = 49


class SpeechRoute(enum.Enum):
    ORCA_SERVICE = "Orca's D-Bus service"
    ANNOUNCEMENTS = "accessibility announcements"
    SPEECH_DISPATCHER = "speech-dispatcher"


@dataclass(frozen=True)
class ScreenReader:
    name: str
    version: int | None = None  # major version, when known
    has_service: bool = False


def _session_bus_call(destination: str, path: str, interface: str, member: str, signature: str = "",
                      body: tuple[Any, ...] = ()) -> Any:  # fmt: skip
    """One D-Bus method call on the session bus; raises OSError/ValueError when there is none."""
    from jeepney import DBusAddress, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    with open_dbus_connection(bus="SESSION") as connection:
        address = DBusAddress(path, bus_name=destination, interface=interface)
        reply = connection.send_and_get_reply(new_method_call(address, member, signature, body), timeout=1.0)
    return reply.body[0] if reply.body else None


def _screen_reader_enabled() -> bool:
    """AT-SPI's own flag; False when there is no session bus or no AT-SPI."""
    try:
        value = _session_bus_call(
            "org.a11y.Bus", "/org/a11y/bus", "org.freedesktop.DBus.Properties", "Get", "ss",
            ("org.a11y.Status", "ScreenReaderEnabled"),
        )  # fmt: skip
    except Exception as error:  # noqa: BLE001 - no bus, no AT-SPI, or a refusal: all mean "not known"
        log.debug("screen reader: AT-SPI status unknown: %s", error)
        return False
    return bool(value[1]) if isinstance(value, tuple) else bool(value)


def _orca_running(proc: Path = Path("/proc")) -> bool:
    for entry in proc.iterdir() if proc.is_dir() else ():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if any(Path(part.decode(errors="replace")).name == "orca" for part in command[:2]):
                return True
    return False


def _orca_version() -> int | None:
    orca = shutil.which("orca")
    if orca is None:
        return None
    try:
        output = subprocess.run([orca, "--version"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"(\d+)\.\d+", output)
    return int(match.group(1)) if match else None


def _orca_service_present() -> bool:
    try:
        return bool(
            _session_bus_call(
                "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner", "s",
                (ORCA_SERVICE,),
            )  # fmt: skip
        )
    except Exception:  # noqa: BLE001 - no session bus: no service
        return False


def detect_screen_reader() -> ScreenReader | None:
    """The running screen reader, or None. Cheap enough for start-up (a D-Bus call and /proc)."""
    orca = _orca_running()
    if not orca and not _screen_reader_enabled():
        return None
    if not orca:
        return ScreenReader("a screen reader")
    return ScreenReader("Orca", _orca_version(), _orca_service_present())


def speech_route(reader: ScreenReader | None) -> SpeechRoute:
    """How to reach `reader`; with none detected (the user chose "screen reader" anyway), the service
    every Linux reader speaks through."""
    if reader is None:
        return SpeechRoute.SPEECH_DISPATCHER
    if reader.has_service:
        return SpeechRoute.ORCA_SERVICE
    version = reader.version if reader.name == "Orca" else None
    if version is not None and version >= FIRST_ORCA_WITH_ANNOUNCEMENTS:
        return SpeechRoute.ANNOUNCEMENTS
    return SpeechRoute.SPEECH_DISPATCHER


class OrcaService:
    """Orca's remote D-Bus service (Orca 49+): Orca presents the message as its own."""

    description = "Orca"

    def __init__(self) -> None:
        self.last_text = ""

    def open(self) -> None:
        if not _orca_service_present():
            raise ScreenReaderSpeechError("Orca's D-Bus service is not running")

    def say(self, text: str, priority: Priority = Priority.NORMAL) -> None:
        if priority is Priority.NOW:
            self.interrupt()
        try:
            _session_bus_call(ORCA_SERVICE, ORCA_SERVICE_PATH, ORCA_SERVICE, "PresentMessage", "s", (text,))
        except Exception as error:  # noqa: BLE001 - any failure of the bus means Orca cannot be reached
            raise ScreenReaderSpeechError(f"Orca did not take the message ({error})") from None
        self.last_text = text

    def interrupt(self) -> None:
        try:
            _session_bus_call(ORCA_SERVICE, ORCA_SERVICE_PATH, ORCA_SERVICE, "InterruptSpeech")
        except Exception as error:  # noqa: BLE001 - an old service without the method: nothing to stop
            log.debug("screen reader: Orca interrupt: %s", error)

    stop = interrupt

    def notify(self, text: str) -> None:
        self.say(text)

    def repeat_last(self) -> bool:
        if self.last_text:
            self.say(self.last_text, Priority.NEXT)
        return bool(self.last_text)

    def close(self, timeout: float = 1.0) -> bool:
        return True


ScreenReaderVoice = SpeechDispatcher | OrcaService


def open_screen_reader_voice(route: SpeechRoute) -> ScreenReaderVoice | None:
    """The connection for `route` (None for announcements, which the window posts itself)."""
    if route is SpeechRoute.ANNOUNCEMENTS:
        return None
    voice: ScreenReaderVoice = OrcaService() if route is SpeechRoute.ORCA_SERVICE else SpeechDispatcher()
    voice.open()
    return voice


class BackgroundVoice:
    """Runs a screen reader voice's calls on a thread of its own, so a slow or dead service never blocks
    the caller (the GUI thread). The first failure is reported once through `on_error`; after it the
    voice is closed and later calls are dropped (the caller falls back to another voice)."""

    def __init__(self, voice: ScreenReaderVoice, on_error: Callable[[ScreenReaderSpeechError], None]) -> None:
        self.voice = voice
        self.description = voice.description
        self._on_error = on_error
        self._calls: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._failed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="screen-reader-voice", daemon=True)
        self._thread.start()

    @property
    def failed(self) -> bool:
        return self._failed.is_set()

    def say(self, text: str, priority: Priority = Priority.NORMAL) -> None:
        self._calls.put(lambda: self.voice.say(text, priority))

    def notify(self, text: str) -> None:
        self._calls.put(lambda: self.voice.notify(text))

    def interrupt(self) -> None:
        self._calls.put(self.voice.interrupt)

    def repeat_last(self) -> bool:
        if not self.voice.last_text:
            return False
        self._calls.put(lambda: self.voice.say(self.voice.last_text, Priority.NEXT))
        return True

    def close(self, timeout: float = 1.0) -> bool:
        self._calls.put(None)
        self._thread.join(timeout)
        self.voice.close(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        while (call := self._calls.get()) is not None:
            if self._failed.is_set():
                continue
            try:
                call()
            except ScreenReaderSpeechError as error:
                self._failed.set()
                self.voice.close(0.1)
                self._on_error(error)
