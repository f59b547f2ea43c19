"""The commit policy's pure parts: local agreement, dropping text Whisper makes up after speech, and the
unsure words of a caption."""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from assistant.speech.engines import Transcription
from assistant.speech.streaming import (
    StreamingSettings,
    StreamingTranscriber,
    _Utterance,
    _whole_words,
    _without_hallucinated_tail,
    caption_text,
)
from assistant.speech.types import Word


def words(text: str, start: float = 0.0, seconds_per_word: float = 0.3) -> list[Word]:
    return [
        Word(" " + w, start + i * seconds_per_word, start + (i + 1) * seconds_per_word)
        for i, w in enumerate(text.split())
    ]


def test_words_two_decodes_agree_on_are_committed_up_to_the_first_difference() -> None:
    previous = words("ask not what your country")
    current = words("Ask not, what you can do")
    agreed = StreamingTranscriber._agreement(previous, current)
    assert [w.text for w in agreed] == [" Ask", " not,", " what"]


def test_a_commit_never_ends_inside_a_word() -> None:
    # tiny.en's words for "an ill-disposed young man": "-sposed" has no leading space, so it is the rest
    # of "ill". Committing up to "ill" showed the next final as "-sposed young man", after a space.
    decoded = words("he was not an ill") + [Word("-sposed", 1.5, 1.9)] + words("young man", start=1.9)
    assert _whole_words(decoded, 5) == 4  # "he was not an", and "ill-sposed" waits whole
    assert _whole_words(decoded, 6) == 6  # up to "young": ends between two words
    # A punctuation mark joins the word before it on screen anyway: a commit may end before it.
    with_comma = words("stew for dinner") + [Word(",", 0.9, 0.9)] + words("turnips", start=0.9)
    assert _whole_words(with_comma, 3) == 3
    # Nothing to keep is nothing: the commit waits.
    assert _whole_words([Word(" 42", 0.0, 0.3), Word("-line", 0.3, 0.6)], 1) == 0


def test_words_squeezed_into_no_audio_after_the_speech_are_dropped() -> None:
    real = words("and so my fellow americans")
    invented = words("and so my fellow americans", start=1.5, seconds_per_word=0.01)
    assert _without_hallucinated_tail(real + invented, []) == real


def test_a_loop_of_one_word_in_the_last_fifth_of_a_second_is_dropped() -> None:
    # What tiny.en gave for the 0.19 s left of a long read after its last sentence was committed: one of
    # the five words lasts 0.08 s, so it is not each word that is too short, but the run as a whole.
    timings = [(0.0, 0.02), (0.02, 0.04), (0.04, 0.06), (0.06, 0.14), (0.14, 0.16)]
    loop = [Word(" and", start, end, 0.2) for start, end in timings]
    assert _without_hallucinated_tail(loop, words("on the screen")) == []
    # Three quick real words are more than 0.06 s each.
    assert _without_hallucinated_tail(words("it is so", seconds_per_word=0.12), []) != []


def test_unsure_words_in_the_scrap_of_audio_after_the_committed_words_are_noise() -> None:
    transcriber = StreamingTranscriber(cast(Any, None), cast(Any, None))
    # An utterance cut at its last committed sentence end: 0.29 s of audio are left, and tiny.en heard
    # "here." in them, its word at probability 0.02, its full stop at 0.61.
    scrap = _Utterance(start=14.2, audio=np.zeros(4640, np.float32), decoded_until=14.49, window_start=14.2)
    here = Transcription((Word(" here", 0.0, 0.18, 0.02), Word(".", 0.18, 0.26, 0.61)), "here.")
    assert transcriber._is_noise(here, scrap)
    # A word the model is sure of there is kept, and so are unsure words with more audio to them.
    yes = Transcription((Word(" yes", 0.0, 0.18, 0.93),), "yes")
    assert not transcriber._is_noise(yes, scrap)
    longer = _Utterance(start=14.2, audio=np.zeros(16000, np.float32), decoded_until=15.2, window_start=14.2)
    assert not transcriber._is_noise(here, longer)
    # After committed words, a short last word the model is unsure of is real.
    continued = _Utterance(
        start=12.0, audio=np.zeros(40000, np.float32), decoded_until=14.49, window_start=12.0,
        committed=words("counselled", start=12.0, seconds_per_word=2.2),
    )
    him = Transcription((Word(" him", 2.2, 2.4, 0.3),), "him")
    assert not transcriber._is_noise(him, continued)


def test_a_repeat_of_what_was_just_committed_is_dropped() -> None:
    committed = words("ask what you can do for your country")
    repeat = words("ask what you can do for your country", start=2.4)
    assert _without_hallucinated_tail(repeat, committed) == []


def test_ordinary_speech_and_short_repetitions_are_kept() -> None:
    speech = words("no no no I said the blue one not the red one")
    assert _without_hallucinated_tail(speech, words("which one")) == speech


def test_caption_text_spans_the_words_under_the_probability_floor() -> None:
    heard = [
        Word(" Take", 0.0, 0.3, 0.97),
        Word(" two", 0.3, 0.6, 0.31),
        Word(" tablets", 0.6, 1.0, 0.88),
        Word(".", 1.0, 1.0, 0.12),  # a lone full stop is not worth underlining
    ]
    text, unsure = caption_text(heard, unsure_below=0.5)
    assert text == "Take two tablets."
    assert [text[a:b] for a, b in unsure] == ["two"]
    assert caption_text(heard, unsure_below=0.0) == ("Take two tablets.", ())


def test_finals_never_overlap_and_audio_already_captioned_is_not_captioned_again() -> None:
    transcriber = StreamingTranscriber(cast(Any, None), cast(Any, None))  # commits need no model
    utterance = _Utterance(start=0.0, audio=np.zeros(0, np.float32))
    [first] = transcriber._commit(utterance, words("ask not what"))  # 0.0 - 0.9 s
    # Whisper timed the next word 0.02 s into the last one: the final starts where the last ended.
    [second] = transcriber._commit(utterance, words("your country", start=0.88))
    assert second.start == first.end and second.text == "your country"
    # The same audio made final again (heard twice) shows nothing.
    assert transcriber._commit(utterance, words("your country", start=0.88)) == []
    assert [w.text for w in utterance.committed][-2:] == [" your", " country"]  # the model's state is kept


def test_a_new_word_timed_inside_the_last_final_is_kept_not_taken_for_a_repeat() -> None:
    transcriber = StreamingTranscriber(cast(Any, None), cast(Any, None))
    utterance = _Utterance(start=0.0, audio=np.zeros(0, np.float32))
    [first] = transcriber._commit(utterance, words("ask not what"))  # 0.0 - 0.9 s
    # Whisper squeezed a short word into time already captioned; it was never said, so it is shown.
    [second] = transcriber._commit(utterance, words("a country", start=0.5))
    assert second.text == "a country" and second.start == first.end


def test_a_forced_decode_covers_a_short_window_and_earlier_committed_words_become_its_prompt() -> None:
    settings = StreamingSettings(decode_window=4.0, committed_context=3.0)
    transcriber = StreamingTranscriber(cast(Any, None), cast(Any, None), settings)
    said = words("one two three four five six seven eight nine ten eleven twelve", seconds_per_word=0.8)
    # 9.6 s of committed speech, the decode reaching 1 s past it.
    outside = transcriber._committed_outside_window(said, until=10.6)
    kept = said[outside:]
    # The window holds the newest committed words: as far back as `decode_window` from its end, or
    # `committed_context` of committed speech, whichever reaches further back.
    assert kept[0].start >= 10.6 - max(settings.decode_window, 1.0 + settings.committed_context) - 0.8
    assert said[outside - 1].start < 10.6 - max(settings.decode_window, 1.0 + settings.committed_context)
    # With nothing committed, or nothing older than the window, the whole utterance is decoded.
    assert transcriber._committed_outside_window([], until=10.6) == 0
    assert transcriber._committed_outside_window(said[-2:], until=10.6) == 0
    # However long the speech after them, `committed_context` of committed speech stays in the window,
    # and at least the last word, so the model continues a forced word.
    far = transcriber._committed_outside_window(said, until=60.0)
    assert far < len(said) and said[far].start >= said[-1].end - settings.committed_context - 0.8
