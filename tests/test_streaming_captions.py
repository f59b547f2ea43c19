"""The streaming transcriber with the real tiny.en model: partial then final captions, quick
finalisation at a pause, no text from silence or noise, bounded work when it falls behind.

The speech is espeak-ng's, and CTranslate2 picks different kernels on different CPUs (Intel, AMD EPYC),
so tiny.en does not hear exactly the same words everywhere: tests check behaviour, and the words only
through a word error rate with a margin (measured here: 7.5 % on the three sentences).
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import jiwer
import numpy as np
import pytest

from assistant.audio.source import SAMPLE_RATE
from assistant.audio.sources import load_audio_file
from assistant.speech.engines import SpeechRecognizer, Transcription, load_recognizer
from assistant.speech.evaluation import SpeechClip, Stream, build_stream, normalise_text, word_error_rate
from assistant.speech.live import build_transcriber
from assistant.speech.streaming import StreamingSettings, StreamingTranscriber
from assistant.speech.types import CaptionEvent, Word
from tests.helpers.data import SPEECH_DIR
from tests.helpers.speech import caption_wer, espeak_wav, feed, final_text, silence

SENTENCES = (
    "The library opens at nine in the morning and closes at six in the evening.",
    "Please remember to bring your passport and two photographs to the appointment.",
    "The next train to the airport leaves from platform four in ten minutes.",
)
MAX_WER = 0.25  # final captions against the sentences; measured 7.5 % (one sentence at 20 %)


@pytest.fixture(scope="module")
def recognizer() -> SpeechRecognizer:
    return load_recognizer("faster-whisper", "tiny.en")


@pytest.fixture
def transcriber(recognizer: SpeechRecognizer) -> StreamingTranscriber:
    return build_transcriber(recognizer)


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Stream:
    """The three sentences, 1 s of silence before, between and after them."""
    folder = tmp_path_factory.mktemp("speech")
    clips = []
    for number, text in enumerate(SENTENCES):
        path = espeak_wav(text, folder / f"sentence{number}.wav")
        clips.append(SpeechClip(path, text, load_audio_file(path)))
    return build_stream(clips, gap_seconds=1.0)


def shown_partial(events: list[CaptionEvent]) -> str:
    """The partial text a screen shows after `events`: a partial replaces the partial before it, and a
    final replaces the partial that covered its words."""
    shown = ""
    for event in events:
        shown = event.text if event.kind == "partial" else ""
    return shown


def test_partial_caption_comes_first_and_is_replaced_by_final_text(
    transcriber: StreamingTranscriber, speech: Stream
) -> None:
    events = feed(transcriber, speech.audio) + transcriber.finish()
    for number, (start, end) in enumerate(speech.spans):
        # Each sentence shows up first as partial text, and its words are then made final.
        heard = [e for e in events if e.text and start - 0.5 <= e.start < end + 0.5]
        assert heard and heard[0].kind == "partial", (number, heard[:3])
        assert any(e.kind == "final" for e in heard), (number, heard)
    assert shown_partial(events) == ""  # nothing is left in partial text once the speech is over
    assert caption_wer(speech, events) <= MAX_WER, final_text(events)
    # final captions carry audio times inside the sentences they caption, in order
    finals = [e for e in events if e.kind == "final" and e.text]
    assert all(any(s - 0.35 <= e.start <= e.end <= end + 0.5 for s, end in speech.spans) for e in finals)
    assert [e.start for e in finals] == sorted(e.start for e in finals)


def test_utterance_is_final_soon_after_the_speaker_stops(
    transcriber: StreamingTranscriber, speech: Stream
) -> None:
    # Without calling finish(): 0.8 s of silence after the last words must be enough to commit them all.
    audio = speech.audio[: int((speech.spans[-1][1] + 0.8) * SAMPLE_RATE)]
    events = feed(transcriber, audio)
    assert shown_partial(events) == ""
    assert caption_wer(speech, events) <= MAX_WER, final_text(events)
    assert final_text(transcriber.finish()) == ""  # finishing the stream has nothing left to commit


def test_silence_gives_no_captions_and_no_decoding(transcriber: StreamingTranscriber) -> None:
    events = feed(transcriber, silence(20.0)) + transcriber.finish()
    assert events == []
    assert transcriber.decodes == 0


@pytest.mark.parametrize("colour", ["white", "brown"])
def test_noise_gives_no_captions(transcriber: StreamingTranscriber, colour: str) -> None:
    rng = np.random.default_rng(7)
    noise = rng.standard_normal(16000 * 15).astype(np.float32)
    if colour == "brown":
        noise = np.cumsum(noise).astype(np.float32)
        noise -= np.convolve(noise, np.ones(400) / 400, mode="same").astype(np.float32)
    noise *= 0.05 / float(np.sqrt(np.mean(noise**2)))  # loud enough to hear, about -26 dBFS
    events = feed(transcriber, noise) + transcriber.finish()
    assert final_text(events) == ""


def test_falling_behind_skips_interim_decodes_but_keeps_every_word(
    recognizer: SpeechRecognizer, speech: Stream
) -> None:
    # Audio handed over 3 s at a time: what piles up in the source while a slow recogniser decodes.
    transcriber = build_transcriber(recognizer)
    events, lags = [], []
    for offset in range(0, len(speech.audio), 3 * SAMPLE_RATE):
        for piece in range(offset, min(offset + 3 * SAMPLE_RATE, len(speech.audio)), 1600):
            transcriber.insert_audio(speech.audio[piece : piece + 1600])
        events += transcriber.process()
        lags.append(transcriber.lag_seconds)
    assert transcriber.skipped_partials > 0
    assert max(lags) == pytest.approx(3.0)
    assert not [e for e in events if e.kind == "partial" and e.text]
    assert caption_wer(speech, events) <= MAX_WER, final_text(events)


def test_an_utterance_that_begins_in_a_backlog_after_another_ends_there_keeps_its_start(
    recognizer: SpeechRecognizer, speech: Stream
) -> None:
    # The sentences with 0.6 s pauses, handed over 4 s at a time: one sentence ends and the next begins
    # inside one backlog. Only its last 1.3 s were once kept for the next one, and "ask not" became
    # "Lock!" in the caption bench when the machine was loaded.
    pause = silence(0.6)
    sentences = [
        speech.audio[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)] for start, end in speech.spans
    ]
    audio = np.concatenate([pause, *(part for sentence in sentences for part in (sentence, pause))])
    transcriber = build_transcriber(recognizer)
    clipped = []
    for offset in range(0, len(audio), 4 * SAMPLE_RATE):
        for piece in range(offset, min(offset + 4 * SAMPLE_RATE, len(audio)), 1600):
            transcriber.insert_audio(audio[piece : piece + 1600])
        transcriber.process()
        utterance = transcriber._utterance
        if utterance is not None and utterance.start > utterance.speech_onset:
            clipped.append(utterance.speech_onset)  # its audio begins after its speech did
    assert clipped == []


def test_an_audio_outage_is_not_lag_and_partials_come_back_after_it(
    recognizer: SpeechRecognizer, speech: Stream
) -> None:
    # Real time on a clock we move: 0.1 s of audio per 0.1 s, then 8 s with no audio at all (a sound
    # server restarted, a microphone unplugged), then the speech again at real time.
    now = [0.0]
    transcriber = StreamingTranscriber(recognizer, build_transcriber(recognizer)._vad, clock=lambda: now[0])

    def at_real_time(audio: np.ndarray) -> list[CaptionEvent]:
        events = []
        for offset in range(0, len(audio), 1600):
            transcriber.insert_audio(audio[offset : offset + 1600])
            now[0] += 0.1
            events += transcriber.process()
        return events

    at_real_time(silence(1.0))
    now[0] += 8.0  # the outage
    transcriber.resume()
    events = at_real_time(speech.audio)
    assert transcriber.lag_seconds < 0.5
    assert transcriber.skipped_partials == 0
    assert [e for e in events if e.kind == "partial" and e.text]  # interim captions are still on
    assert caption_wer(speech, events + transcriber.finish()) <= MAX_WER


def test_long_speech_without_pauses_keeps_the_window_bounded(
    recognizer: SpeechRecognizer, tmp_path: Path
) -> None:
    # No sentence said twice: the transcriber drops a run of words that repeats the words just before
    # it (Whisper's loops), so a repeated sentence would be lost by design.
    text = (
        "Reading aloud without stopping is a good test of a streaming captioner because it never pauses, "
        "so the window has to move on while the speaker keeps going, and every word that was heard "
        "must still appear once in the final text that the reader sees on the screen"
    )
    audio = load_audio_file(espeak_wav(text, tmp_path / "long.wav"))
    # Decodes every `decode_interval` whatever they cost: tiny.en's decodes here cost about the CPU
    # budget's limit, so a busy machine stretched the interval and moved which words were misheard.
    transcriber = build_transcriber(recognizer, StreamingSettings(cpu_budget=math.inf))
    events = feed(transcriber, audio)
    assert len(audio) / SAMPLE_RATE > 12
    # finals keep coming while the speech goes on, rather than all at the end
    assert len([e for e in events if e.kind == "final"]) >= 3
    events += transcriber.finish()
    # Nothing is lost or repeated where the window moves on: at most a word or two missing or extra.
    heard = final_text(events)
    said = jiwer.process_words(normalise_text(text), normalise_text(heard))
    assert said.deletions + said.insertions <= 2, heard
    # Words misheard: with no pause, tiny.en mishears more words near a window's end ("in a good test",
    # "keep going") than in the whole recording decoded at once. Measured with decodes 0.5-1.25 s
    # apart: 6-14 % streamed (a word lost in two of five schedules, none extra; 12 % at 0.5 s), 4 % whole.
    whole = word_error_rate([text], [" ".join(s.text for s in recognizer.transcribe_long(audio))])
    assert word_error_rate([text], [heard]) <= min(MAX_WER, whole + 0.15), (whole, heard)


class _Wrapped:
    """The real recognizer, with `transcribe_window` changed or watched by a subclass."""

    def __init__(self, recognizer: SpeechRecognizer) -> None:
        self._recognizer = recognizer

    def __getattr__(self, name: str) -> object:
        return getattr(self._recognizer, name)


class LoopsWhenForced(_Wrapped):
    """The real recognizer, except that a decode forced to continue a prefix goes off the rails the way
    tiny.en sometimes does (seen after a prefix ending in "and"): a fault the real model shows only now
    and then, so it is injected here."""

    def __init__(self, recognizer: SpeechRecognizer) -> None:
        super().__init__(recognizer)
        self.loops = 0

    def transcribe_window(
        self, audio: np.ndarray, prompt: str = "", prefix: str = "", beam_size: int | None = None
    ) -> Transcription:
        if not prefix:
            return self._recognizer.transcribe_window(
                audio, prompt=prompt, prefix=prefix, beam_size=beam_size
            )
        self.loops += 1
        loop = ", and a bit of a bit of a bit of a bit of a good taste."
        seconds = len(audio) / 16000
        pieces = loop.split()
        step = seconds / len(pieces)
        words = tuple(Word(" " + w, i * step, (i + 1) * step, 0.2) for i, w in enumerate(pieces))
        return Transcription(words, loop, no_speech_prob=0.0, avg_logprob=-1.7)


def test_a_continuation_that_goes_off_the_rails_does_not_lose_the_rest_of_the_utterance(
    recognizer: SpeechRecognizer, speech: Stream
) -> None:
    looping = LoopsWhenForced(recognizer)
    transcriber = build_transcriber(looping)  # type: ignore[arg-type]
    events = feed(transcriber, speech.audio) + transcriber.finish()
    assert looping.loops > 0  # words were committed early, so later decodes were forced to continue them
    assert "bit of" not in normalise_text(final_text(events))
    # The words committed before the fault stay; every word after them is still heard.
    assert caption_wer(speech, events) <= MAX_WER, final_text(events)


class UnsureOf(_Wrapped):
    """The real recognizer, except that it reports one word with a low probability: which words tiny.en
    is unsure of depends on the CPU's kernels, so the doubt is injected to make the policy testable."""

    def __init__(self, recognizer: SpeechRecognizer, word: str) -> None:
        super().__init__(recognizer)
        self._word = word

    def transcribe_window(
        self, audio: np.ndarray, prompt: str = "", prefix: str = "", beam_size: int | None = None
    ) -> Transcription:
        result = self._recognizer.transcribe_window(audio, prompt=prompt, prefix=prefix, beam_size=beam_size)
        words = tuple(
            dataclasses.replace(w, probability=0.2) if normalise_text(w.text) == self._word else w
            for w in result.words
        )
        return dataclasses.replace(result, words=words)


def feed_noting_position(
    transcriber: StreamingTranscriber, audio: np.ndarray
) -> list[tuple[float, CaptionEvent]]:
    """`feed`, with the stream position (seconds of audio fed) at which each event came."""
    events = []
    for offset in range(0, len(audio), 1600):
        transcriber.insert_audio(audio[offset : offset + 1600])
        events += [(transcriber.stream_seconds, e) for e in transcriber.process()]
    return events


def test_an_unsure_word_stays_partial_until_the_pause_and_is_marked_unsure(
    recognizer: SpeechRecognizer, speech: Stream
) -> None:
    settings = StreamingSettings(unsure_wait=30.0)  # the pause, not the time since the word, settles it
    transcriber = build_transcriber(UnsureOf(recognizer, "library"), settings)  # type: ignore[arg-type]
    events = feed_noting_position(transcriber, speech.audio)
    first_end = speech.spans[0][1]
    finals = [(at, e) for at, e in events if e.kind == "final" and "library" in e.text.lower()]
    assert finals, [e.text for _, e in events]
    at, final = finals[0]
    assert at >= first_end  # committed only once the speaker paused after the sentence
    assert "library" in [final.text[a:b].lower() for a, b in final.unsure]  # (and what tiny.en doubted)
    # words before it could agree earlier, and everything is still heard
    assert caption_wer(speech, [e for _, e in events]) <= MAX_WER


class Beams(_Wrapped):
    """A recognizer (the real one, or a wrapper of it), noting the beams and window of every decode."""

    def __init__(self, recognizer: object) -> None:
        super().__init__(recognizer)  # type: ignore[arg-type]
        self.decodes: list[tuple[int, int]] = []  # (beams, samples)

    def transcribe_window(
        self, audio: np.ndarray, prompt: str = "", prefix: str = "", beam_size: int | None = None
    ) -> Transcription:
        self.decodes.append((beam_size or 1, len(audio)))
        return self._recognizer.transcribe_window(audio, prompt=prompt, prefix=prefix, beam_size=beam_size)


def test_a_decode_at_the_pause_unsure_of_a_word_is_made_again_with_a_beam_search(
    recognizer: SpeechRecognizer, speech: Stream
) -> None:
    settings = StreamingSettings(unsure_wait=30.0)  # "library" stays open until the pause
    beams = Beams(UnsureOf(recognizer, "library"))
    transcriber = build_transcriber(beams, settings)  # type: ignore[arg-type]
    first_end = speech.spans[0][1]
    events = feed(transcriber, speech.audio[: int((first_end + 1.0) * SAMPLE_RATE)]) + transcriber.finish()
    # The greedy decode at the pause was unsure of "library", so the same window was decoded again
    # with `unsure_beam_size` beams; interim decodes stay greedy.
    retried = [i for i, (b, _) in enumerate(beams.decodes) if b == settings.unsure_beam_size]
    assert retried, beams.decodes
    assert any(beams.decodes[i - 1] == (settings.final_beam_size, beams.decodes[i][1]) for i in retried)
    assert "library" in final_text(events).lower()


def test_decodes_of_under_a_second_of_speech_do_not_commit_words(
    transcriber: StreamingTranscriber, speech: Stream
) -> None:
    # Decodes at 0.5 s and 1.1 s of speech would agree on a word the model heard with little context
    # ("The library opens," then forced to continue as "I did the morning"); the first words can be
    # agreed on no sooner than the decode after the first one of at least a second.
    events = feed_noting_position(transcriber, speech.audio)
    for start, end in speech.spans:
        firsts = [at for at, e in events if e.kind == "final" and e.text and start - 0.3 <= e.start < end]
        assert firsts and firsts[0] >= start + 1.5, (start, firsts[:1])


PAUSE_SETTINGS = StreamingSettings(pause_decode_after=0.15, partial_silence_limit=0.1)


def spoken(speech: Stream, index: int) -> np.ndarray:
    """Sentence `index` of the stream without espeak's own silence around it (about 0.4 s at the end)."""
    start, end = speech.spans[index]
    clip = speech.audio[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]
    loud = np.flatnonzero(np.abs(clip) > 0.02)
    return clip[loud[0] : loud[-1] + 1]


def test_the_pause_is_decoded_while_the_vad_waits_and_final_the_moment_it_ends_the_utterance(
    recognizer: SpeechRecognizer, speech: Stream
) -> None:
    transcriber = build_transcriber(recognizer, PAUSE_SETTINGS)
    # 0.3 s of silence after the last word: the VAD (0.45 s) has not ended the utterance, but the
    # decode that ends it has been made; the silence that ends it then commits the words with no decode.
    sentence = spoken(speech, 0)
    events = feed(transcriber, np.concatenate([silence(1.0), sentence, silence(0.3)]))
    assert transcriber._vad.in_speech  # (the premise: the VAD is still waiting for its 0.45 s)
    decodes = transcriber.decodes
    later = feed(transcriber, silence(0.4))
    assert transcriber.decodes == decodes and final_text(later)  # final at the VAD's end, not decoded then
    assert shown_partial(events + later) == ""
    one = Stream(sentence, ((1.0, 1.0 + len(sentence) / SAMPLE_RATE),), (SENTENCES[0],))
    assert caption_wer(one, events + later) <= MAX_WER, final_text(events + later)


def test_speech_that_resumes_after_a_short_pause_drops_the_decode_made_at_the_pause(
    recognizer: SpeechRecognizer, speech: Stream
) -> None:
    beams = Beams(recognizer)
    transcriber = build_transcriber(beams, PAUSE_SETTINGS)  # type: ignore[arg-type]
    # Two sentences 0.3 s apart: one utterance for the VAD. The decode made at the pause is dropped when
    # the second sentence begins, and every word of both is heard, once.
    first, second = spoken(speech, 0), spoken(speech, 1)
    gap = 0.3
    audio = np.concatenate([silence(1.0), first, silence(gap), second, silence(1.0)])
    first_end = 1.0 + len(first) / SAMPLE_RATE
    spans = ((1.0, first_end), (first_end + gap, first_end + gap + len(second) / SAMPLE_RATE))
    events: list[CaptionEvent] = []
    decodes_in_gap: list[tuple[int, int]] = []
    for offset in range(0, len(audio), 1600):
        before = len(beams.decodes)
        transcriber.insert_audio(audio[offset : offset + 1600])
        events += transcriber.process()
        if spans[0][1] < transcriber.stream_seconds <= spans[1][0]:
            decodes_in_gap += beams.decodes[before:]
    events += transcriber.finish()
    # The decode at the pause, and no interim decode of the silence. Interim decodes are greedy, and so
    # is the one at the pause; only that one may be made again, of the same window, with the beams of
    # `unsure_beam_size` when it is unsure of a word (which word depends on the CPU's kernels).
    greedy = [samples for beams_used, samples in decodes_in_gap if beams_used == 1]
    retries = [samples for beams_used, samples in decodes_in_gap if beams_used > 1]
    assert len(greedy) == 1 and retries in ([], greedy), decodes_in_gap
    # One utterance: a final may run from one sentence into the next, so the words are scored together.
    heard = final_text(events)
    assert word_error_rate([" ".join(SENTENCES[:2])], [heard]) <= MAX_WER, heard


class Windows(_Wrapped):
    """The real recognizer, noting the length in samples of every window it decodes with a beam, and
    how many interim (greedy) decodes it was asked for while a decode made at a pause was waiting."""

    def __init__(self, recognizer: SpeechRecognizer) -> None:
        super().__init__(recognizer)
        self.transcriber: StreamingTranscriber | None = None
        self.beam_windows: list[int] = []
        self.interim_while_paused = 0

    def transcribe_window(
        self, audio: np.ndarray, prompt: str = "", prefix: str = "", beam_size: int | None = None
    ) -> Transcription:
        utterance = self.transcriber._utterance if self.transcriber else None
        if beam_size and beam_size > 1:
            self.beam_windows.append(len(audio))
        elif utterance is not None and utterance.pause_words is not None:
            self.interim_while_paused += 1
        return self._recognizer.transcribe_window(audio, prompt=prompt, prefix=prefix, beam_size=beam_size)


def test_the_decode_at_a_pause_is_of_the_window_the_vads_end_would_decode(
    recognizer: SpeechRecognizer,
) -> None:
    # JFK's "And so, my fellow Americans, ask not ..." has pauses inside and between its sentences. The
    # early decode at each pause must be of exactly the window the VAD's end decodes without it: one
    # sample more or less made tiny.en hear "am I fellow" for "my fellow" (the speech end was counted
    # from samples the VAD had not scored yet, and truncated to a sample).
    clip = load_audio_file(SPEECH_DIR / "jfk.flac")
    audio = np.concatenate([silence(1.0), clip, silence(1.0)])
    runs = {}
    for name, pause_decode_after in (("at the end", math.inf), ("early", 0.15)):
        # Every decode at a pause with 5 beams, so that the beam windows are those decodes.
        settings = StreamingSettings(pause_decode_after=pause_decode_after, final_beam_size=5)
        windows = Windows(recognizer)
        transcriber = build_transcriber(windows, settings)  # type: ignore[arg-type]
        windows.transcriber = transcriber
        events = feed(transcriber, audio) + transcriber.finish()
        runs[name] = (windows, events)
    at_the_end, early = runs["at the end"][0], runs["early"][0]
    assert at_the_end.beam_windows and set(at_the_end.beam_windows) <= set(early.beam_windows)
    # once the pause is decoded, no interim decode redoes it while the silence lasts
    assert early.interim_while_paused == 0
    listed = json.loads((SPEECH_DIR / "transcripts.json").read_text())
    reference = next(c["reference"] for c in listed if c["file"] == "jfk.flac")
    for _, events in runs.values():  # (22 words: a margin of two)
        assert word_error_rate([reference], [final_text(events)]) <= 0.1, final_text(events)
