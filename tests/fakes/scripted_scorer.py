"""A `FrameScorer` whose scores the test scripts frame by frame.

It stands for `ContrastiveScorer` (SigLIP/CLIP): a test double for the model's scores, so the finder's
decision logic (relative scoring, confirmation, lost, position) can be checked on exact numbers. The
frames themselves are ignored; each `score` call takes the next scripted entry.
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.vision.finder import FrameScore, PreparedQuery, clean_query
from assistant.vision.image import Frame


class ScriptedScorer:
    model_name = "scripted"

    def __init__(self, matches: Sequence[float], columns: Sequence[tuple[float, float, float]] = ()) -> None:
        self.matches = list(matches)
        self.columns = list(columns) or [(0.0, 0.0, 0.0)]
        self.calls: list[bool] = []
        """`with_position` of each call, in order."""

    def prepare(self, query: str) -> PreparedQuery:
        return PreparedQuery(clean_query(query), None)

    def score(self, frame: Frame, query: PreparedQuery, *, with_position: bool = False) -> FrameScore:
        index = min(len(self.calls), len(self.matches) - 1)
        self.calls.append(with_position)
        if not with_position:
            return FrameScore(self.matches[index])
        return FrameScore(self.matches[index], self.columns[min(index, len(self.columns) - 1)])
