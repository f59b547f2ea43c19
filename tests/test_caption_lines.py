"""The one caption line policy, shared by the window, the overlay and the terminal."""

from __future__ import annotations

from assistant.speech.caption_lines import MAX_LINE_CHARS, CaptionLines, ends_sentence
from assistant.speech.types import CaptionEvent


def final(text: str, start: float, end: float) -> CaptionEvent:
    return CaptionEvent("final", text, start, end, end)


def test_finals_join_into_sentences_and_a_pause_after_a_sentence_starts_a_new_line() -> None:
    lines = CaptionLines()
    for text, start, end in [
        ("And so, my fellow", 0.0, 1.2),
        ("Americans", 1.2, 1.8),
        (",", 1.8, 1.9),
        ("ask not.", 2.0, 2.6),
        ("What your country", 2.8, 3.5),  # a short breath: the same line
        ("can do for you.", 3.5, 4.5),
    ]:
        assert lines.apply(final(text, start, end)) == []
    assert lines.lines == ["And so, my fellow Americans, ask not. What your country can do for you."]

    closed = lines.apply(final("Ask what you can do.", 6.0, 7.0))  # after a pause: a new line
    assert closed == ["And so, my fellow Americans, ask not. What your country can do for you."]
    assert lines.lines[-1] == "Ask what you can do." and len(lines.lines) == 2


def test_no_line_starts_with_punctuation_even_after_a_pause_or_a_full_line() -> None:
    lines = CaptionLines()
    lines.apply(final("Lorem Ipsum is simply dummy text of the printing and typesetting industry.", 0.0, 4.0))
    lines.apply(final(", setting or printing", 6.0, 7.0))  # after a sentence and a pause
    assert len(lines.lines) == 1 and lines.lines[0].endswith("industry., setting or printing")
    long = CaptionLines()
    long.apply(final("word " * (MAX_LINE_CHARS // 5 + 1), 0.0, 5.0))
    long.apply(final("; and more", 5.0, 6.0))
    assert len(long.lines) == 1 and not any(line.startswith((",", ";", ".")) for line in long.lines)


def test_the_rest_of_a_word_joins_the_word_it_continues() -> None:
    # tiny.en continued a final that ended at "fat" with "-mutton pieces" (no leading space).
    lines = CaptionLines()
    lines.apply(final("and fat", 0.0, 1.0))
    lines.apply(final("-mutton pieces to be ladled out.", 1.0, 3.0))
    assert lines.lines == ["and fat-mutton pieces to be ladled out."]


def test_a_long_line_ends_at_the_next_final() -> None:
    lines = CaptionLines()
    lines.apply(final("x" * MAX_LINE_CHARS, 0.0, 5.0))
    assert lines.apply(final("then more", 5.0, 6.0)) == ["x" * MAX_LINE_CHARS]
    assert lines.lines[-1] == "then more"


def test_a_partial_replaces_the_partial_and_a_final_replaces_both() -> None:
    lines = CaptionLines()
    lines.apply(CaptionEvent("partial", "good mor", 0.0, 0.5, 0.5))
    lines.apply(CaptionEvent("partial", "good morning every", 0.0, 1.0, 1.0))
    assert lines.partial == "good morning every" and lines.lines == []
    lines.apply(final("Good morning, everyone.", 0.0, 1.2))
    assert lines.partial == "" and lines.lines == ["Good morning, everyone."]


def test_sentence_ends_include_closing_quotes_and_brackets() -> None:
    assert ends_sentence('He said "stop."') and ends_sentence("(really?)") and ends_sentence("well…")
    assert not ends_sentence("Mr") and not ends_sentence("and,")
