"""Announcements to the user's screen reader through Qt's accessibility layer.

`Announcer.announce(text, assertive=False)` posts a `QAccessibleAnnouncementEvent` (Qt 6.8+) from the
GUI thread: polite announcements wait until the screen reader is quiet, assertive ones interrupt it.
Workers never announce; their results reach the GUI thread as signals first (peers crashed when they
announced from a worker). `_post` is the single call into Qt, so tests can watch that boundary.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QThread, Signal
from PySide6.QtGui import QAccessible, QAccessibleAnnouncementEvent
from PySide6.QtWidgets import QApplication

log = logging.getLogger("ui.announce")


def _post(event: QAccessibleAnnouncementEvent) -> None:
    """The Qt boundary: hand the event to the platform's accessibility bridge (no-op when none runs)."""
    QAccessible.updateAccessibility(event)


class Announcer(QObject):
    """Announces text on behalf of `source` (the widget a screen reader attributes it to)."""

    announced = Signal(str, bool)  # text, assertive

    def __init__(self, source: QObject) -> None:
        super().__init__(source)
        self._source = source
        self.enabled = True

    def announce(self, text: str, assertive: bool = False) -> None:
        text = " ".join(text.split())
        if not text or not self.enabled:
            return
        app = QApplication.instance()
        if app is not None and QThread.currentThread() is not app.thread():
            # A programming error, not a user one: say so loudly rather than crash the bridge.
            log.error("announce: called off the GUI thread; dropped %r", text[:60])
            return
        event = QAccessibleAnnouncementEvent(self._source, text)
        event.setPoliteness(
            QAccessible.AnnouncementPoliteness.Assertive
            if assertive
            else QAccessible.AnnouncementPoliteness.Polite
        )
        _post(event)
        self.announced.emit(text, assertive)
