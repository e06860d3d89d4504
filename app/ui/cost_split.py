"""The trace viewer's cost line: what a cloud answer's thinking, answer and input cost, and how
much of the input was the earlier turns sent again (the arithmetic in the tooltip).

Hidden for local models; "price unknown" for a cloud model without a price. No signals.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.domain.cost import (UNKNOWN, Billing, Cost, arithmetic_text, estimate_question_tokens, message_billing,
                             split_text, turn_cost)
from app.domain.messages import AssistantMessage
from app.ui.plain import plain_label, plain_tooltip


class CostSplit(QWidget):
    """One wrapped line of a message's cost split (see the module docstring)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("costSplit")
        self.label = plain_label("", self)
        self.label.setObjectName("costSplitLabel")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        self.cost: Cost | None = None
        self.hide()

    def show_cost(self, message: AssistantMessage, billing: Billing | None, question: str = "",
                  earlier_turns: bool = True) -> None:
        """Show what ``message`` cost; ``question`` is the user message it answered (its length
        is left out of the earlier turns' share), ``earlier_turns`` False for a first turn."""
        billing = billing or message_billing(message, {})
        self.cost = None
        if billing.local:
            self.hide()
            return
        self.cost = turn_cost(message, billing.price, question_tokens=estimate_question_tokens(question),
                              earlier_turns=earlier_turns)
        if self.cost is None:
            self.label.setText(f"Cost: {UNKNOWN} (no [model.price] for this model in models.toml)")
            self.setToolTip("")
        else:
            self.label.setText(split_text(self.cost))
            self.setToolTip(plain_tooltip(arithmetic_text(self.cost, billing.model_id)))
        self.show()
