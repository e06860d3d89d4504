"""A quiet suggestion above the composer: "this looks like it needs a reasoning model".

Never switches by itself; the button switches only when the user clicks it.

Signals:
    switch_requested(str model_id)
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from app.domain.profiles import ModelProfile
from app.ui.plain import plain_action_text, plain_label


class TaskHintBar(QWidget):
    """Shows a task hint with a one-click switch; hidden when there is nothing to suggest."""

    switch_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("taskHint")
        self.setAttribute(Qt.WA_StyledBackground, True)  # paint the style sheet's background
        self.label = plain_label(parent=self)
        self.label.setObjectName("taskHintText")
        self.label.setWordWrap(True)  # wraps rather than widening the window
        self.button = QPushButton(self)
        self.button.setFlat(True)
        self.button.clicked.connect(lambda: self.target and self.switch_requested.emit(self.target.id))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 0, 12, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button)
        self.target: ModelProfile | None = None
        self.hide()

    def suggest(self, message: str | None, target: ModelProfile | None) -> None:
        self.target = target
        if not message or target is None:
            self.hide()
            return
        self.label.setText(message)
        self.button.setText(plain_action_text(f"Use {target.label}"))
        self.show()
