"""The one read loop over an audio source that live captions and sound alerts both run on their worker
thread: read until stopped or the source ends; a device that disappears is reported once and reopened
every `reconnect_seconds` until it is back or the loop is stopped."""

from __future__ import annotations

import threading
from collections.abc import Callable

from assistant.audio.source import AudioArray, AudioSource
from assistant.errors import AudioInputError, DeviceLostError, EndOfAudio

READ_TIMEOUT_S = 0.1  # how often a silent source still lets the loop look at `stop` (and `on_tick` run)


def _nothing() -> None:
    pass


def pump_audio(
    source: AudioSource,
    stop: threading.Event,
    *,
    on_chunk: Callable[[AudioArray], None],
    on_status: Callable[[str], None],
    listening: str,
    on_tick: Callable[[], None] = _nothing,
    on_lost: Callable[[], None] = _nothing,
    on_back: Callable[[], None] = _nothing,
    reconnect_seconds: float = 1.0,
) -> None:
    """Open `source`, say `listening`, and hand every chunk read to `on_chunk` (`on_tick` runs after each
    read, chunk or not) until `stop` is set or a finite source ends; the source is closed on the way out.
    Raises `AssistantError` only when the source cannot be opened at the start. `on_lost` runs when the
    device disappears (before it is reported), `on_back` when it is open again."""
    source.open()
    on_status(listening)
    try:
        while not stop.is_set():
            try:
                chunk = source.read(timeout=READ_TIMEOUT_S)
            except EndOfAudio:
                return
            except DeviceLostError as error:
                on_lost()
                on_status(f"{error} Waiting for it to come back…")
                if not _reopen(source, stop, reconnect_seconds):
                    return
                on_back()
                on_status(f"{source.description} is back; listening again")
                continue
            if len(chunk):
                on_chunk(chunk)
            on_tick()
    finally:
        source.close()


def _reopen(source: AudioSource, stop: threading.Event, every_seconds: float) -> bool:
    """Try to open `source` again every `every_seconds`; False when `stop` came first."""
    source.close()
    while not stop.wait(every_seconds):
        try:
            source.open()
        except AudioInputError:
            continue
        return True
    return False
