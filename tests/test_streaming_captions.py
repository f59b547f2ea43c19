"""The streaming transcriber with the real tiny.en model: partial then final captions, quick
finalisation at a pause, no text from silence or noise, bounded work when it falls behind."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.audio.sources import load_audio_file
from assistant.speech.engines import SpeechRecognizer, Transcription, load_recognizer
from assistant.speech.evaluation import normalise_text
from assistant.speech.live import build_transcriber
from assistant.speech.streaming import StreamingTranscriber
from assistant.speech.types import Word
from tests.helpers.speech import espeak_wav, feed, final_text, silence


@pytest.fixture(scope="module")
def recognizer() -> SpeechRecognizer:
    return load_recognizer("faster-whisper", "tiny.en")


@pytest.fixture
def transcriber(recognizer: SpeechRecognizer) -> StreamingTranscriber:
    return build_transcriber(recognizer)


@pytest.fixture(scope="module")
def sentence(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    path = tmp_path_factory.mktemp("speech") / "sentence.wav"
    espeak_wav("The library opens at nine in the morning and closes at six in the evening.", path)
    return load_audio_file(path)


def test_partial_caption_comes_first_and_is_replaced_by_final_text(
    transcriber: StreamingTranscriber, sentence: np.ndarray
) -> None:
    events = feed(transcriber, np.concatenate([silence(0.5), sentence, silence(1.0)]))
    events += transcriber.finish()
    kinds = [e.kind for e in events if e.text]
    assert "partial" in kinds and "final" in kinds
    assert kinds.index("partial") < kinds.index("final")
    text = normalise_text(final_text(events))
    for word in ("library", "opens", "morning", "closes", "evening"):
        assert word in text
    # final captions carry audio times inside the stream, in order
    finals = [e for e in events if e.kind == "final"]
    assert all(0.5 - 0.35 <= e.start <= e.end <= 0.5 + len(sentence) / 16000 + 0.5 for e in finals)
    assert [e.start for e in finals] == sorted(e.start for e in finals)


def test_utterance_is_final_soon_after_the_speaker_stops(
    transcriber: StreamingTranscriber, sentence: np.ndarray
) -> None:
    # Without calling finish(): 0.8 s of silence after the words must be enough to commit them all.
    events = feed(transcriber, np.concatenate([silence(0.5), sentence, silence(0.8)]))
    assert normalise_text(final_text(events)).endswith("evening")
    assert not [e for e in events if e.kind == "partial" and e.text and e.start > 0.5 + len(sentence) / 16000]


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
    recognizer: SpeechRecognizer, sentence: np.ndarray
) -> None:
    # A clock that says 5 s more have passed than the audio covers: the recogniser is behind.
    now = [0.0]
    transcriber = StreamingTranscriber(recognizer, build_transcriber(recognizer)._vad, clock=lambda: now[0])
    audio = np.concatenate([silence(0.5), sentence, silence(1.0)])
    events = []
    for offset in range(0, len(audio), 1600):
        transcriber.insert_audio(audio[offset : offset + 1600])
        now[0] = offset / 16000 + 5.0
        events += transcriber.process()
    assert transcriber.skipped_partials > 0
    assert transcriber.lag_seconds > 2.0
    assert not [e for e in events if e.kind == "partial" and e.text]
    assert normalise_text(final_text(events)).endswith("evening")


def test_long_speech_without_pauses_keeps_the_window_bounded(
    recognizer: SpeechRecognizer, tmp_path: Path
) -> None:
    text = " ".join(
        ["Reading aloud without stopping is a good test of a streaming captioner because it never pauses"] * 3
    )
    audio = load_audio_file(espeak_wav(text, tmp_path / "long.wav", words_per_minute=190))
    transcriber = build_transcriber(recognizer)
    events = feed(transcriber, audio)
    assert len(audio) / 16000 > 12
    # finals keep coming while the speech goes on, rather than all at the end
    assert len([e for e in events if e.kind == "final"]) >= 3
    events += transcriber.finish()
    assert normalise_text(final_text(events)).count("streaming") >= 2


class LoopsWhenForced:
    """The real recognizer, except that a decode forced to continue a prefix goes off the rails the way
    tiny.en sometimes does (seen after a prefix ending in "and"): a fault the real model shows only now
    and then, so it is injected here."""

    def __init__(self, recognizer: SpeechRecognizer) -> None:
        self._recognizer = recognizer
        self.loops = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self._recognizer, name)

    def transcribe_window(self, audio: np.ndarray, prompt: str = "", prefix: str = "") -> Transcription:
        if not prefix:
            return self._recognizer.transcribe_window(audio, prompt=prompt, prefix=prefix)
        self.loops += 1
        loop = ", and a bit of a bit of a bit of a bit of a good taste."
        seconds = len(audio) / 16000
        pieces = loop.split()
        step = seconds / len(pieces)
        words = tuple(Word(" " + w, i * step, (i + 1) * step, 0.2) for i, w in enumerate(pieces))
        return Transcription(words, loop, no_speech_prob=0.0, avg_logprob=-1.7)


def test_a_continuation_that_goes_off_the_rails_does_not_lose_the_rest_of_the_utterance(
    recognizer: SpeechRecognizer, sentence: np.ndarray
) -> None:
    looping = LoopsWhenForced(recognizer)
    transcriber = build_transcriber(looping)  # type: ignore[arg-type]
    events = feed(transcriber, np.concatenate([silence(0.5), sentence, silence(1.0)]))
    events += transcriber.finish()
    assert looping.loops > 0  # words were committed early, so later decodes were forced to continue them
    text = normalise_text(final_text(events))
    assert "bit of" not in text
    # The words committed before the fault stay; every word after them is still heard.
    for word in ("library", "morning", "closes", "evening"):
        assert word in text
    assert text.endswith("evening")
