"""Speech recognition engines behind one `SpeechRecognizer` protocol.

Two engines:
- `FasterWhisperRecognizer` (CTranslate2, int8 on the CPU): the default, because its model ships offline
  and it is the faster one on a CPU. For streaming it encodes only the audio it was given plus a few
  seconds of silence instead of Whisper's padded 30 s window: the encoder is most of a decode's cost
  (0.9 core-seconds for 30 s on a 2-core laptop CPU, about 0.15 for 8 s), and with that tail of silence
  the model still ends its text cleanly (without it, tiny.en loops).
- `OpenAIWhisperRecognizer`: the reference implementation (PyTorch), always on the full 30 s window.

Both return words with times relative to the start of the audio they were given; the streaming
transcriber shifts them to stream time.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from assistant.audio.source import SAMPLE_RATE, AudioArray
from assistant.errors import AssistantError
from assistant.speech.types import Word

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

log = logging.getLogger("assistant.speech.engines")

# Whisper's mel frames are 10 ms; its encoder sees at most 3000 of them (30 s).
FRAMES_PER_SECOND = 100
MAX_FRAMES = 3000
HOP_SAMPLES = SAMPLE_RATE // FRAMES_PER_SECOND
"""Audio samples per log-mel frame (10 ms)."""
SECONDS_PER_TIMESTAMP = 0.02
"""One step of Whisper's timestamp tokens."""
TEXT_CONTEXT_TOKENS = 448
"""The decoder's context: prompt, start sequence, prefix and generated text together."""
PROMPT_TOKENS = 100
"""At most this much earlier text (and vocabulary) is given as the prompt, the newest kept."""
VOCABULARY_TOKENS = 70
"""The part of the prompt the vocabulary may take, always kept whole at its start; the earlier text gets
the rest. A longer vocabulary is cut to the terms that fit, and the user told which were left out."""


REPEATED_TOKEN_RUN = 8
"""This many of one token in a row is not speech: it is what damaged weights produce ("!!!!!!!!")."""
GARBAGE_DECODES = 3
"""Decodes in a row that are nothing but such a run before the model is declared damaged."""


def repeated_run_start(tokens: Sequence[int], run: int = REPEATED_TOKEN_RUN) -> int | None:
    """Where the first run of `run` identical tokens starts in `tokens`, or None."""
    count = 0
    for index, token in enumerate(tokens):
        count = count + 1 if index and token == tokens[index - 1] else 1
        if count >= run:
            return index - run + 1
    return None


_SYMBOL_RUN = re.compile(r"([^\w\s])(\s*\1){3,}")
"""The same symbol four times or more ("!!!!", "! ! ! !"), however the tokenizer split it into tokens;
speech gives at most an ellipsis."""


_DAMAGED_RUN = re.compile(r"([^\w\s.])\1{3,}")
"""A symbol other than a full stop four times with nothing between ("!!!!"): damaged weights. A healthy
model gives ". . . ." for a tenth of a second of noise, which is dropped but says nothing about it."""

_TEXT_TOKENS_END = 50256
"""Whisper's text tokens are below this (end of text, languages, tasks and timestamps are above)."""


def looks_damaged(tokens: Sequence[int], text: str) -> bool:
    """What damaged weights decode and speech never does: one symbol over and over ("!!!!"), or one and
    the same token making up nearly all of a decode from its start (" Agg Agg Agg ..." from a model
    whose embeddings rotted)."""
    if _DAMAGED_RUN.search(text):
        return True
    words = [token for token in tokens if token < _TEXT_TOKENS_END]
    if len(words) < REPEATED_TOKEN_RUN or repeated_run_start(words) != 0:
        return False
    return words.count(words[0]) >= 0.8 * len(words)


LONG_PIECE_SECONDS = 300.0
"""A long recording is transcribed in pieces of about this length, cut at the quietest moment near
each end: faster-whisper's spectrogram of a whole hour took over a gigabyte."""


_CUT_SEARCH = 20 * SAMPLE_RATE
"""A piece's end is looked for in the last this many samples before its nominal length."""


def _quiet_cut(audio: AudioArray, size: int) -> int:
    """Where to end a piece of nominal length `size` at the start of `audio`: the middle of the quietest
    tenth of a second in the last 20 s before `size`."""
    frame = SAMPLE_RATE // 10
    window = audio[size - _CUT_SEARCH : size]
    energy = np.square(window[: len(window) // frame * frame]).reshape(-1, frame).mean(axis=1)
    return size - _CUT_SEARCH + int(np.argmin(energy)) * frame + frame // 2


def long_pieces(audio: AudioArray, piece_seconds: float = LONG_PIECE_SECONDS) -> list[tuple[int, int]]:
    """(start, end) sample ranges covering `audio`, each about `piece_seconds` long, each cut at the
    quietest tenth of a second in the last 20 s before its nominal end, so no word is cut in two."""
    size = int(piece_seconds * SAMPLE_RATE)
    pieces: list[tuple[int, int]] = []
    begin = 0
    while len(audio) - begin > size + _CUT_SEARCH:
        cut = begin + _quiet_cut(audio[begin:], size)
        pieces.append((begin, cut))
        begin = cut
    pieces.append((begin, len(audio)))
    return pieces


def stream_pieces(
    blocks: Iterable[AudioArray], piece_seconds: float = LONG_PIECE_SECONDS
) -> Iterator[tuple[float, AudioArray]]:
    """The pieces `long_pieces` would cut, with their start in seconds, from audio that arrives in
    blocks (a file being decoded): at most a piece and a block are held at a time, so a recording of
    hours is transcribed in the memory of five minutes."""
    size = int(piece_seconds * SAMPLE_RATE)
    held: list[AudioArray] = []
    count = begin = 0
    for block in blocks:
        held.append(block)
        count += len(block)
        while count > size + _CUT_SEARCH:
            audio = np.concatenate(held)
            cut = _quiet_cut(audio, size)
            yield begin / SAMPLE_RATE, audio[:cut]
            held, count, begin = [audio[cut:].copy()], len(audio) - cut, begin + cut
            del audio
    if count:
        yield begin / SAMPLE_RATE, np.concatenate(held)


def _as_blocks(audio: AudioArray | Iterable[AudioArray]) -> Iterable[AudioArray]:
    return [audio] if isinstance(audio, np.ndarray) else audio


class DamagedModelError(AssistantError):
    """The model decodes one token over and over: its weights are damaged, whatever the checksum said."""


def fit_vocabulary(
    vocabulary: str, count_tokens: Callable[[str], int], limit: int = VOCABULARY_TOKENS
) -> str:
    """The leading terms of `vocabulary` (comma, semicolon or line separated) that fit in `limit`
    tokens, joined with commas; a warning names the terms left out."""
    terms = [term.strip() for term in re.split(r"[,;\n]", vocabulary) if term.strip()]
    kept: list[str] = []
    for term in terms:
        if count_tokens(" " + ", ".join([*kept, term])) > limit:
            break
        kept.append(term)
    left_out = terms[len(kept) :]
    if left_out:
        log.warning(
            "speech: the vocabulary is longer than the model can take (%d tokens): using the first %d "
            "terms, leaving out %d: %s",
            limit,
            len(kept),
            len(left_out),
            ", ".join(left_out),
        )
    return ", ".join(kept)


@dataclass(frozen=True)
class RecognizerOptions:
    """What the user chose for recognition; the same for both engines."""

    language: str | None = "en"  # None: detect from the first speech
    translate: bool = False  # translate to English (multilingual models only)
    vocabulary: str = ""  # names and terms to prefer, given to the model as a prompt
    beam_size: int = 1
    threads: int = 2


@dataclass(frozen=True)
class Transcription:
    """One decode of a piece of audio. Word times are seconds from the start of that audio."""

    words: tuple[Word, ...]
    text: str
    no_speech_prob: float = 0.0
    avg_logprob: float = 0.0
    language: str | None = None
    prefix_words: int = 0  # how many leading `words` repeat the forced prefix

    @property
    def new_words(self) -> tuple[Word, ...]:
        return self.words[self.prefix_words :]


@dataclass(frozen=True)
class Segment:
    """A timed piece of an offline transcript."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = field(default=())


class SpeechRecognizer(Protocol):
    """Turns 16 kHz mono float32 audio into text with word times."""

    name: str
    options: RecognizerOptions

    def transcribe_window(
        self, audio: AudioArray, *, prompt: str = "", prefix: str = "", beam_size: int | None = None
    ) -> Transcription:
        """Decode a short window (at most 30 s) for streaming: text plus word times.

        `prompt` is earlier text that conditions the model; `prefix` is text the window is known to
        start with (already committed captions), which the model continues from. `beam_size`, when
        given, replaces the options' for this decode (the streaming transcriber's last decode of an
        utterance searches wider than its interim ones)."""
        ...

    def transcribe_long(self, audio: AudioArray | Iterable[AudioArray]) -> Iterator[Segment]:
        """Transcribe a whole recording offline with the engine's own long-form algorithm, five minutes
        at a time: `audio` is the recording, or its blocks as they are decoded (`iter_audio_file`)."""
        ...


def _clean_word(text: str) -> str:
    """Whisper words carry their leading space ("␣word", but "," or "-disposed" without one); keep it,
    so that joining words gives back properly spaced text."""
    return text if text.strip() else ""


class FasterWhisperRecognizer:
    """faster-whisper (CTranslate2). made by `load_recognizer` from a loaded model."""

    def __init__(
        self,
        model: WhisperModel,
        options: RecognizerOptions,
        name: str = "faster-whisper",
        silence_tail_seconds: float = 5.0,
    ) -> None:
        self._model = model
        self.options = options
        self.name = name
        self._silence_tail_seconds = silence_tail_seconds
        # CTranslate2 models may be used from one thread at a time per call; the lock keeps a UI
        # "transcribe file" and the live loop from interleaving on the same model.
        self._lock = threading.Lock()
        self._language: str | None = options.language
        self._tokenizers: dict[str | None, Any] = {}
        self._garbage_decodes = 0  # decodes in a row that were one repeated token from the start

    @property
    def is_multilingual(self) -> bool:
        return bool(self._model.model.is_multilingual)

    def _tokenizer(self, language: str | None) -> Any:
        from faster_whisper.tokenizer import Tokenizer

        if language not in self._tokenizers:
            multilingual = self.is_multilingual
            task = "translate" if self.options.translate and multilingual else "transcribe"
            self._tokenizers[language] = Tokenizer(
                self._model.hf_tokenizer, multilingual, task=task, language=language or "en"
            )
        return self._tokenizers[language]

    def _prompt_tokens(self, tokenizer: Any, prompt: str) -> list[int]:
        """The vocabulary first and whole, then as much of the newest earlier text as fits: cutting the
        two together from the left dropped the vocabulary as soon as the earlier text grew."""
        vocabulary = self.options.vocabulary.strip()
        tokens: list[int] = tokenizer.encode(" " + vocabulary) if vocabulary else []
        room = PROMPT_TOKENS - len(tokens)
        if prompt.strip() and room > 0:
            tokens += tokenizer.encode(" " + prompt.strip())[-room:]
        return [tokenizer.sot_prev, *tokens] if tokens else []

    def _features(self, audio: AudioArray, full_window: bool) -> tuple[np.ndarray, int]:
        """Log-mel features of `audio` followed by silence, and the number of frames of real audio."""
        content_frames = min(MAX_FRAMES, math.ceil(len(audio) / HOP_SAMPLES))
        if full_window:
            target = MAX_FRAMES
        else:
            target = min(MAX_FRAMES, content_frames + int(self._silence_tail_seconds * FRAMES_PER_SECOND))
        padded = np.zeros(target * HOP_SAMPLES, dtype=np.float32)
        usable = min(len(audio), len(padded))
        padded[:usable] = audio[:usable]
        features = self._model.feature_extractor(padded, padding=0)[:, :target]
        return np.ascontiguousarray(features[np.newaxis], dtype=np.float32), content_frames

    def _detect_language(self, encoder_output: Any) -> str:
        results = self._model.model.detect_language(encoder_output)
        best_token, _ = results[0][0]
        language = str(best_token)[2:-2]
        log.info("speech: detected language %s", language)
        return language

    def transcribe_window(
        self, audio: AudioArray, *, prompt: str = "", prefix: str = "", beam_size: int | None = None
    ) -> Transcription:
        import ctranslate2

        if len(audio) < SAMPLE_RATE // 10:
            return Transcription(words=(), text="")
        with self._lock:
            features, content_frames = self._features(audio, full_window=False)
            encoder_output = self._model.model.encode(ctranslate2.StorageView.from_array(features))
            language = self._language
            if language is None and self.is_multilingual:
                if len(audio) >= SAMPLE_RATE:  # too little speech guesses badly; decide on 1 s or more
                    language = self._language = self._detect_language(encoder_output)
                else:
                    language = self._detect_language(encoder_output)
            tokenizer = self._tokenizer(language)
            prompt_tokens = self._prompt_tokens(tokenizer, prompt)
            prefix_tokens = tokenizer.encode(" " + prefix.strip()) if prefix.strip() else []
            # Timestamp mode: the model marks where its text ends in the audio and then stops. In
            # no-timestamp mode tiny.en often repeats a short utterance into the silence after it.
            sequence = prompt_tokens + list(tokenizer.sot_sequence) + [tokenizer.timestamp_begin]
            sequence += prefix_tokens
            seconds = len(audio) / SAMPLE_RATE
            # Speech runs at most ~5 tokens a second; the cap stops a degenerate loop early.
            max_length = min(TEXT_CONTEXT_TOKENS - len(sequence) - 1, int(24 + 8 * seconds)) + len(sequence)
            result = self._model.model.generate(
                encoder_output,
                [sequence],
                beam_size=beam_size or self.options.beam_size,
                max_length=max_length,
                return_scores=True,
                return_no_speech_prob=True,
                suppress_blank=True,
                suppress_tokens=[-1],
            )[0]
            # CTranslate2 returns the forced prefix as part of the sequence.
            generated = list(result.sequences_ids[0])
            tokens = self._speech_tokens(tokenizer, generated, content_frames / FRAMES_PER_SECOND)
            tokens = self._guard_against_garbage(tokens, len(prefix_tokens))
            length = max(1, len(tokens) - len(prefix_tokens))
            avg_logprob = float(result.scores[0]) / length if result.scores else 0.0
            words, prefix_words = self._align(
                tokenizer, tokens, len(prefix_tokens), encoder_output, content_frames
            )
        return Transcription(
            words=tuple(words),
            text=tokenizer.decode(tokens).strip(),
            no_speech_prob=float(result.no_speech_prob),
            avg_logprob=avg_logprob,
            language=language,
            prefix_words=prefix_words,
        )

    def _guard_against_garbage(self, tokens: list[int], prefix: int) -> list[int]:
        """Cut a run of one repeated token off the decoded text; several decodes in a row that are
        only such a run mean damaged weights, said once as a `DamagedModelError` rather than shown as
        "!!!!!" captions."""
        text = self._tokenizer(self._language).decode(tokens[prefix:])
        start = repeated_run_start(tokens[prefix:])
        if start is None and _SYMBOL_RUN.search(text):
            start = 0
        if start is None:
            self._garbage_decodes = 0
            return tokens
        damaged = start == 0 and looks_damaged(tokens[prefix:], text)
        self._garbage_decodes = self._garbage_decodes + 1 if damaged else 0
        if self._garbage_decodes >= GARBAGE_DECODES:
            raise DamagedModelError(_damaged_message(self.name))
        log.info("speech: dropped a run of one repeated token from the decoded text")
        return tokens[: prefix + start]

    @staticmethod
    def _speech_tokens(tokenizer: Any, generated: list[int], content_seconds: float) -> list[int]:
        """Text tokens of the segments that start inside the real audio; a segment the model starts in
        the silence tail is made up."""
        kept: list[int] = []
        begin = tokenizer.timestamp_begin
        for token in generated:
            if token >= begin:
                if (token - begin) * SECONDS_PER_TIMESTAMP >= content_seconds - 0.1 and kept:
                    break
                continue
            if token < tokenizer.eot:
                kept.append(token)
        return kept

    def _align(
        self, tokenizer: Any, tokens: list[int], prefix_length: int, encoder_output: Any, frames: int
    ) -> tuple[list[Word], int]:
        """Word times from cross-attention, and how many of the words came from the prefix."""
        if not tokens:
            return [], 0
        alignment = self._model.find_alignment(tokenizer, [tokens], encoder_output, frames)[0]
        limit = frames / FRAMES_PER_SECOND
        words = []
        prefix_words = 0
        consumed = 0
        for item in alignment:
            consumed += len(item["tokens"])
            text = _clean_word(item["word"])
            if not text:
                continue
            start = min(float(item["start"]), limit)
            end = max(start, min(float(item["end"]), limit))
            words.append(Word(text, start, end, float(item["probability"])))
            if consumed <= prefix_length:
                prefix_words = len(words)
        return words, prefix_words

    def transcribe_long(self, audio: AudioArray | Iterable[AudioArray]) -> Iterator[Segment]:
        first = True
        for offset, piece in stream_pieces(_as_blocks(audio)):
            if first:
                self._probe_opening(piece)
                first = False
            yield from self._transcribe_piece(piece, offset)

    def _probe_opening(self, audio: AudioArray) -> None:
        """A damaged model makes faster-whisper retry each window at every temperature, for minutes:
        one short greedy decode of the opening finds it first (`DamagedModelError`)."""
        for start in range(0, min(len(audio), 60 * SAMPLE_RATE), 10 * SAMPLE_RATE):
            opening = audio[start : start + 10 * SAMPLE_RATE]
            if len(opening) >= SAMPLE_RATE and float(np.sqrt(np.mean(opening**2))) > 0.01:
                for _ in range(GARBAGE_DECODES):
                    if self.transcribe_window(opening).text:
                        break
                break

    def _transcribe_piece(self, audio: AudioArray, offset: float) -> Iterator[Segment]:
        with self._lock:
            segments, _info = self._model.transcribe(
                audio,
                language=self.options.language,
                task="translate" if self.options.translate else "transcribe",
                beam_size=5,
                initial_prompt=self.options.vocabulary or None,
                vad_filter=True,
                word_timestamps=True,
                condition_on_previous_text=False,
            )
            # One segment at a time: collecting them all first held the whole transcript's decoder
            # state, and a damaged model's endless "!!!!" was only found at the end.
            garbage = 0
            for segment in segments:
                if repeated_run_start(segment.tokens) is not None or _SYMBOL_RUN.search(segment.text):
                    garbage = garbage + 1 if looks_damaged(segment.tokens, segment.text) else 0
                    if garbage >= GARBAGE_DECODES:
                        raise DamagedModelError(_damaged_message(self.name))
                    continue
                garbage = 0
                words = tuple(
                    Word(
                        _clean_word(w.word),
                        offset + float(w.start),
                        offset + float(w.end),
                        float(w.probability),
                    )
                    for w in (segment.words or [])
                )
                yield Segment(
                    offset + float(segment.start), offset + float(segment.end), segment.text.strip(), words
                )


class OpenAIWhisperRecognizer:
    """openai-whisper, the reference implementation (PyTorch, fp32 on the CPU, 30 s windows)."""

    def __init__(self, model: Any, options: RecognizerOptions, name: str = "openai-whisper") -> None:
        self._model = model
        self.options = options
        self.name = name
        self._lock = threading.Lock()

    def _decode_kwargs(self, beam_size: int | None = None) -> dict[str, Any]:
        beam = beam_size or self.options.beam_size
        return {
            "language": self.options.language,
            "task": "translate" if self.options.translate else "transcribe",
            "fp16": False,
            "beam_size": beam if beam > 1 else None,
        }

    def transcribe_window(
        self, audio: AudioArray, *, prompt: str = "", prefix: str = "", beam_size: int | None = None
    ) -> Transcription:
        import whisper

        if len(audio) < SAMPLE_RATE // 10:
            return Transcription(words=(), text="")
        context = " ".join(part for part in (self.options.vocabulary.strip(), prompt.strip()) if part)
        with self._lock:
            result = whisper.transcribe(
                self._model,
                audio,
                initial_prompt=context or None,
                prefix=prefix.strip() or None,  # openai-whisper leaves the prefix out of its result
                word_timestamps=True,
                condition_on_previous_text=False,
                temperature=0.0,
                verbose=None,
                **self._decode_kwargs(beam_size),
            )
        words: list[Word] = []
        no_speech = 0.0
        logprobs: list[float] = []
        limit = len(audio) / SAMPLE_RATE
        for segment in result["segments"]:
            no_speech = max(no_speech, float(segment["no_speech_prob"]))
            logprobs.append(float(segment["avg_logprob"]))
            for w in segment.get("words", []):
                text = _clean_word(w["word"])
                if text:
                    start = min(float(w["start"]), limit)
                    words.append(
                        Word(text, start, max(start, min(float(w["end"]), limit)), float(w["probability"]))
                    )
        return Transcription(
            words=tuple(words),
            text=str(result["text"]).strip(),
            no_speech_prob=no_speech,
            avg_logprob=float(np.mean(logprobs)) if logprobs else 0.0,
            language=str(result.get("language") or self.options.language),
        )

    def transcribe_long(self, audio: AudioArray | Iterable[AudioArray]) -> Iterator[Segment]:
        import whisper

        for offset, piece in stream_pieces(_as_blocks(audio)):
            with self._lock:
                result = whisper.transcribe(
                    self._model,
                    piece,
                    initial_prompt=self.options.vocabulary or None,
                    word_timestamps=True,
                    condition_on_previous_text=False,
                    verbose=None,
                    **{**self._decode_kwargs(), "beam_size": 5},
                )
            for segment in result["segments"]:
                words = tuple(
                    Word(
                        _clean_word(w["word"]),
                        offset + float(w["start"]),
                        offset + float(w["end"]),
                        float(w["probability"]),
                    )
                    for w in segment.get("words", [])
                )
                yield Segment(
                    offset + float(segment["start"]),
                    offset + float(segment["end"]),
                    str(segment["text"]).strip(),
                    words,
                )


ENGINES = ("faster-whisper", "openai-whisper")
DEFAULT_ENGINE = "faster-whisper"
DEFAULT_MODEL = "tiny.en"


def load_recognizer(
    engine: str = DEFAULT_ENGINE,
    model: str = DEFAULT_MODEL,
    options: RecognizerOptions | None = None,
) -> SpeechRecognizer:
    """Load a model through the model store and wrap it in the chosen engine (slow: seconds)."""
    options = options or RecognizerOptions()
    if engine == "faster-whisper":
        return _load_faster_whisper(model, options)
    if engine == "openai-whisper":
        return _load_openai_whisper(model, options)
    raise AssistantError(f"unknown speech engine {engine!r}: choose one of {', '.join(ENGINES)}")


def _resolve_path(model: str, engine: str) -> Path:
    from assistant.models import resolve

    return Path(resolve(model, engine=engine).path)


def _damaged_message(name: str) -> str:
    model = name.split(" ", 1)[-1]
    return (
        f'the speech model {model} produces one symbol or word over and over ("!!!!!") instead of '
        f"speech: its weights are damaged. Run `assistant models download {model}` to fetch it again, or "
        "choose another model"
    )


def _english_only(model: str, options: RecognizerOptions) -> RecognizerOptions:
    """Options for an English-only model; asking it for another language is refused clearly."""
    if options.language not in (None, "en"):
        raise AssistantError(
            f"the model {model!r} understands English only; choose a multilingual model "
            f"(for example `--model small`) for language {options.language!r}"
        )
    if options.translate:
        raise AssistantError(
            f"the model {model!r} understands English only, so it cannot translate; choose a multilingual "
            "model (for example `--model small`) to translate into English"
        )
    return dataclasses.replace(options, language="en", translate=False)


ONEDNN_PRIMITIVE_CACHE = "32"
"""oneDNN (inside CTranslate2) keeps the compiled kernels of up to 1,024 input shapes by default, about
1 MB each. Streaming encodes windows of ever-changing length, so that cache only grew: +140 MB in 120
decodes of random length, +222 MB over 20 minutes of captions, with no measurable CPU saved. 32 shapes
bound it (a capacity of 0 to 64 cost the same CPU in the same run)."""


def _load_faster_whisper(model: str, options: RecognizerOptions) -> FasterWhisperRecognizer:
    # WORKAROUND: oneDNN reads its cache capacity from the environment when it makes its first kernel,
    # which is after this and before any decode; a value the user set is kept.
    os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", ONEDNN_PRIMITIVE_CACHE)
    from faster_whisper import WhisperModel

    path = _resolve_path(model, "faster-whisper")
    try:
        loaded = WhisperModel(str(path), device="cpu", compute_type="int8", cpu_threads=options.threads)
    except (RuntimeError, ValueError, OSError) as error:
        raise AssistantError(
            f"the speech model {model!r} at {path} could not be loaded ({error}); it may be corrupt: "
            f"run `assistant models download {model}` to fetch it again"
        ) from error
    if not loaded.model.is_multilingual:
        options = _english_only(model, options)
    if options.vocabulary.strip():
        tokenizer = loaded.hf_tokenizer
        fitted = fit_vocabulary(options.vocabulary, lambda text: len(tokenizer.encode(text).ids))
        options = dataclasses.replace(options, vocabulary=fitted)
    return FasterWhisperRecognizer(loaded, options, name=f"faster-whisper {model}")


def _load_openai_whisper(model: str, options: RecognizerOptions) -> OpenAIWhisperRecognizer:
    try:
        import whisper
    except ImportError as error:
        raise AssistantError(
            "the openai-whisper engine is not installed: run `pip install --no-deps openai-whisper` "
            "(scripts/setup.sh does this), or use --engine faster-whisper"
        ) from error
    import torch

    torch.set_num_threads(options.threads)
    path = _resolve_path(model, "openai-whisper")
    try:
        loaded = whisper.load_model(str(path), device="cpu")
    except Exception as error:  # torch raises many types for a damaged checkpoint
        raise AssistantError(
            f"the openai-whisper model {model!r} at {path} could not be loaded ({error}); it may be "
            f"corrupt: run `assistant models download {model}` to fetch it again"
        ) from error
    name = (
        Path(model).stem.removeprefix("whisper-")
        if Path(model).suffix == ".pt"
        else model.removeprefix("whisper:")
    )
    heads = getattr(whisper, "_ALIGNMENT_HEADS", {}).get(name)
    if heads is not None:  # a converted checkpoint may lack them; word times need the right heads
        loaded.set_alignment_heads(heads)
    if not loaded.is_multilingual:
        options = _english_only(model, options)
    return OpenAIWhisperRecognizer(loaded, options, name=f"openai-whisper {name}")


def words_text(words: Sequence[Word]) -> str:
    """Join recognised words (which carry their own leading spaces) into caption text."""
    return "".join(w.text for w in words).strip()
