"""Plain data that flows out of the sound detectors: alert events, and the names of the alarms."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

SMOKE_ALARM = "smoke alarm"
"""The T3 pattern (ISO 8201, NFPA 72): smoke and fire alarms."""
CO_ALARM = "carbon monoxide alarm"
"""The T4 pattern: carbon-monoxide alarms."""
CRITICAL_SOUNDS = frozenset({SMOKE_ALARM, CO_ALARM})
"""Always announced at the highest priority, never snoozed longer than the user confirms."""

DetectorKind = Literal["pattern", "taught", "classifier"]
AlertKind = Literal["alert", "ended"]


@dataclass(frozen=True)
class AlertEvent:
    """A sound was recognised (`kind` "alert"), or a sound that was alerted on has stopped ("ended").

    `sound` is "smoke alarm", "carbon monoxide alarm", the name of a taught sound, or a classifier label.
    `start` is the audio second the sound began, `at` the audio second the alert was raised (the delay
    is `at - start`), `end` (on "ended" events) the audio second it was last heard. `t_emit` is wall
    seconds since the first audio sample arrived, filled in by whatever runs the detectors live.
    """

    sound: str
    start: float
    at: float
    confidence: float
    detector: DetectorKind
    kind: AlertKind = "alert"
    end: float | None = None
    t_emit: float = 0.0

    @property
    def critical(self) -> bool:
        """Smoke and carbon-monoxide alarms: highest priority, never snoozed without confirmation."""
        return self.sound in CRITICAL_SOUNDS

    def stamped(self, t_emit: float) -> AlertEvent:
        return replace(self, t_emit=t_emit)

    def to_json_dict(self) -> dict[str, object]:
        """The `assistant alerts --json` line: an alert object, or a status object for an ended sound."""
        if self.kind == "alert":
            return {
                "type": "alert",
                "sound": self.sound,
                "start": round(self.start, 3),
                "at": round(self.at, 3),
                "t_emit": round(self.t_emit, 3),
                "confidence": round(self.confidence, 3),
            }
        return {
            "type": "status",
            "status": "sound ended",
            "sound": self.sound,
            "start": round(self.start, 3),
            "end": round(self.end if self.end is not None else self.at, 3),
            "t_emit": round(self.t_emit, 3),
        }
