"""Where the user writes: a text box with Send and Stop.

Enter sends, Shift+Enter starts a new line; the Stop button (and Esc, wired by the window)
stops the running turn. The box stays editable while the model answers, so the next
message can be written meanwhile.

Signals:
    send_requested(str text)
    stop_requested()
    answer_now_requested()   end the thinking now and let the model answer
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget


class ComposerEdit(QPlainTextEdit):
    """A plain text box where Enter submits."""

    submitted = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() in (Qt.Key_Return, Qt.Key_Enter) and not event.modifiers() & Qt.ShiftModifier:
            self.submitted.emit()
            return
        super().keyPressEvent(event)


class Composer(QWidget):
    """Text box plus Send/Stop buttons."""

    send_requested = Signal(str)
    stop_requested = Signal()
    answer_now_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("composer")
        self.setAttribute(Qt.WA_StyledBackground, True)  # paint the style sheet's background
        self.edit = ComposerEdit(self)
        self.edit.setPlaceholderText("Ask anything…  (Enter to send, Shift+Enter for a new line)")
        self.edit.setTabChangesFocus(True)
        self.edit.setFixedHeight(72)
        self.edit.setObjectName("composerEdit")
        self.send_button = QPushButton("Send", self)
        self.send_button.setDefault(True)
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setToolTip("Stop generating (Esc)")
        self.stop_button.setEnabled(False)
        self.answer_now_button = QPushButton("Answer now", self)
        self.answer_now_button.setToolTip("End the thinking here and let the model answer")
        self.answer_now_button.hide()
        self.answer_now_button.clicked.connect(self.answer_now_requested)
        buttons = QVBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.answer_now_button)
        buttons.addWidget(self.stop_button)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 10)
        layout.addWidget(self.edit, 1)
        layout.addLayout(buttons)
        self.edit.submitted.connect(self._submit)
        self.send_button.clicked.connect(self._submit)
        self.stop_button.clicked.connect(self.stop_requested)
        self._busy = False

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.send_button.setEnabled(not busy)
        self.stop_button.setEnabled(busy)
        if not busy:
            self.set_thinking(False)

    def set_thinking(self, thinking: bool) -> None:
        """Show "Answer now" while the model is thinking."""
        self.answer_now_button.setVisible(thinking)
        self.send_button.setVisible(not thinking)

    def _submit(self) -> None:
        text = self.edit.toPlainText().strip()
        if not text or self._busy:
            return
        self.send_requested.emit(text)
        self.edit.clear()
