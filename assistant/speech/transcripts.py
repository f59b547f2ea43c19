"""Saving captions as a transcript file: plain text, SubRip (.srt), WebVTT (.vtt) or JSON.

The format follows the file's suffix. `write_transcript()` writes a finished list at once (atomically, via
a temporary file). `TranscriptWriter` saves a live captions session as it goes: each final caption is
appended, flushed and fsynced before `add()` returns, so a crash loses nothing already finalised. For
JSON the file stays a valid array after every `add()`: the closing bracket is written each time and
overwritten by the next caption, so no repair step is needed on close.
"""

from __future__ import annotations

import datetime
import json
import os
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import srt

from assistant.errors import AssistantError
from assistant.speech.types import CaptionEvent

FORMATS = (".txt", ".srt", ".vtt", ".json")
_VTT_HEADER = "WEBVTT\n\n"
_JSON_END = "\n]\n"


@dataclass(frozen=True)
class TranscriptSegment:
    """One finalised caption: audio seconds since the session began, and its text."""

    start: float
    end: float
    text: str


def segment_from_event(event: CaptionEvent) -> TranscriptSegment:
    """The transcript line for a final caption. Partial captions may still change: they are never saved."""
    if event.kind != "final":
        raise ValueError(f"only final captions belong in a transcript, got a {event.kind} one")
    return TranscriptSegment(start=event.start, end=event.end, text=event.text)


def transcript_format(path: str | os.PathLike[str]) -> str:
    """The format for `path` (its lower-case suffix), or an AssistantError listing the supported ones."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        shown = f"{suffix!r}" if suffix else "no suffix"
        raise AssistantError(
            f"Cannot save a transcript as {Path(path).name} ({shown}): use a file name ending in "
            f"{', '.join(FORMATS)}."
        )
    return suffix


def _clean(text: str) -> str:
    # Blank lines end a cue in SRT and VTT, and "-->" starts a timing line: neither may appear in cue text.
    lines = [line.strip() for line in text.replace("-->", "->").splitlines()]
    return "\n".join(line for line in lines if line)


def _srt_cue(index: int, segment: TranscriptSegment) -> str:
    subtitle = srt.Subtitle(
        index=index,
        start=datetime.timedelta(seconds=max(segment.start, 0.0)),
        end=datetime.timedelta(seconds=max(segment.end, segment.start, 0.0)),
        content=_clean(segment.text),
    )
    return str(subtitle.to_srt())


def _vtt_time(seconds: float) -> str:
    millis = round(max(seconds, 0.0) * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    return f"{hours:02d}:{minutes:02d}:{millis // 1000:02d}.{millis % 1000:03d}"


def _vtt_cue(segment: TranscriptSegment) -> str:
    # WebVTT cue text is HTML-like: a bare "&" or "<" would be read as markup.
    text = _clean(segment.text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"{_vtt_time(segment.start)} --> {_vtt_time(max(segment.end, segment.start))}\n{text}\n\n"


def _json_item(segment: TranscriptSegment) -> str:
    item = {"start": round(segment.start, 3), "end": round(segment.end, 3), "text": segment.text.strip()}
    return "  " + json.dumps(item, ensure_ascii=False)


def _render(fmt: str, segments: Sequence[TranscriptSegment]) -> str:
    if fmt == ".txt":
        return "".join(f"{_clean(s.text)}\n" for s in segments)
    if fmt == ".srt":
        return "".join(_srt_cue(index, s) for index, s in enumerate(segments, start=1))
    if fmt == ".vtt":
        return _VTT_HEADER + "".join(_vtt_cue(s) for s in segments)
    if not segments:
        return "[]\n"
    return "[\n" + ",\n".join(_json_item(s) for s in segments) + _JSON_END


def _kept(segments: Sequence[TranscriptSegment]) -> list[TranscriptSegment]:
    return [segment for segment in segments if _clean(segment.text)]


def write_transcript(segments: Sequence[TranscriptSegment], path: str | os.PathLike[str]) -> Path:
    """Write a whole transcript; the format follows the suffix. Empty captions are skipped. The old file
    (if any) is replaced only once the new one is complete."""
    target = Path(path)
    content = _render(transcript_format(target), _kept(segments))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=target.parent, prefix=f".{target.name}.", delete=False
        ) as temporary:
            temporary.write(content)
            temporary.flush()
            os.fsync(temporary.fileno())
        os.replace(temporary.name, target)
    except OSError as error:
        raise AssistantError(f"Cannot save the transcript to {target}: {error.strerror or error}.") from None
    return target


class TranscriptWriter:
    """Appends final captions to a transcript file as they arrive; the file is durable after each `add()`.

    The file is created (replacing any old one) on the first `add()` or `open()`, not in the constructor.
    Use it as a context manager, or call `close()`; closing twice is harmless.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._format = transcript_format(self.path)
        self._stream: BinaryIO | None = None
        self._count = 0
        self._closed = False

    def __enter__(self) -> TranscriptWriter:
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def count(self) -> int:
        """How many captions are in the file so far."""
        return self._count

    def open(self) -> None:
        if self._stream is not None:
            return
        if self._closed:
            raise ValueError("this transcript is closed")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._stream = self.path.open("wb")
        except OSError as error:
            raise AssistantError(
                f"Cannot save the transcript to {self.path}: {error.strerror or error}. Pick another folder."
            ) from None
        header = {".vtt": _VTT_HEADER, ".json": "[]\n"}.get(self._format, "")
        self._write(header)

    def add(self, item: TranscriptSegment | CaptionEvent) -> None:
        """Append one final caption (a `TranscriptSegment` or a final `CaptionEvent`) and make it durable."""
        segment = segment_from_event(item) if isinstance(item, CaptionEvent) else item
        if not _clean(segment.text):
            return
        self.open()
        if self._format == ".txt":
            self._write(f"{_clean(segment.text)}\n")
        elif self._format == ".srt":
            self._write(_srt_cue(self._count + 1, segment))
        elif self._format == ".vtt":
            self._write(_vtt_cue(segment))
        else:
            # Overwrite the closing bracket so the file is a complete JSON array after every caption.
            opening, rewind = ("[\n", len("[]\n")) if self._count == 0 else (",\n", len(_JSON_END))
            self._write(opening + _json_item(segment) + _JSON_END, rewind=rewind)
        self._count += 1

    def close(self) -> None:
        """Finish the file. Everything is already on disk, so this only releases it."""
        self._closed = True
        if self._stream is not None:
            stream, self._stream = self._stream, None
            stream.close()

    def _write(self, text: str, rewind: int = 0) -> None:
        assert self._stream is not None
        try:
            if rewind:
                self._stream.seek(-rewind, os.SEEK_END)  # the rewound bytes are ASCII: count == length
            self._stream.write(text.encode("utf-8"))
            self._stream.flush()
            os.fsync(self._stream.fileno())
        except OSError as error:
            raise AssistantError(
                f"Cannot write the transcript {self.path}: {error.strerror or error}. Captions so far are "
                "saved; free some disk space or save to another folder."
            ) from None


class TranscriptRecorder:
    """Final captions, kept in memory and, once the user asks, appended to a file as they arrive.

    Fed from the caption thread; `start(path)` may run on another thread. The lock keeps the file in
    caption order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._finals: list[CaptionEvent] = []
        self._writer: TranscriptWriter | None = None

    @property
    def path(self) -> Path | None:
        with self._lock:
            return None if self._writer is None else self._writer.path

    def add(self, event: CaptionEvent) -> None:
        if event.kind != "final" or not event.text.strip():
            return
        with self._lock:
            self._finals.append(event)
            if self._writer is not None:
                self._writer.add(event)

    def start(self, path: str | os.PathLike[str]) -> Path:
        """Write everything so far to `path` and keep appending; returns the path."""
        writer = TranscriptWriter(path)
        with self._lock:
            writer.open()
            for event in self._finals:
                writer.add(event)
            if self._writer is not None:
                self._writer.close()
            self._writer = writer
        return writer.path

    def close(self) -> None:
        with self._lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
