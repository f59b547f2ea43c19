"""Measuring recognition: word error rate, speech clips with references, and a captioning stream made
of clips with silence between them. Used by the tests and by `bench/captions_latency.py`."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache, reduce
from pathlib import Path

import numpy as np

from assistant.audio.source import SAMPLE_RATE, AudioArray
from assistant.speech.caption_lines import join_text


@lru_cache(maxsize=1)
def _normaliser() -> Callable[[str], str]:
    # Whisper's English normaliser: lower case, no punctuation, "mister" → "mr", numbers as digits.
    from whisper.normalizers import EnglishTextNormalizer

    normaliser: Callable[[str], str] = EnglishTextNormalizer()
    return normaliser


def normalise_text(text: str) -> str:
    return " ".join(_normaliser()(text).split())


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(edit distance in words, number of reference words), both sides normalised."""
    ref = normalise_text(reference).split()
    hyp = normalise_text(hypothesis).split()
    previous = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, start=1):
        current = [i] + [0] * len(hyp)
        for j, hyp_word in enumerate(hyp, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word))
        previous = current
    return previous[-1], len(ref)


def word_error_rate(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """Corpus WER: total word edits over total reference words."""
    errors = words = 0
    for reference, hypothesis in zip(references, hypotheses, strict=True):
        e, n = word_errors(reference, hypothesis)
        errors += e
        words += n
    return errors / max(1, words)


@dataclass(frozen=True)
class SpeechClip:
    path: Path
    reference: str
    audio: AudioArray

    @property
    def seconds(self) -> float:
        return len(self.audio) / SAMPLE_RATE


def load_clips(folder: Path, limit: int | None = None) -> list[SpeechClip]:
    """The clips listed in `folder/transcripts.json`, decoded to 16 kHz mono."""
    from assistant.audio.sources import load_audio_file

    entries = json.loads((folder / "transcripts.json").read_text(encoding="utf-8"))
    clips = []
    for entry in entries[:limit]:
        path = folder / entry["file"]
        clips.append(SpeechClip(path, entry["reference"], load_audio_file(path)))
    return clips


@dataclass(frozen=True)
class Stream:
    audio: AudioArray
    spans: tuple[tuple[float, float], ...]  # (start, end) seconds of each clip in the stream
    references: tuple[str, ...]

    @property
    def speech_seconds(self) -> float:
        return sum(end - start for start, end in self.spans)


def build_stream(clips: Sequence[SpeechClip], gap_seconds: float = 1.0) -> Stream:
    """Clips one after another with `gap_seconds` of silence before, between and after them."""
    gap = np.zeros(int(gap_seconds * SAMPLE_RATE), dtype=np.float32)
    parts: list[AudioArray] = [gap]
    spans = []
    position = gap_seconds
    for clip in clips:
        parts += [clip.audio, gap]
        spans.append((position, position + clip.seconds))
        position += clip.seconds + gap_seconds
    return Stream(np.concatenate(parts), tuple(spans), tuple(c.reference for c in clips))


def assign_to_spans(
    stream: Stream, finals: Sequence[tuple[float, float, str]], slack: float = 0.6
) -> list[str]:
    """The final caption text that falls within each clip's span (by the caption's start time), joined
    as the caption window joins it (no space before a comma)."""
    texts = []
    for start, end in stream.spans:
        pieces = [text for s, _e, text in finals if start - slack <= s < end + slack]
        texts.append(reduce(join_text, pieces, ""))
    return texts
