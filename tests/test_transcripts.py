"""Transcript files: each format round-trips through its own parser, and live saving survives a crash."""

from __future__ import annotations

import datetime
import html
import json
from pathlib import Path

import pytest
import srt
import webvtt

from assistant.errors import AssistantError
from assistant.speech.transcripts import (
    TranscriptSegment,
    TranscriptWriter,
    segment_from_event,
    write_transcript,
)
from assistant.speech.types import CaptionEvent

SEGMENTS = [
    TranscriptSegment(0.0, 2.5, "And so, my fellow Americans,"),
    TranscriptSegment(2.5, 5.04, "ask not what your country can do for you"),
    TranscriptSegment(3661.2, 3663.999, "R&D <costs> --> café"),
]


def read_srt(path: Path) -> list[srt.Subtitle]:
    return list(srt.parse(path.read_text(encoding="utf-8")))


def read_vtt(path: Path) -> list[tuple[str, str, str]]:
    return [(c.start, c.end, html.unescape(c.raw_text)) for c in webvtt.read(str(path)).captions]


def seconds(delta: datetime.timedelta) -> float:
    return delta.total_seconds()


@pytest.fixture(params=["whole", "live"])
def save(request: pytest.FixtureRequest) -> object:
    """Both ways of saving must produce the same file."""

    def whole(segments: list[TranscriptSegment], path: Path) -> None:
        write_transcript(segments, path)

    def live(segments: list[TranscriptSegment], path: Path) -> None:
        with TranscriptWriter(path) as writer:
            for segment in segments:
                writer.add(segment)

    return whole if request.param == "whole" else live


def test_srt_round_trips(tmp_path: Path, save: object) -> None:
    path = tmp_path / "talk.srt"
    assert callable(save)
    save(SEGMENTS, path)
    parsed = read_srt(path)
    assert [s.index for s in parsed] == [1, 2, 3]
    assert [(seconds(s.start), seconds(s.end)) for s in parsed] == [
        (0.0, 2.5),
        (2.5, 5.04),
        (3661.2, 3663.999),
    ]
    assert parsed[0].content == SEGMENTS[0].text
    assert parsed[2].content == "R&D <costs> -> café"  # "-->" would break the cue


def test_vtt_round_trips(tmp_path: Path, save: object) -> None:
    path = tmp_path / "talk.vtt"
    assert callable(save)
    save(SEGMENTS, path)
    assert path.read_text(encoding="utf-8").startswith("WEBVTT\n\n")
    cues = read_vtt(path)
    assert [(start, end) for start, end, _ in cues] == [
        ("00:00:00.000", "00:00:02.500"),
        ("00:00:02.500", "00:00:05.040"),
        ("01:01:01.200", "01:01:03.999"),
    ]
    assert cues[1][2] == SEGMENTS[1].text
    assert cues[2][2] == "R&D <costs> -> café"


def test_json_round_trips(tmp_path: Path, save: object) -> None:
    path = tmp_path / "talk.json"
    assert callable(save)
    save(SEGMENTS, path)
    items = json.loads(path.read_text(encoding="utf-8"))
    assert items == [{"start": s.start, "end": s.end, "text": s.text} for s in SEGMENTS]


def test_txt_has_one_caption_per_line(tmp_path: Path, save: object) -> None:
    path = tmp_path / "talk.txt"
    assert callable(save)
    save(SEGMENTS, path)
    assert path.read_text(encoding="utf-8").splitlines() == [
        "And so, my fellow Americans,",
        SEGMENTS[1].text,
        "R&D <costs> -> café",
    ]


def test_empty_transcripts_are_valid_files(tmp_path: Path) -> None:
    write_transcript([], tmp_path / "empty.json")
    assert json.loads((tmp_path / "empty.json").read_text()) == []
    write_transcript([TranscriptSegment(0, 1, "   ")], tmp_path / "blank.vtt")
    assert read_vtt(tmp_path / "blank.vtt") == []


def test_unknown_suffix_lists_the_supported_formats(tmp_path: Path) -> None:
    with pytest.raises(AssistantError, match=r"\.txt, \.srt, \.vtt, \.json"):
        write_transcript(SEGMENTS, tmp_path / "talk.docx")
    with pytest.raises(AssistantError, match="no suffix"):
        TranscriptWriter(tmp_path / "talk")


def test_unwritable_folder_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(AssistantError, match="Cannot save the transcript"):
        write_transcript(SEGMENTS, blocker / "talk.srt")


@pytest.mark.parametrize("suffix", [".srt", ".vtt", ".json", ".txt"])
def test_each_caption_is_on_disk_before_close(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"live{suffix}"
    writer = TranscriptWriter(path)
    assert not path.exists()  # the constructor touches nothing
    writer.add(SEGMENTS[0])
    writer.add(SEGMENTS[1])
    # Read through a separate handle, as after a crash: the writer is still open and never closed.
    if suffix == ".srt":
        assert [s.content for s in read_srt(path)] == [SEGMENTS[0].text, SEGMENTS[1].text]
    elif suffix == ".vtt":
        assert [text for _, _, text in read_vtt(path)] == [SEGMENTS[0].text, SEGMENTS[1].text]
    elif suffix == ".json":
        assert [item["text"] for item in json.loads(path.read_text(encoding="utf-8"))] == [
            SEGMENTS[0].text,
            SEGMENTS[1].text,
        ]
    else:
        assert path.read_text(encoding="utf-8").splitlines() == [SEGMENTS[0].text, SEGMENTS[1].text]
    writer.close()
    writer.close()  # harmless


def test_final_caption_events_are_saved_and_partials_refused(tmp_path: Path) -> None:
    final = CaptionEvent(kind="final", text="hello there", start=1.0, end=2.0, t_emit=2.3)
    partial = CaptionEvent(kind="partial", text="hello th", start=1.0, end=1.8, t_emit=1.9)
    assert segment_from_event(final) == TranscriptSegment(1.0, 2.0, "hello there")
    with pytest.raises(ValueError, match="only final captions"):
        segment_from_event(partial)
    path = tmp_path / "events.srt"
    with TranscriptWriter(path) as writer:
        writer.add(final)
        assert writer.count == 1
    assert [s.content for s in read_srt(path)] == ["hello there"]
