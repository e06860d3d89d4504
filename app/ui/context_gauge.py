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

from PySide6.QtCore import QEvent, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QToolTip, QVBoxLayout, QWidget

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
        """Called for every frame of a streaming turn, so it changes only what changed: a new
        label text must not relayout the window, the style is polished again only when the
        warning flag flips, and the legend is written when a tooltip asks for it."""
        self.usage = usage
        self.forecast = forecast or Forecast(False)
        self.bar.usage = usage
        self.bar.warning = self.forecast.warning
        if usage is None:
            self._set_label("")
            self.warning_label.hide()
        else:
            approx = "~" if usage.estimated else ""
            text = f"{approx}{usage.used:,} / {usage.n_ctx:,} tokens"
            if preview:
                text = "next prompt " + text
            warning = self.forecast.warning
            message = self.forecast.message if warning else ""
            if self.warning_label.text() != message:
                self.warning_label.setText(message)
            if self.warning_label.isHidden() == warning:
                self.warning_label.setVisible(warning)
            if bool(self.label.property("warning")) != warning:
                self.label.setProperty("warning", warning)
                self.label.style().unpolish(self.label)
                self.label.style().polish(self.label)  # bold: wider
                self.label.setText("")
            self._set_label(text)
        self.bar.update()

    def _set_label(self, text: str) -> None:
        """A label whose size is fixed and only grows: Qt relayouts the whole window for a label
        whose size hint may change, and the count changes with every token."""
        if text == self.label.text():
            return
        self.label.setText(text)
        hint = self.label.sizeHint()
        if hint.width() > self.label.minimumWidth() or hint.height() != self.label.minimumHeight():
            self.label.setFixedSize(max(hint.width(), self.label.minimumWidth()), hint.height())

    def legend(self) -> str:
        """The tooltip: one line per segment with its tokens and share, then the saving note."""
        if self.usage is None:
            return ""
        lines = [self.usage.describe(key) for key, _ in SEGMENTS]
        if self.saving_note:
            lines.append(self.saving_note)
        return "\n".join(lines)

    def event(self, event) -> bool:
        if event.type() == QEvent.ToolTip:  # also for the bar: it has no tooltip of its own
            text = self.legend()
            if text:
                QToolTip.showText(event.globalPos(), plain_tooltip(text), self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def set_saving_note(self, note: str) -> None:
        """E.g. "dropping earlier thinking saves 3,412 tokens"."""
        self.saving_note = note
        self.carry.setToolTip(plain_tooltip(note or "What earlier turns' reasoning does in the next prompt"))
