"""A plain window full of text, standing in for another program the user works in (a document viewer, a
chat): `python -m tests.helpers.text_window TITLE WIDTHxHEIGHT` shows it on $DISPLAY with large, dark
text on white, in lines and paragraphs, until it is closed or terminated. The lines are `TEXT_LINES`, so
a test knows what reading it should give.
"""

from __future__ import annotations

import signal
import sys

TEXT_LINES = (
    "Invoice number 4711",
    "Payment is due within thirty days.",
    "Please transfer the total amount",
    "to the account shown below.",
    "Thank you for your order.",
)


def main(argv: list[str]) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QFont
    from PySide6.QtWidgets import QApplication, QLabel

    title = argv[1] if len(argv) > 1 else "Invoice.pdf — Document Viewer"
    width, height = (int(n) for n in (argv[2] if len(argv) > 2 else "1280x800").split("x"))
    app = QApplication(argv[:1])
    label = QLabel("\n\n".join(TEXT_LINES))
    label.setWindowTitle(title)
    label.setStyleSheet("background: white; color: black; padding: 40px;")
    label.setFont(QFont("DejaVu Sans", 28))
    label.resize(width, height)
    label.show()
    signal.signal(signal.SIGTERM, lambda *_: app.quit())
    heartbeat = QTimer()
    heartbeat.start(200)  # lets Python run its signal handler
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main(sys.argv))
