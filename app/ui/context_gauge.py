"""The context-budget gauge: a segmented bar of what fills the model's context window.

Segments: system prompt, earlier turns, reasoning carried from earlier turns, tools (the
schemas of the tools offered plus what the tool rounds added: results and their markup),
this turn's reasoning, this turn's answer, free. Each has its own colour; the tooltip (the
legend: one line per segment, the tools line split into schemas and results) and the label
give exact numbers. While the model thinks, a forecast turns the gauge to a warning when the
reasoning will fill the window before an answer can start.

Signals:
    carry_changed(str policy) — the user picked another policy for earlier reasoning
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QVBoxLayout, QWidget

from app.domain.context_budget import SEGMENTS, ContextUsage, Forecast
from app.ui.plain import plain_label, plain_tooltip

COLOURS = {
    "system": QColor("#8c96a3"),
    "history": QColor("#5b8def"),
    "carried_reasoning": QColor("#b39ddb"),
    "tools": QColor("#f5a623"),
    "reasoning": QColor("#7e57c2"),
    "answer": QColor("#43a047"),
    "free": QColor("#e6e9ee"),
}
WARNING = QColor("#e65100")


class GaugeBar(QWidget):
    """The bar itself; paints one rectangle per segment (cheap: seven rectangles)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("gaugeBar")
        self.setFixedHeight(10)
        self.setMinimumWidth(160)
        self.usage: ContextUsage | None = None
        self.warning = False

    def segment_widths(self) -> dict[str, float]:
        """Pixel width of each segment at the current size (for painting and tests)."""
        if not self.usage or not self.usage.n_ctx:
            return {}
        width = float(self.width())
        return {key: width * self.usage.tokens(key) / self.usage.n_ctx for key, _ in SEGMENTS}

    def paintEvent(self, _event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setPen(Qt.NoPen)
        x = 0.0
        for key, w in self.segment_widths().items():
            colour = COLOURS[key]
            if self.warning and key == "reasoning":
                colour = WARNING
            painter.setBrush(colour)
            painter.drawRect(QRectF(x, 0, w, self.height()))
            x += w
        if self.warning:
            painter.setPen(WARNING)
            painter.setBrush(Qt.NoBrush)
            painter.drawRect(QRectF(0.5, 0.5, self.width() - 1, self.height() - 1))
        painter.end()


class ContextGauge(QWidget):
    """Bar + a short label ("1,204 / 8,192 tokens") + the carry-policy control; the forecast's
    warning, when there is one, on a wrapped line below."""

    carry_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("contextGauge")
        self.setAttribute(Qt.WA_StyledBackground, True)  # paint the style sheet's background
        self.bar = GaugeBar(self)
        self.label = plain_label("", self)
        self.label.setObjectName("gaugeLabel")
        self.carry = QComboBox(self)
        self.carry.setObjectName("carryPolicy")
        for policy, text in (("strip", "Drop earlier thinking"), ("keep-last", "Keep last thinking"),
                             ("keep-all", "Keep all thinking")):
            self.carry.addItem(text, policy)
        self.carry.setToolTip("What earlier turns' reasoning does in the next prompt")
        self.carry.activated.connect(lambda i: self.carry_changed.emit(self.carry.itemData(i)))
        # the forecast's sentence goes on a line of its own that wraps: in the row it would
        # make the window wider the moment it appears
        self.warning_label = plain_label("", self)
        self.warning_label.setObjectName("gaugeWarning")
        self.warning_label.setWordWrap(True)
        self.warning_label.hide()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(8)
        row.addWidget(plain_label("Context", self))
        row.addWidget(self.bar, 1)
        row.addWidget(self.label)
        row.addWidget(self.carry)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 2, 12, 2)
        layout.setSpacing(0)
        layout.addLayout(row)
        layout.addWidget(self.warning_label)
        self.usage: ContextUsage | None = None
        self.forecast = Forecast(False)
        self.saving_note = ""

    def set_carry(self, policy: str) -> None:
        index = self.carry.findData(policy)
        if index >= 0:
            self.carry.setCurrentIndex(index)

    def set_usage(self, usage: ContextUsage | None, forecast: Forecast | None = None, *, preview: bool = False) -> None:
        self.usage = usage
        self.forecast = forecast or Forecast(False)
        self.bar.usage = usage
        self.bar.warning = self.forecast.warning
        if usage is None:
            self.label.setText("")
            self.warning_label.hide()
            self.setToolTip("")
        else:
            approx = "~" if usage.estimated else ""
            text = f"{approx}{usage.used:,} / {usage.n_ctx:,} tokens"
            if preview:
                text = "next prompt " + text
            self.label.setText(text)
            self.warning_label.setText(self.forecast.message if self.forecast.warning else "")
            self.warning_label.setVisible(self.forecast.warning)
            self.label.setProperty("warning", self.forecast.warning)
            self.label.style().unpolish(self.label)
            self.label.style().polish(self.label)
            lines = [usage.describe(key) for key, _ in SEGMENTS]
            if self.saving_note:
                lines.append(self.saving_note)
            self.setToolTip(plain_tooltip("\n".join(lines)))
            self.bar.setToolTip(plain_tooltip("\n".join(lines)))
        self.bar.update()

    def set_saving_note(self, note: str) -> None:
        """E.g. "dropping earlier thinking saves 3,412 tokens"."""
        self.saving_note = note
        self.carry.setToolTip(plain_tooltip(note or "What earlier turns' reasoning does in the next prompt"))
