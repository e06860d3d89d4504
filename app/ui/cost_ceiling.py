"""Above the composer: the most the next turn can cost, for a cloud model with a thinking budget.

"This turn costs at most $0.0412": the next prompt's tokens (the gauge's preview) at the input
price, plus the thinking budget and the answer's limit at the output price; the tooltip gives
the arithmetic. Hidden for local models, without a budget, and until a prompt was measured; a
model without a price says so. No signals.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QWidget

from app.domain.cost import TurnCeiling, billing_of, thinking_budget, turn_ceiling
from app.domain.profiles import ModelProfile
from app.ui.plain import plain_label, plain_tooltip


class CostCeiling(QWidget):
    """One line: the most the next turn can cost (see the module docstring)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("costCeiling")
        self.setAttribute(Qt.WA_StyledBackground, True)  # paint the style sheet's background
        self.label = plain_label("", self)
        self.label.setObjectName("costCeilingLabel")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 0, 12, 0)
        layout.addWidget(self.label)
        layout.addStretch(1)
        self.label.setAlignment(Qt.AlignLeft | Qt.AlignVCenter)
        self.prompt_tokens: int | None = None
        self.ceiling: TurnCeiling | None = None
        self._turn: tuple[ModelProfile, int | None, int] | None = None
        self.hide()

    def set_prompt(self, prompt_tokens: int) -> None:
        """The next prompt's size, from the gauge's preview."""
        self.prompt_tokens = prompt_tokens
        self._update()

    def set_turn(self, profile: ModelProfile, budget: int | None, max_tokens: int) -> None:
        """The model and limits of the next turn (``budget`` None: the model's own)."""
        self._turn = (profile, budget, max_tokens)
        self._update()

    def _update(self) -> None:
        self.ceiling = None
        if self._turn is None or self.prompt_tokens is None:
            self.hide()
            return
        profile, budget, max_tokens = self._turn
        if billing_of(profile).local or thinking_budget(profile, budget) <= 0:
            self.hide()
            return
        self.ceiling = ceiling = turn_ceiling(profile, self.prompt_tokens, budget, max_tokens)
        if ceiling is None:
            self.label.setText("The most this turn can cost: price unknown")
            self.setToolTip(plain_tooltip("This model has no price in models.toml: add a [model.price] table "
                                          "from the provider's price page to see what a turn can cost."))
        else:
            self.label.setText(ceiling.text())
            self.setToolTip(plain_tooltip(ceiling.arithmetic()))
        self.show()
