"""The one speech controller: a queue of utterances with NVDA's priorities, spoken on its own thread.

- `Priority.NOW` stops whatever is speaking, clears the queue and speaks at once (an alert).
- `Priority.NEXT` goes to the front of the queue, after the utterance being spoken and after any earlier
  NEXT utterances (the answer to what the user just asked).
- `Priority.NORMAL` waits its turn (narration).

Every user-initiated command calls `interrupt()` first, so the assistant never talks over the user.
All methods are safe to call from any thread (the GUI thread included) and return at once, except
`wait_until_idle` and `close`, which take a timeout. The speaker is created by `speaker_factory` and
used only on the controller's thread, because speech engines are not thread-safe.
"""

from __future__ import annotations

import collections
import enum
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from assistant.errors import AssistantError
from assistant.voice.speaker import Speaker, StopSignal, Voice, check_volume, unknown_voice

log = logging.getLogger(__name__)

START_TIMEOUT_S = 10.0


class Priority(enum.Enum):
    NORMAL = "normal"
    NEXT = "next"
    NOW = "now"


@dataclass(frozen=True)
class _Utterance:
    text: str
    priority: Priority


@dataclass
class _Settings:
    rate: int | None = None
    volume: float | None = None
    voice: str | None = None


class SpeechController:
    """Owns the speech queue and the thread that speaks it.

    `speaker_factory` runs on the controller's thread (it loads the engine there); `start()` waits for it
    and re-raises its `AssistantError`, so a missing engine is reported to the caller, who keeps text
    output working. Hooks run on the controller's thread: `on_started(text)` before an utterance plays,
    `on_finished(text)` after it ended (played out or stopped), `on_error(error)` when one could not be
    spoken (no output device, say).
    """

    def __init__(
        self,
        speaker_factory: Callable[[], Speaker],
        *,
        on_started: Callable[[str], None] | None = None,
        on_finished: Callable[[str], None] | None = None,
        on_error: Callable[[AssistantError], None] | None = None,
    ) -> None:
        self._speaker_factory = speaker_factory
        self.on_started = on_started
        self.on_finished = on_finished
        self.on_error = on_error
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # queue, current utterance or closing changed
        self._queue: collections.deque[_Utterance] = collections.deque()
        self._current: _Utterance | None = None
        self._current_stop: StopSignal | None = None
        self._last_text: str | None = None
        self._settings = _Settings()
        self._closing = False
        self._ready = threading.Event()
        self._start_error: BaseException | None = None
        self._voices: list[Voice] = []
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self, timeout: float = START_TIMEOUT_S) -> None:
        """Start the thread and load the speaker on it; raises what the factory raised."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="speech-controller", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            self.close(timeout=0.5)
            raise AssistantError(f"the speech engine did not start within {timeout:g} s: try again")
        if self._start_error is not None:
            self._thread.join(timeout=1.0)
            raise self._start_error

    def close(self, timeout: float = 2.0) -> bool:
        """Stop speaking, drop the queue and join the thread. Returns False if it did not end in time
        (it is a daemon thread, so it never keeps the process alive)."""
        with self._lock:
            self._closing = True
            self._queue.clear()
            if self._current_stop is not None:
                self._current_stop.set()
            self._changed.notify_all()
        thread = self._thread
        if thread is None or thread is threading.current_thread():
            return True
        thread.join(timeout)
        if thread.is_alive():
            log.warning("voice: the speech thread did not end within %.1f s", timeout)
            return False
        return True

    def __enter__(self) -> SpeechController:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- queue -----------------------------------------------------------------------------------

    def say(self, text: str, priority: Priority = Priority.NORMAL) -> None:
        text = text.strip()
        if not text:
            return
        utterance = _Utterance(text, priority)
        with self._lock:
            if self._closing:
                return
            if priority is Priority.NOW:
                self._interrupt_locked()
                self._queue.append(utterance)
            elif priority is Priority.NEXT:
                # After the NEXT utterances already waiting, before everything else.
                position = 0
                while position < len(self._queue) and self._queue[position].priority is Priority.NEXT:
                    position += 1
                self._queue.insert(position, utterance)
            else:
                self._queue.append(utterance)
            self._changed.notify_all()

    def interrupt(self) -> None:
        """Stop the current utterance and clear the queue. Every user command calls this first."""
        with self._lock:
            self._interrupt_locked()
            self._changed.notify_all()

    def _interrupt_locked(self) -> None:
        self._queue.clear()
        if self._current_stop is not None:
            self._current_stop.set()

    def stop(self) -> None:
        """Stop the current utterance only; what is queued is spoken next (a "skip")."""
        with self._lock:
            if self._current_stop is not None:
                self._current_stop.set()

    def repeat_last(self) -> bool:
        """Speak the last utterance again, at once. False when nothing has been spoken yet."""
        with self._lock:
            text = self._last_text
        if text is None:
            return False
        self.say(text, Priority.NOW)
        return True

    @property
    def is_speaking(self) -> bool:
        with self._lock:
            return self._current is not None

    def wait_until_idle(self, timeout: float) -> bool:
        """Block until nothing is speaking or queued; False if that did not happen within `timeout`."""
        with self._lock:
            return self._changed.wait_for(lambda: self._current is None and not self._queue, timeout)

    # -- settings (applied on the controller's thread before the next utterance) -----------------

    def set_rate(self, words_per_min: int) -> None:
        with self._lock:
            self._settings.rate = words_per_min

    def set_volume(self, volume: float) -> None:
        check_volume(volume)
        with self._lock:
            self._settings.volume = volume

    def set_voice(self, voice_id: str) -> None:
        """Raises `AssistantError` for a voice the engine does not have (after `start()`)."""
        known = {voice.id for voice in self._voices} | {voice.name.lower() for voice in self._voices}
        if self._voices and voice_id.lower() not in known:
            raise unknown_voice(voice_id)
        with self._lock:
            self._settings.voice = voice_id

    def voices(self) -> list[Voice]:
        """The engine's voices, as listed when the controller started (empty before `start()`)."""
        return list(self._voices)

    # -- the controller's thread -----------------------------------------------------------------

    def _run(self) -> None:
        try:
            # The speaker is created and used only here: engines are not thread-safe.
            speaker = self._speaker_factory()
            self._voices = speaker.voices()
        except BaseException as error:  # noqa: BLE001 - re-raised by start() in its caller's thread
            self._start_error = error
            self._ready.set()
            return
        self._ready.set()
        try:
            while True:
                with self._lock:
                    self._changed.wait_for(lambda: self._closing or bool(self._queue))
                    if self._closing:
                        return
                    utterance = self._queue.popleft()
                    stop = StopSignal()
                    self._current, self._current_stop = utterance, stop
                    self._last_text = utterance.text
                    settings, self._settings = self._settings, _Settings()
                self._speak(speaker, utterance, stop, settings)
                with self._lock:
                    self._current = self._current_stop = None
                    self._changed.notify_all()
        finally:
            speaker.close()
            with self._lock:
                self._current = self._current_stop = None
                self._changed.notify_all()

    def _speak(self, speaker: Speaker, utterance: _Utterance, stop: StopSignal, settings: _Settings) -> None:
        try:
            if settings.rate is not None or settings.volume is not None or settings.voice is not None:
                speaker.configure(rate=settings.rate, volume=settings.volume, voice=settings.voice)
        except AssistantError as error:
            self._report(error)
        self._call_hook(self.on_started, utterance.text)
        try:
            speaker.speak(utterance.text, stop)
        except AssistantError as error:
            self._report(error)
        except Exception:  # one broken utterance must not silence the assistant for good
            log.exception("voice: speaking %r failed", utterance.text[:40])
        finally:
            self._call_hook(self.on_finished, utterance.text)

    def _report(self, error: AssistantError) -> None:
        log.warning("voice: %s", error)
        if self.on_error is not None:
            try:
                self.on_error(error)
            except Exception:
                log.exception("voice: the on_error hook failed")

    @staticmethod
    def _call_hook(hook: Callable[[str], None] | None, text: str) -> None:
        if hook is None:
            return
        try:
            hook(text)
        except Exception:  # a hook's bug is the hook's, not a reason to stop speaking
            log.exception("voice: a progress hook failed")
