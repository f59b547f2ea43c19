"""The streaming transcriber: audio in, partial and final captions out.

A pure object in the spirit of whisper_streaming's `OnlineASRProcessor`: `insert_audio(chunk)`,
`process()`, `finish()`, each returning caption events. Threads are wrapped around it elsewhere.

How captions are committed:
- Silero VAD cuts the stream into utterances. Nothing is decoded in silence, so silence costs only
  the VAD (about 2 % of a core) and Whisper never sees pure noise to hallucinate on.
- While someone speaks, the utterance so far is decoded every `decode_interval` seconds of new audio
  (more often when decoding is cheap, less when it is slow, so that decoding stays within
  `cpu_budget` core-seconds per second of audio). The words after the committed ones are shown as a
  partial caption.
- Local agreement (whisper_streaming's policy, LocalAgreement-2): words on which two consecutive
  decodes agree are committed as final. Committed words are then forced as the prefix of the next
  decode, so the model continues from them instead of re-deciding them. Two guards keep a wrong word
  from being committed early, where the forced prefix would then lead the rest of the utterance astray
  ("The library opens," continued as "I did the morning"): decodes of less than `agreement_after`
  seconds of speech do not count towards agreement (the model has too little context to be right), and
  agreement stops at a word the model gave less than `unsure_probability`, which stays partial until
  the pause (or until `unsure_wait` seconds of speech after it agree on it too).
- When the speaker pauses, the utterance is decoded once more, over the words not yet committed, and
  everything is committed at once: this is what makes the end of a sentence final quickly. That decode
  is greedy, and made again with a beam search (`unsure_beam_size`) when it is unsure of a word. Words
  still under `unsure_probability` then are marked unsure in the caption event, to be shown distinctly.
- That decode can start early, after `pause_decode_after` seconds of silence, while the VAD still waits
  for its `VadSettings.min_silence`; its words are then committed the moment the VAD ends the
  utterance, so the decode's own time (0.3 s, up to 1.4 s for ten seconds of speech, on two cores)
  need not add to the caption's. It is of exactly the window the VAD's end would decode: the speech
  end is counted from the frames the VAD has scored, and the window's end rounded to a sample (tiny.en's
  beam search is that sensitive: one sample more turned JFK's "my fellow" into "am I fellow"). While
  the silence lasts no interim decode redoes it; if speech resumes first, it is dropped and the
  utterance goes on on the interim decodes' own schedule. (Committing at the shorter silence itself was
  measured too: mid-sentence pauses then split words, "an ill-disposed" became "an old-sposed",
  3.0 % -> 4.9 % WER.)
- A decode forced to continue committed words covers only the last `decode_window` seconds, or more
  when needed to keep `committed_context` seconds of committed speech before the words still open:
  the committed words before the window are given as the prompt instead. Its cost grows with the
  window, not with the new words, so this made the decode at the pause of a ten-second sentence
  0.3-0.4 s instead of 0.9-1.4 s, and every interim decode cheaper.
- What Whisper makes up where there is nothing left to hear is dropped: a run of three or more words
  squeezed into a few hundredths of a second, a repeat of the words just committed, and a decode of
  the scrap of audio left after the last committed words in which the model is unsure of every word
  (a long read, cut at its last committed sentence end, left 0.2 s that tiny.en heard as
  "and and and and and" or "here.").
- No interim decode is started once `partial_silence_limit` seconds of silence have been heard (off by
  default): the decode at the pause is near, and an interim one would hold it up.
- How much a policy change moves the word error rate on the bench's 16 clips is mostly chance: a
  different decode window flips a word or two the model is unsure of (above all "ill-disposed",
  twice, the second time through the prompt), 0.4 point each, so compare policies over several runs.
- Finals follow one another in audio time: Whisper's word times can reach a few hundredths of a second
  back into the last final, so such a word is made to start where that final ended, and a word wholly
  inside audio already made final (the same audio heard twice) is not shown again.
- The audio buffer is trimmed after a committed sentence end, and force-committed when an utterance
  runs past `max_utterance` seconds, so memory and decode cost stay bounded.
- If decoding falls behind real time (the caller hands over several seconds at once), partial decodes
  are skipped and the audio is merged into the next decode; `lag_seconds` reports how far behind,
  measured from the audio that piled up between two `process()` calls (an outage is not lag).
"""

from __future__ import annotations

import logging
import math
import re
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from assistant.audio.source import SAMPLE_RATE, AudioArray
from assistant.audio.vad import FRAME_SECONDS, StreamingVad
from assistant.speech.caption_lines import ends_sentence
from assistant.speech.engines import SpeechRecognizer, Transcription, words_text
from assistant.speech.types import CaptionEvent, CaptionKind, CharSpan, Word

log = logging.getLogger("assistant.speech.streaming")

# Phrases Whisper produces from noise or silence; dropped when they make up a whole decode of a short
# or low-confidence utterance.
_HALLUCINATIONS = {
    "thank you",
    "thanks for watching",
    "thank you for watching",
    "you",
    "bye",
    "subtitles by the amaraorg community",  # "Amara.org" loses its dot in normalise_word
    "please subscribe",
    # Fillers Whisper says for a burst of noise or a fraction of a word ("I'm...", "Uh..."): dropped
    # only as the whole decode of a short utterance, where no one says them alone.
    "i'm",
    "uh",
    "um",
    "oh",
    "ah",
    "ooh",
    "hmm",
}
SHORT_UTTERANCE_SECONDS = 1.2
"""An utterance this short whose whole decode is one of `_HALLUCINATIONS` is noise, however sure the
model was: a 0.1 s clip gave a confident "Thank you.", loud pink noise "I'm..."."""


@dataclass(frozen=True)
class StreamingSettings:
    decode_interval: float = 0.5  # seconds of new speech between partial decodes, at least
    first_decode_after: float = 0.5  # seconds of speech before the first partial
    cpu_budget: float = 0.8  # decode CPU seconds allowed per second of speech
    pre_roll: float = 0.3  # audio kept before speech onset, so the first word is not clipped
    post_roll: float = 0.15  # audio kept after speech end
    max_utterance: float = 15.0  # force-commit and trim an utterance this long
    trim_after: float = 8.0  # trim at a committed sentence end once the buffer is this long
    # Earlier committed text given to the model as context, of which the recogniser keeps the newest
    # PROMPT_TOKENS (100, about 450 characters of English). 150 characters gave 3.4-4.1 % WER in five
    # real-time runs of bench/captions_latency.py; 450 gave 3.0-3.7 % in twelve (offline beam 5: 3.0 %),
    # and in the replay 2.6 % against 3.4-3.7 %: "an ill-disposed young man" came out "an old supposed".
    prompt_characters: int = 450
    hold_back_seconds: float = 0.25  # an agreed word ending this close to the buffer end may be cut
    max_lag: float = 2.0  # skip partial decodes when this far behind real time
    agreement_after: float = 1.0  # seconds of speech a decode must cover to count towards agreement
    unsure_probability: float = 0.5  # a word under this is committed only at the pause, and is unsure
    unsure_wait: float = 1.5  # ... or once this much speech after it has been heard and still agrees
    # Beams of the decode at the pause (interim decodes are greedy), and of its second try when the
    # first leaves a word under `unsure_probability`. On the bench's real speech greedy was no less
    # accurate than 5 beams (the 16 clips decoded whole: 2.6 % WER greedy, 4.5 % with 5 beams;
    # streamed in real time: 3.7 and 3.4 % against 4.1 and 4.1 %) and cheaper, which kept the
    # latency targets (5 beams every time with decodes 0.5 s apart: CPU 0.82, utterance-end p90
    # 1.17 s). But on espeak's voice greedy lost words the beams keep, unsure of them ("two
    # photographs to the appointment" heard as "do photo drafts to near pointment").
    final_beam_size: int = 1
    unsure_beam_size: int = 5
    # With the decode at the pause after 0.15 s of silence and a 4 s window (3 s of committed context),
    # utterance-end latency halved: 0.46 / 0.70 s against 1.09 / 1.57 s with both off (inf), final
    # 0.77 / 1.21 s against 0.90 / 1.41 s, CPU 0.68 against 0.74 (bench/captions_latency.py, two
    # real-time runs).
    pause_decode_after: float = 0.15  # seconds of silence after which the decode at the pause starts
    partial_silence_limit: float = math.inf  # no interim decode once this much silence has been heard
    # A decode's cost grows with its window even when only two words are new (tiny.en, a 10 s window:
    # 0.78 s at beam 5, 0.36 s for 3 s). Committed words further back than both of these go into the
    # prompt instead of the forced prefix, so the window stays short. A 4 s window alone lost words
    # ("to the appointment" heard as "to near pointment"; 3 s: 5.6 % WER in the replay), so at least
    # `committed_context` seconds of committed speech stay before the words still open.
    decode_window: float = 4.0  # seconds a forced decode covers; committed words before it are prompt
    committed_context: float = 3.0  # ... but at least this much committed speech stays in the window


def normalise_word(text: str) -> str:
    return re.sub(r"[^\w']", "", text.lower())


LOGPROB_THRESHOLD = -1.0
"""Whisper's own: a decode whose mean token log-probability is lower is not trusted."""
UNHEARD_SPEECH_SECONDS = 0.5
"""Speech after the committed words that a rejected final decode would lose (shorter: nothing to redo)."""
SCRAP_SECONDS = 0.5
"""Audio too short to hold a word the model is unsure of (see `_unsure_scrap`)."""


def _looks_like_a_loop(text: str) -> bool:
    """Whisper's own check: highly compressible text is a repetition loop."""
    data = text.encode()
    return len(data) > 40 and len(data) / len(zlib.compress(data)) > 2.4


_SQUEEZED_WORD_SECONDS = 0.06
"""Spoken words average five times this or more; a closing run of words this close together is made up."""


def _without_hallucinated_tail(words: list[Word], committed: list[Word]) -> list[Word]:
    """Drop what Whisper makes up after the speech: a closing run of three or more words squeezed into
    almost no audio (real speech takes about 0.3 s a word; the cross-attention piles invented words
    at the end), or a repeat of the words just before it."""
    for i in range(len(words) - 2):
        run = words[i:]
        # Each word under 0.08 s, or under 0.12 s and all of them in under 0.06 s a word: "and and and
        # and and" in the last 0.16 s of a long read had one word of exactly 0.08 s.
        squeezed = run[-1].end - run[0].start < _SQUEEZED_WORD_SECONDS * len(run)
        if all(w.end - w.start < 0.08 or (squeezed and w.end - w.start < 0.12) for w in run):
            words = words[:i]
            break
    history = [normalise_word(w.text) for w in committed + words]
    history = [w for w in history if w]
    spoken = [normalise_word(w.text) for w in words]
    count = len([w for w in spoken if w])
    for size in range(count, 2, -1):  # a repeated run of three words or more
        if 2 * size <= len(history) and history[-size:] == history[-2 * size : -size]:
            keep = count - size
            kept: list[Word] = []
            for word, norm in zip(words, spoken, strict=True):
                if keep <= 0 and norm:
                    break
                kept.append(word)
                keep -= 1 if norm else 0
            return kept
    return words


def _spoken(word: Word) -> bool:
    """Not a lone punctuation mark, whose probability says nothing (an underlined full stop; tiny.en
    was sure of the "." after a made-up "here")."""
    return any(c.isalnum() for c in word.text)


def _unsure(word: Word, floor: float) -> bool:
    return word.probability < floor and _spoken(word)


def _continues_a_word(word: Word) -> bool:
    """A piece Whisper joins to the word before it ("-sposed" after "ill", "-line" after "42"): no
    leading space, and more than a punctuation mark."""
    return not word.text.startswith(" ") and _spoken(word)


def _whole_words(words: Sequence[Word], count: int) -> int:
    """At most `count`, the number of leading words of `words` that ends between two words: a final
    that stopped at "ill" left the next one to start "-sposed young man", shown as "ill -sposed"."""
    while 0 < count < len(words) and _continues_a_word(words[count]):
        count -= 1
    return count


def caption_text(words: Sequence[Word], unsure_below: float) -> tuple[str, tuple[CharSpan, ...]]:
    """The caption text of `words`, and the character spans in it of the words whose probability is
    under `unsure_below` (a lone punctuation mark is not marked: an underlined full stop says nothing)."""
    joined = "".join(w.text for w in words)
    text = joined.strip()
    lead = len(joined) - len(joined.lstrip())
    spans: list[CharSpan] = []
    at = -lead
    for word in words:
        begin = at + len(word.text) - len(word.text.lstrip())
        at += len(word.text)
        if _unsure(word, unsure_below):
            spans.append((max(0, begin), min(len(text), at)))
    return text, tuple(spans)


def _in_stream_time(words: list[Word], utterance: _Utterance) -> list[Word]:
    """Words timed from the start of the last decode's window, moved to stream seconds."""
    start = utterance.window_start
    return [Word(w.text, w.start + start, w.end + start, w.probability) for w in words]


@dataclass
class _Utterance:
    start: float  # stream seconds of the first sample in `audio`
    audio: AudioArray
    committed: list[Word] = field(default_factory=list)
    previous: list[Word] = field(default_factory=list)  # last decode's uncommitted words
    decoded_until: float = 0.0  # stream seconds of audio covered by the last decode
    speech_onset: float = 0.0
    pause_words: list[Word] | None = None  # the decode at the pause, dropped if speech resumes
    window_start: float = 0.0  # stream seconds where the last decode's window began


class StreamingTranscriber:
    """Feed 16 kHz audio with `insert_audio`, call `process` often, `finish` at the end of the stream."""

    def __init__(
        self,
        recognizer: SpeechRecognizer,
        vad: StreamingVad,
        settings: StreamingSettings | None = None,
        clock: Callable[[], float] = time.monotonic,
        cpu_clock: Callable[[], float] = time.process_time,
    ) -> None:
        self._recognizer = recognizer
        self._vad = vad
        self.settings = settings or StreamingSettings()
        self._clock = clock
        self._cpu_clock = cpu_clock
        self._first_sample_at: float | None = None
        self._samples_in = 0
        self._samples_waiting = 0  # received since the last process(): what had piled up meanwhile
        self._idle_audio = np.zeros(0, dtype=np.float32)  # recent audio while nobody speaks
        self._utterance: _Utterance | None = None
        self._last_utterance_end = 0.0
        self._boundaries: list[tuple[str, float]] = []  # VAD transitions not yet handled
        self._context = ""  # committed text before the current utterance's window, for the prompt
        self._last_partial = ""
        self._finals_until = 0.0  # stream seconds where the last final caption ended
        self._last_final_words: set[str] = set()  # its words, normalised: what a repeat of it would say
        self._decode_cost = 0.3  # CPU seconds of the last decode, for the adaptive interval
        self.decode_seconds_total = 0.0
        self.decodes = 0
        self.lag_seconds = 0.0
        self.skipped_partials = 0
        self._silence_heard = 0.0  # the VAD's silence after the last piece: less after the next is speech

    # -- input -------------------------------------------------------------------------------

    @property
    def stream_seconds(self) -> float:
        return self._samples_in / SAMPLE_RATE

    def insert_audio(self, chunk: AudioArray) -> None:
        if self._first_sample_at is None and len(chunk):
            self._first_sample_at = self._clock()
        self._samples_waiting += len(chunk)
        was_speaking = self._vad.in_speech
        # Score frame by frame so that a transition inside a long chunk lands at the right time.
        step = int(FRAME_SECONDS * SAMPLE_RATE) * 4
        for offset in range(0, len(chunk), step):
            piece = chunk[offset : offset + step]
            self._append(piece)
            self._vad.feed(piece)
            now = self.stream_seconds
            if self._vad.in_speech and not was_speaking:
                self._boundaries.append(("start", now - self._vad.speech_seconds))
            elif was_speaking and not self._vad.in_speech:
                self._boundaries.append(("end", self._speech_end()))
            was_speaking = self._vad.in_speech
            if self._vad.silence_seconds < self._silence_heard and self._utterance is not None:
                self._utterance.pause_words = None  # speech resumed: the utterance goes on
            self._silence_heard = self._vad.silence_seconds

    def _append(self, piece: AudioArray) -> None:
        self._samples_in += len(piece)
        if self._utterance is not None:
            self._utterance.audio = np.concatenate([self._utterance.audio, piece])
        else:
            # Keep all that arrived since the last process() too: a speech start found inside a backlog
            # is handled there, and trimming to the pre-roll alone cut the first words of the utterance.
            keep = int((self.settings.pre_roll + 1.0) * SAMPLE_RATE) + self._samples_waiting
            self._idle_audio = np.concatenate([self._idle_audio, piece])[-keep:]

    # -- processing --------------------------------------------------------------------------

    def process(self) -> list[CaptionEvent]:
        """Handle what arrived since the last call: at most one decode (an interim one, or the one at a
        pause), plus a final decode for every utterance that ended without one at its pause."""
        events: list[CaptionEvent] = []
        self.lag_seconds = self._lag()
        self._samples_waiting = 0
        for kind, at in self._boundaries:
            if kind == "start":
                self._begin_utterance(at)
            elif self._utterance is not None:
                events += self._finish_utterance(until=at)
        self._boundaries.clear()
        utterance = self._utterance
        silence = self._vad.silence_seconds
        if utterance is None or not self._vad.in_speech:
            return events
        if silence >= self.settings.pause_decode_after and utterance.pause_words is None:
            # If speech resumes, the interim decodes go on as if this one had not been made: moving
            # their schedule changed which words agreed ("an ill-disposed" became "an old-sposed").
            decoded_until, cost = utterance.decoded_until, self._decode_cost
            utterance.pause_words = self._final_words(utterance, self._speech_end())
            utterance.decoded_until, self._decode_cost = decoded_until, cost
        elif (
            utterance.pause_words is None  # made at this pause: an interim decode would only redo it
            and silence < self.settings.partial_silence_limit
            and self._partial_due(utterance)
        ):
            if self.lag_seconds > self.settings.max_lag:
                self.skipped_partials += 1
                log.info(
                    "captions: %.1f s behind real time, merging audio into the next decode", self.lag_seconds
                )
            else:
                events += self._decode_partial(utterance)
        return events

    def finish(self) -> list[CaptionEvent]:
        """End of stream: commit whatever is still being spoken."""
        events = self.process()
        if self._utterance is not None:
            events += self._finish_utterance(until=self.stream_seconds)
        return events

    def _lag(self) -> float:
        """How far behind the recognizer is: the audio that piled up while it last worked, handed over
        since the previous `process()`. Not wall time since the first sample minus audio received: that
        counts a sound server restart or an unplugged microphone as lag, for the rest of the session."""
        return self._samples_waiting / SAMPLE_RATE

    def resume(self) -> None:
        """The source was reopened after an outage: nothing from before it is waiting any more."""
        self._samples_waiting = 0
        self.lag_seconds = 0.0

    def _now(self) -> float:
        return 0.0 if self._first_sample_at is None else self._clock() - self._first_sample_at

    def _begin_utterance(self, onset: float) -> None:
        if self._utterance is not None:
            return
        onset = max(onset, self._last_utterance_end)
        start = max(self._last_utterance_end, onset - self.settings.pre_roll)
        idle_start = self.stream_seconds - len(self._idle_audio) / SAMPLE_RATE
        skip = max(0, int((start - idle_start) * SAMPLE_RATE))
        audio = self._idle_audio[skip:]
        self._utterance = _Utterance(
            start=self.stream_seconds - len(audio) / SAMPLE_RATE,
            audio=audio,
            decoded_until=onset,
            speech_onset=onset,
        )
        self._idle_audio = np.zeros(0, dtype=np.float32)

    def _speech_end(self) -> float:
        """Where the speech that the VAD now hears silence after ends, with the post-roll: the same
        time at the pause and when the VAD ends the utterance, so that the decode made at the pause is
        of the very window the VAD's end would have decoded. Counted from the frames the VAD has scored,
        not the samples received: up to a frame of them waits unscored, a different amount each time,
        and a window a few hundredths longer made tiny.en hear "old-sposed" for "ill-disposed"."""
        scored = self._vad.frames_scored * FRAME_SECONDS
        return min(scored, scored - self._vad.silence_seconds + self.settings.post_roll)

    def _partial_due(self, utterance: _Utterance) -> bool:
        now = self.stream_seconds
        if now - utterance.speech_onset < self.settings.first_decode_after:
            return False
        interval = max(self.settings.decode_interval, self._decode_cost / self.settings.cpu_budget)
        return now - utterance.decoded_until >= interval

    def _decode(
        self, utterance: _Utterance, until: float, forced_prefix: bool = True, beam_size: int | None = None
    ) -> Transcription:
        committed = utterance.committed
        kept = self._committed_outside_window(committed, until)
        window_start = utterance.start if kept == 0 else committed[kept - 1].end
        # Rounded, not truncated: the decode at the pause and the one at the VAD's end, of the same
        # window, came out a sample apart, and that sample turned "my fellow" into "am I fellow".
        start_sample = max(0, round((window_start - utterance.start) * SAMPLE_RATE))
        end_sample = max(0, round((until - utterance.start) * SAMPLE_RATE))
        window = utterance.audio[start_sample:end_sample]
        prompt = self._context_with(committed[:kept])
        cpu_before = self._cpu_clock()
        wall_before = self._clock()
        result = self._recognizer.transcribe_window(
            window,
            prompt=prompt[-self.settings.prompt_characters :],
            prefix=words_text(committed[kept:]) if forced_prefix else "",
            beam_size=beam_size,
        )
        self._decode_cost = self._cpu_clock() - cpu_before
        self.decode_seconds_total += self._clock() - wall_before
        self.decodes += 1
        utterance.decoded_until = until
        utterance.window_start = utterance.start + start_sample / SAMPLE_RATE
        return result

    def _committed_outside_window(self, committed: list[Word], until: float) -> int:
        """How many of the committed words a decode until `until` leaves out of its window (they become
        prompt): those that start both more than `decode_window` seconds before `until` and more than
        `committed_context` seconds before the last committed word ends; the last one always stays, so
        that the model continues a forced word."""
        open_from = committed[-1].end if committed else until
        limit = min(until - self.settings.decode_window, open_from - self.settings.committed_context)
        outside = next((i for i, word in enumerate(committed) if word.start >= limit), len(committed))
        return max(0, min(outside, len(committed) - 1))

    def _new_words(self, utterance: _Utterance, result: Transcription) -> list[Word]:
        """Words after the committed prefix, shifted to stream time; empty if the decode is noise."""
        if self._is_noise(result, utterance):
            return []
        words = _without_hallucinated_tail(list(result.new_words), utterance.committed)
        return _in_stream_time(words, utterance)

    def _final_words(self, utterance: _Utterance, until: float) -> list[Word]:
        """The words that end an utterance, in stream time.

        A decode forced to continue the committed words can go off the rails: tiny.en, after a prefix
        ending in "and", looped ", and a bit of a bit of a good taste" (or gave nothing) where seven
        seconds of speech followed. Committing that would show made-up text and lose the real words.
        Then, as Whisper itself falls back when a decode's mean log-probability is under -1, the same
        window is decoded afresh without the prefix, and the words after the committed ones kept."""
        beam = self.settings.final_beam_size
        result = self._decode(utterance, until, beam_size=beam)
        if self._unsure_of_some(result) and self.settings.unsure_beam_size > beam:
            beam = self.settings.unsure_beam_size
            result = self._decode(utterance, until, beam_size=beam)
        if not utterance.committed or not self._off_the_rails(result, utterance, until):
            return self._new_words(utterance, result)
        log.info("captions: the forced continuation was rejected; decoding the utterance afresh")
        fresh = self._decode(utterance, until, forced_prefix=False, beam_size=beam)
        if self._is_noise(fresh, utterance):
            return []
        committed_end = utterance.committed[-1].end - utterance.window_start  # window seconds
        after = [w for w in fresh.new_words if (w.start + w.end) / 2 > committed_end]
        return _in_stream_time(_without_hallucinated_tail(after, utterance.committed), utterance)

    def _unsure_of_some(self, result: Transcription) -> bool:
        return any(_unsure(w, self.settings.unsure_probability) for w in result.new_words)

    def _off_the_rails(self, result: Transcription, utterance: _Utterance, until: float) -> bool:
        if until - utterance.committed[-1].end < UNHEARD_SPEECH_SECONDS:
            return False  # nothing left to lose: the committed words reach the end of the speech
        return result.avg_logprob < LOGPROB_THRESHOLD or self._is_noise(result, utterance)

    def _is_noise(self, result: Transcription, utterance: _Utterance) -> bool:
        text = " ".join(normalise_word(word) for word in result.text.split())
        if not result.new_words:
            return True
        if result.no_speech_prob > 0.6 and result.avg_logprob < -1.0:
            return True
        if not utterance.committed and text in _HALLUCINATIONS:
            short = len(utterance.audio) / SAMPLE_RATE < SHORT_UTTERANCE_SECONDS
            if short or result.avg_logprob < -0.5:
                return True
        if self._unsure_scrap(result, utterance):
            return True
        return _looks_like_a_loop(words_text(result.new_words))

    def _unsure_scrap(self, result: Transcription, utterance: _Utterance) -> bool:
        """A decode of under `SCRAP_SECONDS` of audio, nothing committed in it, every word unsure: what
        was left of a long read after its last committed sentence was cut off (the post-roll and a few
        hundredths of speech) was decoded as "here." (probability 0.02). A fresh utterance holds more:
        the pre-roll, the word, the post-roll. Not after committed words, where a short last word the
        model is unsure of ("him.") is real."""
        if utterance.committed or utterance.decoded_until - utterance.window_start >= SCRAP_SECONDS:
            return False
        return all(_unsure(w, self.settings.unsure_probability) for w in result.new_words if _spoken(w))

    def _decode_partial(self, utterance: _Utterance) -> list[CaptionEvent]:
        until = self.stream_seconds
        result = self._decode(utterance, until)
        if utterance.committed and result.avg_logprob < LOGPROB_THRESHOLD:
            return []  # an untrusted continuation (see `_final_words`): two of them must not agree
        words = self._new_words(utterance, result)
        if until - utterance.speech_onset < self.settings.agreement_after:
            utterance.previous = []  # too short to be trusted: shown, but never agreed with
            return self._trim(utterance) + self._partial_event(words, utterance)
        agreed = self._agreement(utterance.previous, words)
        # A word that ends at the edge of the audio may still be growing ("can" → "candle").
        while agreed and agreed[-1].end > until - self.settings.hold_back_seconds:
            agreed.pop()
        # An unsure word, even agreed on twice, waits for the decode at the pause to settle it, or for
        # `unsure_wait` seconds of speech after it (someone reading aloud may never pause).
        for index, word in enumerate(agreed):
            recent = word.end > until - self.settings.unsure_wait
            if word.probability < self.settings.unsure_probability and recent:
                del agreed[index:]
                break
        agreed = agreed[: _whole_words(words, len(agreed))]
        events: list[CaptionEvent] = []
        if agreed:
            events += self._commit(utterance, agreed)
        pending = words[len(agreed) :]
        utterance.previous = pending
        events += self._trim(utterance)
        events += self._partial_event(utterance.previous, utterance)
        return events

    @staticmethod
    def _agreement(previous: list[Word], current: list[Word]) -> list[Word]:
        agreed: list[Word] = []
        for old, new in zip(previous, current, strict=False):
            if normalise_word(old.text) != normalise_word(new.text):
                break
            agreed.append(new)
        return agreed

    def _commit(self, utterance: _Utterance, words: list[Word]) -> list[CaptionEvent]:
        """Make `words` final: the model continues from them; the caption shows those after the last
        final in audio time (none, or a final that never overlaps the one before it)."""
        utterance.committed.extend(words)
        utterance.pause_words = None  # decoded after fewer committed words: made again if still paused
        partial_shown = bool(self._last_partial)
        self._last_partial = ""
        floor = self._finals_until
        # A word wholly inside audio already captioned is dropped only when the last final said it: that
        # is the same audio heard twice. Any other word there is Whisper's timing squeezed, not a repeat.
        shown = [
            w if w.start >= floor else Word(w.text, floor, max(w.end, floor), w.probability)
            for w in words
            if w.start >= floor or w.end > floor or normalise_word(w.text) not in self._last_final_words
        ]
        if not shown:
            log.info("captions: dropped a final of audio already captioned: %r", words_text(words))
            return [CaptionEvent("partial", "", floor, floor, self._now())] if partial_shown else []
        self._finals_until = max(floor, shown[-1].end)
        self._last_final_words = {normalise_word(w.text) for w in shown}
        return [self._event("final", shown)]

    def _event(self, kind: CaptionKind, words: list[Word]) -> CaptionEvent:
        text, unsure = caption_text(words, self.settings.unsure_probability)
        return CaptionEvent(kind, text, words[0].start, words[-1].end, self._now(), unsure)

    def _partial_event(self, pending: list[Word], utterance: _Utterance) -> list[CaptionEvent]:
        text = words_text(pending)
        if text == self._last_partial:
            return []
        self._last_partial = text
        if not pending:
            start = end = utterance.decoded_until
            return [CaptionEvent("partial", "", start, end, self._now())]
        return [self._event("partial", pending)]

    def _finish_utterance(self, until: float) -> list[CaptionEvent]:
        utterance = self._utterance
        assert utterance is not None
        events: list[CaptionEvent] = []
        # Decoded while the VAD waited, unless speech resumed since.
        words = utterance.pause_words
        if words is None:
            words = self._final_words(utterance, until)
        if words:
            events += self._commit(utterance, words)
        elif self._last_partial:
            events.append(CaptionEvent("partial", "", until, until, self._now()))
            self._last_partial = ""
        self._remember(utterance.committed)
        # Audio after the end of speech stays as idle audio, all of it: it is the next utterance's
        # pre-roll, and when audio came in a backlog it may hold the next utterance itself (keeping only
        # the last 1.3 s cut "ask not" down to "Lock!" when the recogniser fell 3 s behind).
        self._idle_audio = utterance.audio[max(0, int((until - utterance.start) * SAMPLE_RATE)) :]
        self._utterance = None
        self._last_utterance_end = until
        if self._vad.in_speech:  # speech resumed inside the same chunk
            self._begin_utterance(max(until, self.stream_seconds - self._vad.speech_seconds))
        return events

    def _remember(self, words: list[Word]) -> None:
        """Text that has left the decode window becomes context for the next decodes."""
        self._context = self._context_with(words)[-1000:]

    def _context_with(self, words: list[Word]) -> str:
        """The context followed by `words`."""
        return (self._context + " " + words_text(words)).strip()

    def _trim(self, utterance: _Utterance) -> list[CaptionEvent]:
        """Keep the decode window short: drop audio up to a committed sentence end, or force it."""
        events: list[CaptionEvent] = []
        length = self.stream_seconds - utterance.start
        if length >= self.settings.max_utterance and len(utterance.previous) > 1:
            # Nobody paused and little agreed for a long time: commit all but the last word.
            log.info("captions: utterance longer than %.0f s, committing early", self.settings.max_utterance)
            words = utterance.previous[: _whole_words(utterance.previous, len(utterance.previous) - 1)]
            if words:
                events += self._commit(utterance, words)
                utterance.previous = utterance.previous[len(words) :]
        if length < self.settings.trim_after or not utterance.committed:
            return events
        cut_index = None
        for index, word in enumerate(utterance.committed):
            if ends_sentence(word.text):
                cut_index = index
        if cut_index is None and length >= self.settings.max_utterance:
            cut_index = len(utterance.committed) - 1
        if cut_index is None:
            return events
        cut_time = utterance.committed[cut_index].end
        cut_sample = max(0, int((cut_time - utterance.start) * SAMPLE_RATE))
        utterance.audio = utterance.audio[cut_sample:]
        utterance.start = cut_time
        self._remember(utterance.committed[: cut_index + 1])
        utterance.committed = utterance.committed[cut_index + 1 :]
        return events
