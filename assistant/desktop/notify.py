"""Desktop notifications (the freedesktop `org.freedesktop.Notifications` service over D-Bus): a sound
alert reaches a deaf user even when the assistant's window is hidden or behind another program.

`notify` returns the notification's id, or None when no notification service runs (said in the log only:
the window's banner, the overlay and the voice carry the alert anyway)."""

from __future__ import annotations

import logging

log = logging.getLogger("assistant.desktop.notify")

APP_NAME = "Assistant"
URGENCY = {"low": 0, "normal": 1, "critical": 2}


def notify(summary: str, body: str = "", *, urgency: str = "normal", timeout_ms: int = -1) -> int | None:
    """Show a notification; critical ones stay until the user dismisses them (the spec's rule)."""
    try:
        from jeepney import DBusAddress, new_method_call
        from jeepney.io.blocking import open_dbus_connection

        address = DBusAddress(
            "/org/freedesktop/Notifications",
            bus_name="org.freedesktop.Notifications",
            interface="org.freedesktop.Notifications",
        )
        hints = {"urgency": ("y", URGENCY[urgency]), "category": ("s", "device")}
        message = new_method_call(
            address, "Notify", "susssasa{sv}i",
            (APP_NAME, 0, "dialog-warning", summary, body, [], hints, timeout_ms),
        )  # fmt: skip
        with open_dbus_connection(bus="SESSION") as connection:
            reply = connection.send_and_get_reply(message, timeout=2.0)
    except Exception as error:  # noqa: BLE001 - no bus or no service: the other alert routes remain
        log.info("notify: no desktop notification (%s)", error)
        return None
    body_values = reply.body
    return int(body_values[0]) if body_values and isinstance(body_values[0], int) else None
