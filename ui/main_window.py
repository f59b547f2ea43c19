"""The main window: camera preview, the latest description and its history, live captions and status.

Only widgets live here. What the commands do is in `ui/controller.py`; the window shows what it is given
through its `show_*` slots. Tab order runs question → Ask → description → history → captions → status.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent, QFont, QImage, QPixmap, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMainWindow,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from assistant.speech.caption_lines import CaptionLines, starts_with_punctuation
from assistant.speech.types import CaptionEvent, CharSpan
from ui.appearance import softened

# Focus must always be visible, in every theme: a thick outline in the theme's highlight colour.
_FOCUS_STYLE = """
QLineEdit:focus, QPlainTextEdit:focus, QTextEdit:focus, QListWidget:focus, QPushButton:focus {
    border: 3px solid palette(highlight);
}
"""
MAX_HISTORY = 200


class MainWindow(QMainWindow):
    question_asked = Signal(str)
    closing = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("main_window")
        self.setWindowTitle("Assistant")
        self.setAccessibleName("Assistant")
        self.setStyleSheet(_FOCUS_STYLE)
        self.statusBar().setSizeGripEnabled(False)  # an unnamed, useless stop for a screen reader
        self.captions = CaptionLines()
        self._partial_from: int | None = None  # where the partial text starts in the captions view

        self.preview = QLabel("No camera picture")
        self.preview.setObjectName("camera_preview")
        self.preview.setAccessibleName("Camera preview")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(240, 180)

        self.question = QLineEdit()
        self.question.setObjectName("question")
        self.question.setAccessibleName("Question about the picture")
        self.question.setPlaceholderText("Type a question about what the camera sees, then press Enter")
        self.ask_button = QPushButton("&Ask")
        self.ask_button.setObjectName("ask_button")
        self.ask_button.setAccessibleName("Ask")
        self.ask_button.setAccessibleDescription("Ask the question about what the camera sees")

        self.description = QPlainTextEdit()
        self.description.setObjectName("description")
        self.description.setAccessibleName("Latest description")
        self.description.setReadOnly(True)
        self.description.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByKeyboard | Qt.TextInteractionFlag.TextSelectableByMouse
        )
        self.history = QListWidget()
        self.history.setObjectName("history")
        self.history.setAccessibleName("Description history")
        self.history.setAccessibleDescription("Earlier descriptions, newest first")
        self.history.setWordWrap(True)  # a description is read whole, not cut at the edge

        self.caption_view = QTextEdit()
        self.caption_view.setObjectName("captions")
        self.caption_view.setAccessibleName("Live captions")
        self.caption_view.setAccessibleDescription(
            "Final captions; text still being recognised is in italics"
        )
        self.caption_view.setReadOnly(True)
        self.caption_view.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByKeyboard | Qt.TextInteractionFlag.TextSelectableByMouse
        )
        self.status_list = QListWidget()
        self.status_list.setObjectName("status")
        self.status_list.setAccessibleName("Status messages")
        self.status_list.setAccessibleDescription("What is listening, loading or missing, newest first")
        self.status_list.setMaximumHeight(120)
        self.status_list.setWordWrap(True)

        self.alert_banner = QLabel()
        self.alert_banner.setObjectName("alert_banner")
        self.alert_banner.setAccessibleName("Sound alert")
        self.alert_banner.setWordWrap(True)
        # Black on yellow (19.6:1), large and bold, with a border: seen at a glance, not by colour alone.
        self.alert_banner.setStyleSheet(
            "QLabel#alert_banner { background: #ffd800; color: #000000; font-size: 28pt; font-weight: bold;"
            " border: 4px solid #000000; padding: 8px; }"
        )
        self.alert_banner.hide()
        self.sound_history = QListWidget()
        self.sound_history.setObjectName("sound_history")
        self.sound_history.setAccessibleName("Sound history")
        self.sound_history.setAccessibleDescription(
            "Sounds the assistant heard, when and for how long, newest first"
        )
        self.sound_history.setMaximumHeight(100)
        self.sound_history.setWordWrap(True)

        self._build_layout()
        self.question.returnPressed.connect(self._on_question_submitted)
        self.ask_button.clicked.connect(self._on_question_submitted)

    def _build_layout(self) -> None:
        ask_row = QHBoxLayout()
        ask_row.addWidget(self.question, 1)
        ask_row.addWidget(self.ask_button)
        vision = QWidget()
        vision_layout = QVBoxLayout(vision)
        vision_layout.addWidget(self.preview)
        vision_layout.addLayout(ask_row)
        vision_layout.addWidget(_heading("Description", self.description))
        vision_layout.addWidget(self.description, 1)
        vision_layout.addWidget(_heading("History", self.history))
        vision_layout.addWidget(self.history, 1)
        captions = QWidget()
        captions_layout = QVBoxLayout(captions)
        captions_layout.addWidget(_heading("Captions", self.caption_view))
        captions_layout.addWidget(self.caption_view, 1)
        captions_layout.addWidget(_heading("Sound history", self.sound_history))
        captions_layout.addWidget(self.sound_history)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(vision)
        splitter.addWidget(captions)
        splitter.setStretchFactor(1, 1)
        splitter.handle(1).setAccessibleName("Divider between the description and the captions")
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.alert_banner)
        layout.addWidget(splitter, 1)
        layout.addWidget(_heading("Status", self.status_list))
        layout.addWidget(self.status_list)
        self.setCentralWidget(central)
        order = [
            self.question,
            self.ask_button,
            self.description,
            self.history,
            self.caption_view,
            self.sound_history,
            self.status_list,
        ]
        for first, second in zip(order, order[1:], strict=False):
            QWidget.setTabOrder(first, second)
        self.resize(1000, 700)

    # -- what the controller shows -------------------------------------------------------------------

    def show_alert(self, text: str) -> None:
        """The banner: the sound and when, and the keys (Settings, Shortcuts can change them)."""
        self.alert_banner.setText(f"{text} — dismiss: Control Shift J, snooze: Control Shift Z")
        self.alert_banner.show()

    def hide_alert(self) -> None:
        self.alert_banner.hide()

    def add_sound_history(self, line: str) -> None:
        self.sound_history.insertItem(0, line)
        while self.sound_history.count() > MAX_HISTORY:
            self.sound_history.takeItem(self.sound_history.count() - 1)

    @Slot(str)
    def show_description(self, text: str) -> None:
        self.description.setPlainText(text)
        self.history.insertItem(0, f"{time.strftime('%H:%M:%S')}  {text}")
        while self.history.count() > MAX_HISTORY:
            self.history.takeItem(self.history.count() - 1)

    @Slot(object)
    def show_caption(self, event: CaptionEvent) -> None:
        """Append to the captions view, never rewrite it: a screen reader reviewing earlier lines with the
        arrow keys keeps its place, and the view follows new text only while it is scrolled to the end."""
        started, last = self.captions.started, self.captions.last_line
        self.captions.apply(event)
        bar = self.caption_view.verticalScrollBar()
        following = bar.value() >= bar.maximum() - 4
        cursor = QTextCursor(self.caption_view.document())  # not the view's own caret
        cursor.beginEditBlock()
        if self._partial_from is not None:  # the old partial goes; what replaces it comes below
            cursor.setPosition(self._partial_from)
            cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
            cursor.removeSelectedText()
            self._partial_from = None
        cursor.movePosition(QTextCursor.MoveOperation.End)
        line, unsure = self.captions.last_line, self.captions.last_unsure
        if self.captions.started != started:
            if started:
                cursor.insertBlock()
            _insert_marked(cursor, line, unsure, self._final_format())
        elif line != last:
            added = tuple((start - len(last), end - len(last)) for start, end in unsure if start >= len(last))
            _insert_marked(cursor, line[len(last) :], added, self._final_format())
        if self.captions.partial:
            self._partial_from = cursor.position()
            if not self.captions.partial_joins and self.captions.lines:
                cursor.insertBlock()
            elif self.captions.lines and not starts_with_punctuation(self.captions.partial):
                cursor.insertText(" ", self._final_format())
            _insert_marked(
                cursor, self.captions.partial, self.captions.partial_unsure, self._partial_format()
            )
        cursor.endEditBlock()
        if following:
            bar.setValue(bar.maximum())

    def _final_format(self) -> QTextCharFormat:
        plain = QTextCharFormat()
        plain.setForeground(self.caption_view.palette().text().color())
        return plain

    def _partial_format(self) -> QTextCharFormat:
        palette = self.caption_view.palette()
        italic = QTextCharFormat()
        italic.setFontItalic(True)
        italic.setForeground(softened(palette.text().color(), palette.base().color()))
        return italic

    @Slot(str)
    def show_status(self, message: str) -> None:
        self.status_list.insertItem(0, f"{time.strftime('%H:%M:%S')}  {message}")
        while self.status_list.count() > MAX_HISTORY:
            self.status_list.takeItem(self.status_list.count() - 1)
        self.statusBar().showMessage(message)

    @Slot(QImage)
    def show_preview(self, image: QImage) -> None:
        if self.preview.isVisible():
            self.preview.setPixmap(
                QPixmap.fromImage(image).scaled(
                    self.preview.size(),
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.FastTransformation,
                )
            )

    def set_preview_visible(self, visible: bool) -> None:
        self.preview.setVisible(visible)

    def set_caption_size(self, points: int) -> None:
        font = QFont(self.caption_view.font())
        font.setPointSize(max(8, points))
        self.caption_view.setFont(font)

    def focus_question(self) -> None:
        self.question.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.question.selectAll()

    # -- events --------------------------------------------------------------------------------------

    def _on_question_submitted(self) -> None:
        text = self.question.text().strip()
        if text:
            self.question_asked.emit(text)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        self.closing.emit()
        super().closeEvent(event)


def _heading(text: str, buddy: QWidget) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    label.setBuddy(buddy)
    return label


def _insert_marked(
    cursor: QTextCursor, text: str, unsure: tuple[CharSpan, ...], base: QTextCharFormat
) -> None:
    """Insert `text` in `base`, its unsure spans with a wavy underline as well (a spell checker's mark
    for "may be wrong", seen without telling colours apart)."""
    marked = QTextCharFormat(base)
    marked.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
    at = 0
    for start, end in sorted(unsure):
        if start < at:
            continue
        cursor.insertText(text[at:start], base)
        cursor.insertText(text[start:end], marked)
        at = end
    cursor.insertText(text[at:], base)
