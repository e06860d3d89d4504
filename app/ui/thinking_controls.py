"""The composer's thinking controls: on/off, a per-turn budget, and a minimum ("Think longer").

The budget offers off / presets / custom and defaults to the model's own budget. For cloud
models the tooltip says how the budget maps to the provider's control. The on/off switch
shows only for models that can switch; the minimum only for local reasoning models.

Signals:
    changed() — any control changed
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QSpinBox, QWidget

from app.domain.profiles import ModelProfile
from app.ui.plain import plain_label, plain_tooltip

PRESETS = (("model", "Budget: model default"), ("0", "No limit"), ("256", "256 tokens"), ("1024", "1,024 tokens"),
           ("4096", "4,096 tokens"), ("16384", "16,384 tokens"), ("custom", "Custom…"))
CLOUD_MAPPING = {
    "anthropic": "Anthropic: sent as thinking.budget_tokens (at least 1,024).",
    "gemini": "Gemini: sent as thinkingConfig.thinkingBudget.",
    "openai": "OpenAI-compatible: sent as reasoning_effort — up to 2,048 tokens low, up to 8,192 medium, "
              "more high.",
    "openai-responses": "OpenAI Responses: sent as reasoning.effort — up to 2,048 tokens low, up to 8,192 "
                        "medium, more high.",
}


class ThinkingControls(QWidget):
    """Thinking on/off, budget and minimum for the next turn."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("thinkingControls")
        self.setAttribute(Qt.WA_StyledBackground, True)  # paint the style sheet's background
        self.thinking_box = QCheckBox("Thinking", self)
        self.thinking_box.setChecked(True)
        self.thinking_box.setToolTip("Let the model think before it answers (models that can switch)")
        self.budget_box = QComboBox(self)
        for data, text in PRESETS:
            self.budget_box.addItem(text, data)
        self.custom = QSpinBox(self)
        self.custom.setRange(16, 1_000_000)
        self.custom.setSingleStep(256)
        self.custom.setValue(2048)
        self.custom.setSuffix(" tokens")
        self.custom.hide()
        self.min_label = plain_label("at least", self)
        self.minimum = QSpinBox(self)
        self.minimum.setRange(0, 1_000_000)
        self.minimum.setSingleStep(64)
        self.minimum.setSpecialValueText("no minimum")
        self.minimum.setToolTip("Think longer: if the model ends its thinking sooner, Ponder makes it go on "
                                "(it replaces the end with “Wait,”)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 0, 12, 0)
        for w in (self.thinking_box, self.budget_box, self.custom, self.min_label, self.minimum):
            layout.addWidget(w)
        layout.addStretch(1)
        self.thinking_box.toggled.connect(self._on_change)
        self.budget_box.currentIndexChanged.connect(self._on_change)
        self.custom.valueChanged.connect(self._on_change)
        self.minimum.valueChanged.connect(self._on_change)
        self.profile: ModelProfile | None = None

    def set_model(self, profile: ModelProfile, *, switchable: bool, reasons: bool) -> None:
        """Show the controls that apply to ``profile``."""
        self.profile = profile
        default = profile.reasoning.budget if profile.reasoning else 0
        self.budget_box.setItemText(0, f"Budget: model default ({default:,})" if default else
                                    "Budget: model default (none)")
        self.thinking_box.setVisible(switchable)
        self.budget_box.setVisible(reasons)
        self.custom.setVisible(reasons and self.budget_box.currentData() == "custom")
        local = profile.is_local
        self.min_label.setVisible(reasons and local)
        self.minimum.setVisible(reasons and local)
        self.budget_box.setToolTip(plain_tooltip(
            CLOUD_MAPPING.get(profile.backend, "") if profile.is_cloud else
            "When the thinking reaches the budget, Ponder ends it and the model answers."))

    # -- values for the next turn -----------------------------------------------------------
    def budget(self) -> int | None:
        """None: the model's default; 0: no limit; else the tokens."""
        if self.budget_box.isHidden():
            return None
        data = self.budget_box.currentData()
        if data == "model":
            return None
        return self.custom.value() if data == "custom" else int(data)

    def thinking(self) -> bool | None:
        return None if self.thinking_box.isHidden() or self.thinking_box.isChecked() else False

    def min_thinking(self) -> int:
        return 0 if self.minimum.isHidden() else self.minimum.value()

    def _on_change(self, *_args) -> None:
        self.custom.setVisible(not self.budget_box.isHidden() and self.budget_box.currentData() == "custom")
        self.changed.emit()
