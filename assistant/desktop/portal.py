"""Wayland's desktop portals over D-Bus (jeepney): system-wide keys and screenshots, where offered.

A Wayland compositor lets no program grab keys or read the screen by itself; the desktop offers both
through `org.freedesktop.portal.Desktop`:

- `org.freedesktop.portal.GlobalShortcuts` (KDE Plasma 5.27+, GNOME 48+): the program names its shortcuts
  with a preferred key, the desktop asks the user once and sends `Activated`/`Deactivated` signals.
  `PortalShortcutListener` has the same `set_keys`/`run` shape as the X11 listener, so the window drives
  either the same way. Changing keys closes the portal session and binds a new one.
- `org.freedesktop.portal.Screenshot`: a picture of the screen, saved by the desktop to a file.

Every portal call answers with a Request object whose `Response` signal carries the result; the request's
path is known in advance (sender and our token), so the signal is subscribed to before the call.
`portal_available(interface)` says whether the desktop offers an interface at all; without it the window
tells the user to bind `assistant send …` in the desktop's own keyboard settings instead.

Not testable here (no Wayland compositor): the calls follow the portal documentation; the tests cover the
absence of the portal, which is what most Wayland desktops today have.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import unquote, urlparse

from assistant.desktop.keys import ChordError, parse_chord, portal_trigger
from assistant.desktop.x11 import GrabOutcome, KeyEvent
from assistant.errors import AssistantError

log = logging.getLogger("assistant.desktop.portal")

PORTAL = "org.freedesktop.portal.Desktop"
PORTAL_PATH = "/org/freedesktop/portal/desktop"
GLOBAL_SHORTCUTS = "org.freedesktop.portal.GlobalShortcuts"
SCREENSHOT = "org.freedesktop.portal.Screenshot"
REQUEST = "org.freedesktop.portal.Request"
SESSION = "org.freedesktop.portal.Session"
RESPONSE_TIMEOUT_S = 60.0
"""The desktop may ask the user first (which keys to allow, whether to share the screen)."""

_tokens = itertools.count(1)


class PortalError(AssistantError):
    """The desktop portal is missing, refused, or did not answer."""


def _token() -> str:
    return f"assistant{os.getpid()}_{next(_tokens)}"


@contextlib.contextmanager
def _session_bus() -> Iterator[Any]:
    from jeepney.io.blocking import open_dbus_connection

    try:
        connection = open_dbus_connection(bus="SESSION")
    except (OSError, KeyError, ValueError) as error:
        raise PortalError(f"no D-Bus session bus ({error})") from None
    try:
        yield connection
    finally:
        connection.close()


def portal_available(interface: str, environ: Mapping[str, str] | None = None) -> bool:
    """True when the desktop's portal offers `interface` (its `version` property answers)."""
    from jeepney import DBusAddress, Properties

    env = os.environ if environ is None else environ
    if not env.get("DBUS_SESSION_BUS_ADDRESS") and not env.get("XDG_RUNTIME_DIR"):
        return False
    try:
        with _session_bus() as bus:
            address = DBusAddress(PORTAL_PATH, bus_name=PORTAL, interface=interface)
            reply = bus.send_and_get_reply(Properties(address).get("version"), timeout=2.0)
    except (PortalError, OSError, TimeoutError):
        return False
    return bool(reply.header.message_type.name == "method_return")


def _request_path(bus: Any, token: str) -> str:
    sender = bus.unique_name.lstrip(":").replace(".", "_")
    return f"{PORTAL_PATH}/request/{sender}/{token}"


def _call_with_response(
    bus: Any, interface: str, method: str, signature: str, body: tuple[Any, ...], token: str,
    timeout: float = RESPONSE_TIMEOUT_S,
) -> dict[str, Any]:  # fmt: skip
    """Call a portal method whose answer comes as a Request's `Response`; its results, or PortalError."""
    from jeepney import DBusAddress, MatchRule, message_bus, new_method_call

    rule = MatchRule(type="signal", interface=REQUEST, member="Response", path=_request_path(bus, token))
    bus.send_and_get_reply(message_bus.AddMatch(rule), timeout=2.0)
    with bus.filter(rule) as queue:
        address = DBusAddress(PORTAL_PATH, bus_name=PORTAL, interface=interface)
        reply = bus.send_and_get_reply(new_method_call(address, method, signature, body), timeout=5.0)
        if reply.header.message_type.name != "method_return":
            raise PortalError(f"the desktop refused {method}: {reply.body}")
        try:
            signal = bus.recv_until_filtered(queue, timeout=timeout)
        except TimeoutError:
            raise PortalError(f"the desktop did not answer {method} within {timeout:g} s") from None
    code, results = signal.body
    if code != 0:
        why = "you declined it in the desktop's dialog" if code == 1 else "the desktop could not do it"
        raise PortalError(f"{method}: {why}")
    return {key: value[1] for key, value in results.items()}


# -- system-wide keys ---------------------------------------------------------------------------------


class PortalShortcutListener:
    """System-wide keys through the GlobalShortcuts portal; the same shape as `x11.GlobalKeyListener`."""

    def __init__(self, describe: Callable[[str], str] | None = None) -> None:
        self._describe = describe or (lambda command_id: command_id)
        self._lock = threading.Lock()
        self._wanted: dict[str, str] | None = None

    def set_keys(self, keys: Mapping[str, str]) -> None:
        with self._lock:
            self._wanted = dict(keys)

    def run(
        self,
        stop: threading.Event,
        on_key: Callable[[KeyEvent], None],
        on_grab: Callable[[list[GrabOutcome]], None],
        stop_poll_s: float = 0.1,
    ) -> None:
        from jeepney import MatchRule, message_bus
        from jeepney.low_level import HeaderFields

        with _session_bus() as bus:
            rule = MatchRule(type="signal", interface=GLOBAL_SHORTCUTS, path=PORTAL_PATH)
            bus.send_and_get_reply(message_bus.AddMatch(rule), timeout=2.0)
            session = ""
            with bus.filter(rule, bufsize=64) as queue:
                while not stop.is_set():
                    with self._lock:
                        wanted, self._wanted = self._wanted, None
                    if wanted is not None:
                        session = self._rebind(bus, session, wanted, on_grab)
                    try:
                        signal = bus.recv_until_filtered(queue, timeout=stop_poll_s)
                    except TimeoutError:
                        continue
                    member = signal.header.fields.get(HeaderFields.member)
                    handle, shortcut_id = signal.body[0], signal.body[1]
                    if handle == session and member in ("Activated", "Deactivated"):
                        on_key(KeyEvent(str(shortcut_id), member == "Activated", time.time()))
            if session:
                self._close_session(bus, session)

    def _rebind(
        self, bus: Any, session: str, keys: Mapping[str, str], on_grab: Callable[[list[GrabOutcome]], None]
    ) -> str:
        if session:
            self._close_session(bus, session)
        shortcuts, outcomes = [], []
        for command_id, text in keys.items():
            if not text:
                continue
            try:
                trigger = portal_trigger(parse_chord(text))
            except ChordError as problem:
                outcomes.append(GrabOutcome(command_id, text, False, str(problem)))
                continue
            options = {"description": ("s", self._describe(command_id)), "preferred_trigger": ("s", trigger)}
            shortcuts.append((command_id, options))
        try:
            token = _token()
            created = _call_with_response(
                bus, GLOBAL_SHORTCUTS, "CreateSession", "a{sv}",
                ({"handle_token": ("s", token), "session_handle_token": ("s", _token())},), token,
            )  # fmt: skip
            session = str(created["session_handle"])
            token = _token()
            bound = _call_with_response(
                bus, GLOBAL_SHORTCUTS, "BindShortcuts", "oa(sa{sv})sa{sv}",
                (session, shortcuts, "", {"handle_token": ("s", token)}), token,
            )  # fmt: skip
        except PortalError as error:
            on_grab([*outcomes, *(GrabOutcome(i, keys[i], False, str(error)) for i, _ in shortcuts)])
            return ""
        given = {str(item[0]): item[1] for item in bound.get("shortcuts", [])}
        for command_id, _options in shortcuts:
            if command_id in given:
                outcomes.append(GrabOutcome(command_id, keys[command_id], True))
            else:
                outcomes.append(
                    GrabOutcome(command_id, keys[command_id], False, "the desktop did not bind it")
                )
        on_grab(outcomes)
        return session

    @staticmethod
    def _close_session(bus: Any, session: str) -> None:
        from jeepney import DBusAddress, new_method_call

        with contextlib.suppress(OSError, TimeoutError):
            bus.send_and_get_reply(
                new_method_call(DBusAddress(session, bus_name=PORTAL, interface=SESSION), "Close"),
                timeout=2.0,
            )


# -- screenshots --------------------------------------------------------------------------------------


def portal_screenshot(timeout: float = RESPONSE_TIMEOUT_S) -> str:
    """A picture of the whole screen through the Screenshot portal: the path of the file the desktop
    saved. Raises `PortalError` when there is no portal or the user declined."""
    with _session_bus() as bus:
        token = _token()
        results = _call_with_response(
            bus, SCREENSHOT, "Screenshot", "sa{sv}",
            ("", {"handle_token": ("s", token), "interactive": ("b", False)}), token, timeout,
        )  # fmt: skip
    uri = str(results.get("uri", ""))
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        raise PortalError(f"the desktop gave no screenshot file ({uri!r})")
    return unquote(parsed.path)
