"""Colours the user reads: high-contrast caption presets and the WCAG contrast check behind them."""

from __future__ import annotations

from PySide6.QtGui import QColor

# name: (text, background). Every pair is far above WCAG AA (4.5:1); the test checks it.
PRESETS: dict[str, tuple[str, str]] = {
    "white on black": ("#ffffff", "#000000"),
    "yellow on black": ("#ffff00", "#000000"),
    "black on white": ("#000000", "#ffffff"),
    "black on yellow": ("#000000", "#ffff00"),
    "green on black": ("#00ff66", "#000000"),
}
WCAG_AA = 4.5


def preset(name: str) -> tuple[QColor, QColor]:
    text, background = PRESETS.get(name, PRESETS["white on black"])
    return QColor(text), QColor(background)


def _luminance(colour: QColor) -> float:
    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF()) + 0.0722 * channel(colour.blueF())
    )


def contrast_ratio(a: QColor, b: QColor) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def softened(text: QColor, background: QColor, minimum: float = WCAG_AA) -> QColor:
    """`text` blended toward `background` as far as it can go while keeping `minimum` contrast: how
    partial (not yet final) caption text looks different without becoming hard to read."""
    best = QColor(text)
    for step in range(1, 10):
        mix = step / 10
        candidate = QColor.fromRgbF(
            text.redF() * (1 - mix) + background.redF() * mix,
            text.greenF() * (1 - mix) + background.greenF() * mix,
            text.blueF() * (1 - mix) + background.blueF() * mix,
        )
        if contrast_ratio(candidate, background) < minimum:
            break
        best = candidate
    return best
