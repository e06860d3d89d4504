"""A banner inside an assistant message: the reasoning seems to loop; answer now or stop.

Hidden until :meth:`LoopBanner.show_alarm` is called with the detector's
:class:`~app.domain.runaway.LoopAlarm`. A click emits that button's signal once and disables
both buttons; the owner carries the choice out and calls :meth:`dismiss` to hide the banner.

Signals:
    answer_now_requested()   the user wants the model to stop thinking and answer
    stop_requested()         the user wants the turn stopped
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QWidget

from app.domain.runaway import LoopAlarm
from app.ui.plain import plain_label

# Carried by the widget itself, so the banner looks right with or without the app's style.qss.
STYLE = """
QFrame#loopBanner { background: #fff4e5; border: 1px solid #f3c98b; border-radius: 8px; }
QLabel#loopBannerText { color: #7a4a00; }
QLabel#loopBannerIcon { color: #b26a00; font-weight: 700; }
"""


class LoopBanner(QFrame):
    """The reasoning seems to repeat itself: a sentence, then "Answer now" and "Stop"."""

    answer_now_requested = Signal()
    stop_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("loopBanner")
        self.setStyleSheet(STYLE)
        self.alarm: LoopAlarm | None = None
        icon = plain_label("⟳", self)
        icon.setObjectName("loopBannerIcon")
        self.text = plain_label(parent=self)
        self.text.setObjectName("loopBannerText")
        self.text.setWordWrap(True)
        self.answer_button = QPushButton("Answer now", self)
        self.answer_button.setToolTip("End the thinking here and let the model write its answer")
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setToolTip("Stop the turn")
        self.answer_button.clicked.connect(lambda: self._choose(self.answer_now_requested))
        self.stop_button.clicked.connect(lambda: self._choose(self.stop_requested))
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 6, 8, 6)
        row.setSpacing(8)
        row.addWidget(icon, 0, Qt.AlignTop)
        row.addWidget(self.text, 1)
        row.addWidget(self.answer_button, 0, Qt.AlignVCenter)
        row.addWidget(self.stop_button, 0, Qt.AlignVCenter)
        self.hide()

    def show_alarm(self, alarm: LoopAlarm) -> None:
        """Show the alarm's sentence and offer the two ways out."""
        self.alarm = alarm
        # A non-breaking hyphen keeps "42-token" on one line when the sentence wraps.
        self.text.setText(alarm.message.replace(f"{alarm.period}-", f"{alarm.period}\u2011"))
        self.answer_button.setEnabled(True)
        self.stop_button.setEnabled(True)
        self.show()

    def dismiss(self) -> None:
        """Hide the banner (the turn ended, or the user's choice was carried out)."""
        self.hide()

    def _choose(self, signal) -> None:
        self.answer_button.setEnabled(False)
        self.stop_button.setEnabled(False)
        signal.emit()
