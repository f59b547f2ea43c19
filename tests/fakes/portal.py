"""A stand-in for the desktop portal (`xdg-desktop-portal` with a KDE or GNOME backend) on a private
D-Bus session bus: the GlobalShortcuts interface (CreateSession, BindShortcuts, Activated/Deactivated)
and the Screenshot interface, speaking the documented protocol (each call answers with a Request object
whose `Response` signal carries the result). No Wayland compositor runs here to provide the real one.

The fake grants every shortcut it is asked for (or refuses the ones in `refuse`), hands out `screenshot`
as the picture of the screen, and `activate(id)` plays the user pressing a bound key.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from jeepney import DBusAddress, HeaderFields, MessageType, new_error, new_method_return, new_signal
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection

PORTAL = "org.freedesktop.portal.Desktop"
PATH = "/org/freedesktop/portal/desktop"
GLOBAL_SHORTCUTS = "org.freedesktop.portal.GlobalShortcuts"
SCREENSHOT = "org.freedesktop.portal.Screenshot"


class FakePortal:
    def __init__(
        self, bus_address: str, screenshot: Path | None = None, refuse: tuple[str, ...] = ()
    ) -> None:
        self._address = bus_address
        self._screenshot = screenshot
        self._refuse = refuse
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._connection: Any = None
        self._lock = threading.Lock()
        self.session = ""
        self.bound: dict[str, str] = {}  # shortcut id -> preferred trigger
        self.calls: list[str] = []

    def start(self) -> FakePortal:
        self._connection = open_dbus_connection(bus=self._address)
        reply = self._connection.send_and_get_reply(message_bus.RequestName(PORTAL), timeout=5)
        assert reply.body[0] == 1, "the fake portal could not own its name"
        self._thread = threading.Thread(target=self._serve, name="fake-portal", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        if self._connection is not None:
            self._connection.close()

    def activate(self, shortcut_id: str) -> None:
        """The user presses and lets go of the key bound to `shortcut_id`."""
        emitter = DBusAddress(PATH, interface=GLOBAL_SHORTCUTS)
        for member in ("Activated", "Deactivated"):
            self._send(new_signal(emitter, member, "osta{sv}", (self.session, shortcut_id, 0, {})))

    # -- serving --

    def _send(self, message: Any) -> None:
        with self._lock:
            self._connection.send_message(message)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                message = self._connection.receive(timeout=0.1)
            except TimeoutError:
                continue
            except OSError:
                return
            if message.header.message_type is MessageType.method_call:
                self._answer(message)

    def _answer(self, call: Any) -> None:
        fields = call.header.fields
        interface, member = fields.get(HeaderFields.interface), fields.get(HeaderFields.member)
        sender = str(fields.get(HeaderFields.sender, "")).lstrip(":").replace(".", "_")
        self.calls.append(f"{interface}.{member}")
        if interface == "org.freedesktop.DBus.Properties" and member == "Get":
            wanted = call.body[0]
            if wanted in (GLOBAL_SHORTCUTS, SCREENSHOT) and not (
                wanted == SCREENSHOT and not self._screenshot
            ):
                self._send(new_method_return(call, "v", (("u", 1),)))
            else:
                self._send(new_error(call, "org.freedesktop.DBus.Error.UnknownInterface"))
            return
        if interface == GLOBAL_SHORTCUTS and member == "CreateSession":
            options = call.body[0]
            self.session = f"{PATH}/session/{sender}/{options['session_handle_token'][1]}"
            self._respond(call, sender, options, {"session_handle": ("s", self.session)})
        elif interface == GLOBAL_SHORTCUTS and member == "BindShortcuts":
            _session, shortcuts, _parent, options = call.body
            granted = []
            for shortcut_id, details in shortcuts:
                if shortcut_id in self._refuse:
                    continue
                trigger = details.get("preferred_trigger", ("s", ""))[1]
                self.bound[shortcut_id] = trigger
                granted.append((shortcut_id, {"trigger_description": ("s", trigger)}))
            self._respond(call, sender, options, {"shortcuts": ("a(sa{sv})", granted)})
        elif interface == SCREENSHOT and member == "Screenshot" and self._screenshot is not None:
            self._respond(call, sender, call.body[1], {"uri": ("s", self._screenshot.as_uri())})
        elif interface == "org.freedesktop.portal.Session" and member == "Close":
            self._send(new_method_return(call))
        else:
            self._send(new_error(call, "org.freedesktop.DBus.Error.UnknownMethod"))

    def _respond(self, call: Any, sender: str, options: dict[str, Any], results: dict[str, Any]) -> None:
        request = f"{PATH}/request/{sender}/{options['handle_token'][1]}"
        self._send(new_method_return(call, "o", (request,)))
        emitter = DBusAddress(request, interface="org.freedesktop.portal.Request")
        self._send(new_signal(emitter, "Response", "ua{sv}", (0, results)))
