"""A real desktop notification daemon for tests: Debian's `dunst` on a private Xvfb display and a private
D-Bus session bus, with a rule that writes every notification it receives to a file, so a test can read
back what a user would have seen pop up. No pytest here.

    with notification_daemon(tmp_path) as daemon:
        os.environ["DBUS_SESSION_BUS_ADDRESS"] = daemon.bus_address   # the client's session bus
        ... raise an alert ...
        daemon.wait_for(lambda n: n.summary == "Smoke alarm", timeout=10)
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.desktop import DesktopSession, missing, private_display
from tests.helpers.polling import poll_until

PROGRAMS = ("dunst", "dunstctl", "dbus-daemon", "Xvfb")

# dunst runs the rule's script for every notification that matches, with the notification in its
# environment (DUNST_APP_NAME, DUNST_SUMMARY, DUNST_BODY, DUNST_URGENCY); one tab-separated line each.
_RECORDER = """#!/bin/sh
printf '%s\\t%s\\t%s\\t%s\\n' "$DUNST_APP_NAME" "$DUNST_SUMMARY" "$DUNST_URGENCY" "$DUNST_BODY" >> {log}
"""
_CONFIG = """[global]
    font = Monospace 8
[record_every_notification]
    appname = "*"
    script = {script}
"""


class NotificationDaemonUnavailableError(RuntimeError):
    """dunst, Xvfb or dbus-daemon is missing or would not start; the message says which."""


@dataclass(frozen=True)
class Notification:
    """One notification as the daemon received it."""

    app_name: str
    summary: str
    urgency: str  # dunst's words: LOW, NORMAL, CRITICAL
    body: str


class NotificationDaemon:
    def __init__(self, session: DesktopSession, record: Path) -> None:
        self.session = session
        self._record = record

    @property
    def bus_address(self) -> str:
        return self.session.env["DBUS_SESSION_BUS_ADDRESS"]

    def received(self) -> list[Notification]:
        if not self._record.exists():
            return []
        lines = self._record.read_text(encoding="utf-8").splitlines()
        return [Notification(*(line.split("\t", 3) + ["", "", "", ""])[:4]) for line in lines if line]

    def displayed(self) -> int:
        """How many notifications dunst shows on the screen now (`dunstctl count displayed`)."""
        done = subprocess.run(
            ["dunstctl", "count", "displayed"], env=self.session.environment(), capture_output=True,
            text=True, timeout=10, check=True,
        )  # fmt: skip
        return int(done.stdout.strip() or 0)

    def wait_for(self, matches: Callable[[Notification], bool], timeout: float) -> Notification:
        return poll_until(
            lambda: next((n for n in self.received() if matches(n)), None),
            timeout,
            lambda: f"matching notification (received: {self.received()})",
        )

    def _serving(self) -> bool:
        done = subprocess.run(
            ["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
             "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner",
             "string:org.freedesktop.Notifications"],
            env=self.session.environment(), capture_output=True, text=True, timeout=10, check=False,
        )  # fmt: skip
        return done.returncode == 0 and "boolean true" in done.stdout


@contextmanager
def notification_daemon(log_dir: Path) -> Iterator[NotificationDaemon]:
    """dunst serving `org.freedesktop.Notifications` on a private session bus, for the block's length."""
    absent = missing([*PROGRAMS, "dbus-send"])
    if absent:
        raise NotificationDaemonUnavailableError(f"missing {absent} (scripts/setup.sh --test installs them)")
    screen = private_display(log_dir, prefix="notify-", unavailable=NotificationDaemonUnavailableError)
    with screen as (display, root):
        session = DesktopSession(display, root)
        record = root / "received.tsv"
        script = root / "record.sh"
        script.write_text(_RECORDER.format(log=record), encoding="utf-8")
        script.chmod(0o755)
        config = root / "dunstrc"
        config.write_text(_CONFIG.format(script=script), encoding="utf-8")
        try:
            session.start_dbus()
            dunst = session.start("dunst", ["dunst", "-config", str(config)])
            daemon = NotificationDaemon(session, record)
            poll_until(
                lambda: daemon._serving() or not dunst.running(),
                15,
                "dunst on the session bus",
            )
            if not dunst.running():
                log = (root / "dunst.log").read_text(errors="replace")
                raise NotificationDaemonUnavailableError(f"dunst would not start: {log[-500:]}")
            yield daemon
        finally:
            session.stop()
