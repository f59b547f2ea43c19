"""Saving captions as a transcript file: plain text, SubRip (.srt), WebVTT (.vtt) or JSON.

The format follows the file's suffix. `write_transcript()` writes a finished list at once (atomically, via
a temporary file). `TranscriptWriter` saves a live captions session as it goes: each final caption is
appended, flushed and fsynced before `add()` returns, so a crash loses nothing already finalised. For
JSON the file stays a valid array after every `add()`: the closing bracket is written each time and
overwritten by the next caption, so no repair step is needed on close.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
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
    temporary_name = ""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=target.parent, prefix=f".{target.name}.", delete=False
        ) as temporary:
            temporary_name = temporary.name
            temporary.write(content)
            temporary.flush()
            os.fsync(temporary.fileno())
        os.replace(temporary.name, target)
    except OSError as error:
        if temporary_name:
            with contextlib.suppress(OSError):
                os.unlink(temporary_name)  # no half-written file left behind on a full disk
        raise AssistantError(f"Cannot save the transcript to {target}: {error.strerror or error}.") from None
    return target


def check_writable(path: str | os.PathLike[str]) -> None:
    """Raise `AssistantError` now if a transcript could not be written to `path` later (a folder that is
    missing or read-only, a bad suffix), before any slow work is done for it."""
    target = Path(path)
    if target.is_dir():
        raise AssistantError(f"Cannot save the transcript to {target}: it is a folder. Give a file name.")
    transcript_format(target)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise AssistantError(f"Cannot save the transcript to {target}: the folder {folder} does not exist.")
    if not os.access(folder, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise AssistantError(
            f"Cannot save the transcript to {target}: permission denied. Choose a folder you can write to."
        )


class TranscriptWriter:
    """Appends final captions to a transcript file as they arrive; the file is durable after each `add()`.

    - It never destroys a file: an existing transcript is continued (numbering, header and JSON array
      kept); `appended` says how many captions were already there.
    - It fails soft: when a write fails (a full disk, a size limit, a vanished drive) the file is put
      back as it was before that caption, `on_problem` is told once, captions wait in memory, and each
      later `add()` (or `retry()`) tries again; once writing works, the waiting captions go in first and
      `on_problem` hears that saving works again.
    The file is opened on the first `add()` or `open()`, not in the constructor; closing twice is harmless.
    """

    def __init__(self, path: str | os.PathLike[str], on_problem: Callable[[str], None] | None = None) -> None:
        self.path = Path(path)
        self._format = transcript_format(self.path)
        self._on_problem = on_problem
        self._stream: BinaryIO | None = None
        self._count = 0
        self.appended = 0
        """Captions the file already held when this writer opened it."""
        self._waiting: list[TranscriptSegment] = []
        self.problem = ""
        """What went wrong with the last write, while captions wait in memory; "" when all is saved."""
        self._closed = False

    def __enter__(self) -> TranscriptWriter:
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def count(self) -> int:
        """How many captions of this session are in the file so far."""
        return self._count

    @property
    def waiting(self) -> int:
        """Captions not yet saved because writing failed."""
        return len(self._waiting)

    def open(self) -> None:
        """Open the file, continuing one that exists; `AssistantError` when it cannot be opened at all."""
        if self._stream is not None:
            return
        if self._closed:
            raise ValueError("this transcript is closed")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            existing = self.path.stat().st_size if self.path.exists() else 0
            if existing and self._format == ".json":
                _check_json_ends_as_ours(self.path)
            # Unbuffered: a write that fails leaves no bytes waiting in a buffer to spill out later.
            self._stream = self.path.open("r+b" if existing else "w+b", buffering=0)
            self._stream.seek(0, os.SEEK_END)
        except OSError as error:
            raise AssistantError(
                f"Cannot save the transcript to {self.path}: {error.strerror or error}. Pick another folder."
            ) from None
        if existing:
            self.appended = _count_captions(self.path, self._format)
            if self._format == ".txt":
                self._write_or_undo("\n")  # a blank line between the earlier session and this one
        else:
            self._write_or_undo({".vtt": _VTT_HEADER, ".json": "[]\n"}.get(self._format, ""))

    def add(self, item: TranscriptSegment | CaptionEvent) -> None:
        """Append one final caption (a `TranscriptSegment` or a final `CaptionEvent`) and make it durable,
        or keep it waiting in memory when writing fails (see the class docstring)."""
        segment = segment_from_event(item) if isinstance(item, CaptionEvent) else item
        if not _clean(segment.text):
            return
        self.open()
        self._waiting.append(segment)
        self.retry()

    def retry(self) -> bool:
        """Write the captions that are waiting; True when nothing is left waiting."""
        while self._waiting:
            try:
                self._write_segment(self._waiting[0])
            except OSError as error:
                if not self.problem:
                    self.problem = (
                        f"Cannot write the transcript {self.path}: {error.strerror or error}. Captions go on "
                        "and wait in memory; free some disk space, or save to another place."
                    )
                    if self._on_problem is not None:
                        self._on_problem(self.problem)
                return False
            self._waiting.pop(0)
            self._count += 1
        if self.problem:
            self.problem = ""
            if self._on_problem is not None:
                self._on_problem(f"the transcript {self.path} is saving again; nothing was lost")
        return True

    def _write_segment(self, segment: TranscriptSegment) -> None:
        index = self.appended + self._count
        if self._format == ".txt":
            self._write_or_undo(f"{_clean(segment.text)}\n")
        elif self._format == ".srt":
            self._write_or_undo(_srt_cue(index + 1, segment))
        elif self._format == ".vtt":
            self._write_or_undo(_vtt_cue(segment))
        else:
            # Overwrite the closing bracket so the file is a complete JSON array after every caption.
            opening, rewind = ("[\n", len("[]\n")) if index == 0 else (",\n", len(_JSON_END))
            self._write_or_undo(opening + _json_item(segment) + _JSON_END, rewind=rewind)

    def close(self) -> None:
        """Finish the file. Everything that could be written is on disk, so this only releases it."""
        self._closed = True
        if self._stream is not None:
            stream, self._stream = self._stream, None
            try:
                stream.close()
            except OSError:
                pass  # every byte was flushed and fsynced already; nothing more to lose here

    def _write_or_undo(self, text: str, rewind: int = 0) -> None:
        """Write `text` at the end (after taking back `rewind` bytes), durably, or put the file back as it
        was and raise the OSError."""
        assert self._stream is not None
        end = self._stream.seek(0, os.SEEK_END)
        taken_back = b""
        try:
            if rewind:
                self._stream.seek(end - rewind)
                taken_back = self._stream.read(rewind)
                self._stream.seek(end - rewind)
            _write_all(self._stream, text.encode("utf-8"))
            os.fsync(self._stream.fileno())
        except OSError:
            # Put the file back as it was: cut what got in, and restore what was taken back (it was
            # there a moment ago, so it fits again).
            self._stream.seek(end - rewind)
            self._stream.truncate()
            _write_all(self._stream, taken_back)
            raise


def _write_all(stream: BinaryIO, data: bytes) -> None:
    """An unbuffered write may take only part of the bytes (a size limit reached mid-way): go on until
    all are written or the OS refuses with an error."""
    view = memoryview(data)
    while view:
        written = stream.write(view)
        view = view[written or 0 :]


def _check_json_ends_as_ours(path: Path) -> None:
    with path.open("rb") as stream:
        stream.seek(max(0, path.stat().st_size - len(_JSON_END)))
        tail = stream.read().decode("utf-8", "replace")
    if not (tail.endswith(_JSON_END) or tail.endswith("[]\n")):
        raise AssistantError(
            f"{path} is a JSON file this app did not write, so captions cannot be added to it without "
            "breaking it. Choose another file name."
        )


def _count_captions(path: Path, fmt: str) -> int:
    """Captions already in an existing transcript (for numbering, and to tell the user)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if fmt == ".txt":
        return sum(1 for line in text.splitlines() if line.strip())
    if fmt == ".json":
        try:
            return len(json.loads(text))
        except ValueError:
            return 0
    if fmt == ".srt":
        try:
            return len(list(srt.parse(text)))
        except srt.SRTParseError:
            return text.count(" --> ")
    return text.count(" --> ")


class TranscriptRecorder:
    """Final captions, kept in memory and, once the user asks, appended to a file as they arrive.

    Fed from the caption thread; `start(path)` may run on another thread. The lock keeps the file in
    caption order. A file that cannot be written fails soft (`TranscriptWriter`): `on_problem` hears it
    once, from the thread that found it, and again when saving works once more."""

    def __init__(self, on_problem: Callable[[str], None] | None = None) -> None:
        self._on_problem = on_problem
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
        writer = TranscriptWriter(path, self._on_problem)
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
