"""The caption overlay: a frameless, always-on-top window showing the last lines of captions.

Its look (font, size, colours, line count, opacity) comes from `Settings`. It moves with the arrow keys
and resizes with Shift+arrows (Ctrl makes either step finer) as well as by mouse (drag it; the grip in
the corner resizes), and it remembers where it was.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal, Slot
from PySide6.QtGui import QFont, QKeyEvent, QMouseEvent, QMoveEvent, QResizeEvent
from PySide6.QtWidgets import QApplication, QLabel, QSizeGrip, QVBoxLayout, QWidget

from assistant.speech.caption_lines import CaptionLines
from assistant.speech.types import CaptionEvent
from ui.appearance import preset, softened
from ui.captions import caption_html
from ui.settings import Key, Settings

STEP = 20
FINE_STEP = 2
_KEYS_HELP = (
    "Arrow keys move it, Shift with arrow keys resizes it, Control makes the steps finer, Escape goes back."
)


class CaptionOverlay(QWidget):
    escaped = Signal()  # Escape: the keyboard goes back to the main window

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            None,
            Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint | Qt.WindowType.Tool,
        )
        self._settings = settings
        self.captions = CaptionLines()
        self._drag_from: QPoint | None = None
        self.setObjectName("caption_overlay")
        self.setWindowTitle("Captions")
        self.setAccessibleName("Caption overlay")
        self.setAccessibleDescription(_KEYS_HELP)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.label = QLabel(self)
        self.label.setObjectName("overlay_text")
        self.label.setAccessibleName("Captions")
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom)
        self.grip = QSizeGrip(self)
        self.grip.setAccessibleName("Resize caption overlay")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.grip, 0, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom)
        self.apply_settings()
        self._place()

    # -- look ----------------------------------------------------------------------------------------

    def apply_settings(self) -> None:
        text, background = preset(str(self._settings.get(Key.OVERLAY_PRESET)))
        self._text, self._partial = text, softened(text, background)
        font = QFont(str(self._settings.get(Key.OVERLAY_FONT)))
        font.setPointSize(int(self._settings.get(Key.OVERLAY_SIZE)))
        self.label.setFont(font)
        self.setStyleSheet(
            f"QWidget#caption_overlay {{ background: {background.name()}; }}"
            f"QWidget#caption_overlay:focus {{ border: 3px solid {text.name()}; }}"
        )
        self.setWindowOpacity(float(self._settings.get(Key.OVERLAY_OPACITY)))
        self.render_captions()

    def _place(self) -> None:
        geometry = self._settings.overlay_geometry()
        if geometry is not None and self._settings.get(Key.OVERLAY_POSITION) == "remembered":
            self.restoreGeometry(geometry)
            return
        screen = QApplication.primaryScreen()
        area = screen.availableGeometry() if screen is not None else None
        lines = int(self._settings.get(Key.OVERLAY_LINES))
        height = int(self.label.fontMetrics().lineSpacing() * lines + 40)
        if area is None:
            self.resize(800, height)
            return
        width = int(area.width() * 0.8)
        top = (
            area.top() + 20
            if self._settings.get(Key.OVERLAY_POSITION) == "top"
            else area.bottom() - height - 20
        )
        self.setGeometry(area.left() + (area.width() - width) // 2, top, width, height)

    # -- captions ------------------------------------------------------------------------------------

    @Slot(object)
    def on_caption(self, event: CaptionEvent) -> None:
        """The slot the caption worker's signal feeds (directly, or through the main window)."""
        self.captions.apply(event)
        self.render_captions()

    def render_captions(self) -> None:
        lines = self._settings.get(Key.OVERLAY_LINES)
        self.label.setText(caption_html(self.captions, lines, self._text, self._partial))
        # The caption text as plain words for a screen reader that lands on the overlay (finals only, so
        # it does not change under the reader with every partial).
        shown = " ".join(self.captions.lines[-lines:])
        if shown != self.label.accessibleDescription():
            self.label.setAccessibleDescription(shown)
            self.setAccessibleDescription(f"{shown} — {_KEYS_HELP}" if shown else _KEYS_HELP)

    def take_focus(self) -> None:
        """Move the keyboard here (a screen reader then reads the captions); Escape goes back."""
        self.show()
        self.raise_()
        self.activateWindow()
        self.setFocus(Qt.FocusReason.ShortcutFocusReason)

    # -- keyboard and mouse --------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt's name)
        moves = {
            Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0),
            Qt.Key.Key_Up: (0, -1), Qt.Key.Key_Down: (0, 1),
        }  # fmt: skip
        key = Qt.Key(event.key())
        if key == Qt.Key.Key_Escape:
            self.escaped.emit()
            return
        if key not in moves:
            super().keyPressEvent(event)
            return
        dx, dy = moves[key]
        step = FINE_STEP if event.modifiers() & Qt.KeyboardModifier.ControlModifier else STEP
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.resize(max(200, self.width() + dx * step), max(40, self.height() + dy * step))
        else:
            self.move(self.x() + dx * step, self.y() + dy * step)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            self._drag_from = event.globalPosition().toPoint() - self.frameGeometry().topLeft()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._drag_from is not None:
            self.move(event.globalPosition().toPoint() - self._drag_from)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._drag_from = None

    def moveEvent(self, event: QMoveEvent) -> None:  # noqa: N802
        super().moveEvent(event)
        self._remember()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._remember()

    def _remember(self) -> None:
        if self.isVisible():
            self._settings.set_overlay_geometry(self.saveGeometry())
            self._settings.set(Key.OVERLAY_POSITION, "remembered")
