"""Sound alerts in the window: the smoke alarm, the doorbell, the baby a deaf user cannot hear.

The detectors (`assistant.sounds`) listen to the captions' own capture when captions run (an `AudioTap`
fed by the caption loop: one capture, fanned out) and to the chosen microphone otherwise. An alert is
made impossible to miss: a large banner in the window (with the time and the keys to dismiss or
snooze), a marker line in the captions and the overlay ("[Smoke alarm]", not colour alone), which the
saved transcript keeps too, the window and taskbar flashing, a desktop notification (shown even when the
window is hidden), and speech: smoke and carbon-monoxide alarms at the highest priority. Each alert goes
into the sound history with when it began and how long it lasted.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QMessageBox

from assistant.audio.source import AudioSource
from assistant.audio.sources import open_audio_source
from assistant.audio.tap import AudioTap
from assistant.desktop.notify import notify
from assistant.session import Session
from assistant.sounds.alerts import (
    DEFAULT_SNOOZE_S,
    AlertEvent,
    AlertListener,
    AlertSettings,
    build_alert_detectors,
)
from assistant.speech.types import CaptionEvent
from assistant.voice import Priority
from ui.caption_commands import CaptionCommands
from ui.main_window import MainWindow
from ui.output import Output
from ui.settings import Settings
from ui.sound_teaching import SoundTeacher
from ui.workers import JobRunner, Streams, StreamWorker

STREAM = "alerts"


class AlertWorker(StreamWorker):
    """Runs an `AlertListener` on its own thread; every alert and every end of a sound comes back as a
    signal."""

    alert = Signal(object)  # AlertEvent

    def __init__(self, source_spec: str, tap: AudioTap | None, settings: AlertSettings) -> None:
        super().__init__(STREAM)
        self._source_spec = source_spec
        self._tap = tap
        self._settings = settings

    def work(self, stop: threading.Event) -> None:
        detectors = build_alert_detectors(settings=self._settings, on_status=self.status.emit)
        source = self._tap if self._tap is not None else open_audio_source(self._source_spec, realtime=True)
        # The events come stamped with seconds since the first sample the detectors heard.
        AlertListener(source, detectors, self.alert.emit, self.status.emit).run(stop)


class AlertCommands(QObject):
    def __init__(
        self,
        session: Session,
        settings: Settings,
        output: Output,
        streams: Streams,
        window: MainWindow,
        captions: CaptionCommands,
    ) -> None:
        super().__init__(window)
        self._session = session
        self._settings = settings
        self._output = output
        self._streams = streams
        self._window = window
        self._captions = captions
        self.wanted = False
        self._restart_pending = False
        self.alert_settings: AlertSettings = settings.alert_settings()
        self.last_alert: AlertEvent | None = None
        self._began: dict[str, float] = {}  # sound → wall time it was first alerted on
        # Desktop notifications go over D-Bus, which can stall for seconds: never on the GUI thread.
        self._notifier = JobRunner(self, max_threads=1)
        self.notifications_shown: list[int] = []  # the ids the notification service gave back
        self.teacher = SoundTeacher(window, self._teaching_source, output.note)
        self.teacher.taught.connect(self._on_sound_taught)
        captions.running_changed.connect(self._on_captions_running_changed)

    # -- commands -------------------------------------------------------------------------------------

    def toggle_alerts(self) -> None:
        if self.wanted:
            self.wanted = False
            self._streams.request_stop(STREAM)
            self._output.toggled("sound alerts off")
            return
        self.wanted = True
        self._start()
        self._output.toggled("sound alerts on")

    def dismiss_alert(self) -> None:
        if not self._window.alert_banner.isVisible():
            self._output.status("no sound alert to dismiss")
            return
        self._window.hide_alert()
        self._output.status("sound alert dismissed")

    def snooze_alert(self) -> None:
        """Snooze the last sound for 5 minutes; a smoke or CO alarm only when the user confirms it."""
        event = self.last_alert
        if event is None:
            self._output.status("no sound to snooze yet")
            return
        confirmed = False
        if event.critical:
            answer = QMessageBox.question(
                self._window,
                "Snooze the alarm?",
                f"Snooze the {event.sound} for 5 minutes? Only do this if you know there is no danger.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                self._output.status(f"{event.sound} not snoozed")
                return
            confirmed = True
        self.alert_settings = self.alert_settings.with_snooze(
            event.sound, time.monotonic(), DEFAULT_SNOOZE_S, confirmed=confirmed
        )
        self._window.hide_alert()
        self._output.toggled(f"{event.sound} snoozed for 5 minutes")
        if self.wanted:  # the detectors take the new settings when they start again
            self._restart()

    def apply_settings(self) -> None:
        """The per-sound choices were saved in the settings: listen with them (snoozes are kept)."""
        stored = self._settings.alert_settings()
        self.alert_settings = replace(stored, snoozed_until=self.alert_settings.snoozed_until)
        if self.wanted:  # the detectors take the new settings when they start again
            self._restart()

    def teach_sound(self) -> None:
        """Record 1-5 examples of a sound (the captions' audio when they run, else the microphone) and
        teach it under a name the user types."""
        self.teacher.open()

    def _teaching_source(self) -> AudioSource:
        if self._captions.running:
            return self._captions.share_audio()  # one capture: the captions keep the microphone
        return open_audio_source(self._session.config.audio, realtime=True)

    def _on_sound_taught(self, name: str) -> None:
        self._output.status(f"taught the sound '{name}'", announce=False)
        if self.wanted:  # the detectors load the taught sounds when they start again
            self._restart()

    # -- running --------------------------------------------------------------------------------------

    def _start(self) -> None:
        tap = self._captions.share_audio() if self._captions.running else None
        worker = AlertWorker(self._session.config.audio, tap, self.alert_settings)
        worker.alert.connect(self._on_alert)
        worker.status.connect(lambda message: self._output.status(f"sound alerts: {message}", announce=False))
        worker.failed.connect(lambda message: self._output.status(f"no sound alerts: {message}"))
        handle = self._streams.start(STREAM, worker)
        handle.ended.connect(self._on_stream_ended)

    def _restart(self) -> None:
        """Stop listening; `_on_stream_ended` starts again with the new source or settings."""
        self._restart_pending = True
        if not self._streams.request_stop(STREAM) and self.wanted:
            self._restart_pending = False
            self._start()

    def _on_stream_ended(self) -> None:
        if not self.wanted or self._streams.running(STREAM):
            return
        if self._restart_pending:  # a snooze, or the captions started or stopped: listen again
            self._restart_pending = False
            self._start()
        else:  # the audio itself ended (a file)
            self.wanted = False
            self._output.status("sound alerts ended with the audio")

    def _on_captions_running_changed(self, running: bool) -> None:
        if not self.wanted:
            return
        if running:
            self._restart()  # move onto the captions' capture: one microphone, two listeners
        else:
            self._restart_pending = True  # the tap ends with the captions: back to the microphone

    def close(self) -> None:
        """The app is closing: nothing starts again."""
        self.wanted = False
        self._restart_pending = False
        self._notifier.shutdown(0.5)
        self.teacher.close()

    # -- showing an alert -----------------------------------------------------------------------------

    def _on_notified(self, notification_id: int | None) -> None:
        if notification_id is not None:
            self.notifications_shown.append(notification_id)

    def _on_alert(self, event: AlertEvent) -> None:
        name = event.sound[:1].upper() + event.sound[1:]
        if event.kind == "ended":
            began = self._began.pop(event.sound, None)
            lasted = f"{time.time() - began:.0f} s" if began is not None else "a moment"
            self._window.add_sound_history(f"{time.strftime('%H:%M:%S')}  {name} stopped after {lasted}")
            return
        self.last_alert = event
        self._began.setdefault(event.sound, time.time())
        clock = time.strftime("%H:%M:%S")
        self._window.show_alert(f"{name}  {clock}")
        self._window.add_sound_history(f"{clock}  {name} ({event.confidence:.0%} sure)")
        marker = CaptionEvent("final", f"[{name}]", event.at, event.at, event.t_emit)
        self._captions.show_caption(marker)  # window and overlay: a line of its own
        self._captions.recorder.add(marker)  # and the saved transcript
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.alert(self._window)  # flashes the window and its taskbar entry
        critical = event.critical
        urgency = "critical" if critical else "normal"
        self._notifier.submit(
            "notify", lambda: notify(name, f"Heard at {clock}.", urgency=urgency), self._on_notified
        )
        self._output.speak(f"{name}!", Priority.NOW if critical else Priority.NEXT)
        self._output.status(f"sound alert: {event.sound} at {clock}", announce=False)
