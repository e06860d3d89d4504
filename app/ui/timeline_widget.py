"""The trace viewer's timeline: tokens per second over the turn, drawn with QPainter.

Thinking is shaded purple (up to the first answer token, then any later reasoning block)
and the answer blue; a dashed line marks the
reasoning → answer boundary, and ticks above the plot mark the time to the first token and
to the first answer token. Each tool call is a band: orange while the tool ran (the gap in the
tokens, named after the tool when there is room), hatched while the model re-evaluated the
result (from the result to its next token); hovering a band says how long each took. Everything is computed in ``set_message`` and on resize;
``paintEvent`` only draws the precomputed shapes.

Signals: none.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen, QPolygonF, QRegion
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from app.domain import trace
from app.domain.messages import AssistantMessage
from app.ui.plain import plain_tooltip

MARGIN_LEFT, MARGIN_TOP, MARGIN_RIGHT, MARGIN_BOTTOM = 48, 24, 16, 26

BACKGROUND = QColor("#ffffff")
GRID = QColor("#eceef1")
AXIS_TEXT = QColor("#6a737d")
THINK_LINE, THINK_FILL = QColor("#6f5fb5"), QColor(111, 95, 181, 56)
ANSWER_LINE, ANSWER_FILL = QColor("#2f6fca"), QColor(47, 111, 202, 46)
BOUNDARY = QColor("#5d4f9a")
MARK = QColor("#b0441c")
TOOL_FILL, TOOL_LINE, TOOL_TEXT = QColor(245, 166, 35, 90), QColor("#d48806"), QColor("#8a5300")
REEVAL_FILL = QColor(245, 166, 35, 150)
DENIED_FILL, DENIED_TEXT = QColor(140, 150, 163, 70), QColor("#57606a")

X_STEPS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600)


def _nice_ceiling(v: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k not below ``v``."""
    if v <= 0:
        return 1.0
    k = 1.0
    while k * 10 < v:
        k *= 10
    while k > v:
        k /= 10
    for m in (1, 2, 2.5, 5, 10):
        if m * k >= v:
            return m * k
    return 10 * k


def _seconds_label(t: float) -> str:
    if t >= 60 and t % 60 == 0:
        return f"{t / 60:.0f} min"
    return f"{t:g} s"


class TimelineWidget(QWidget):
    """Tokens per second over time for one assistant message."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("traceTimeline")
        self.setMinimumHeight(130)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        self.setFont(font)
        # the data, in seconds after the turn started
        self.series: list[tuple[float, float]] = []
        self.bin_s = 0.25
        self.span_s = 0.0
        self.y_max = 1.0
        self.boundary_token_index: int | None = None
        self.boundary_t: float | None = None
        self.thinking_spans: list[tuple[float, float]] = []
        self.ttft_t: float | None = None
        self.first_answer_t: float | None = None
        self.tool_spans: list[trace.ToolSpan] = []
        self._token_times: list[float] = []
        self._t0 = 0.0
        # the geometry, in pixels (recomputed on resize)
        self.plot = QRectF()
        self.points: list[QPointF] = []  # one per series entry, at the bin centre
        self.boundary_x: float | None = None
        self.ttft_x: float | None = None
        self.first_answer_x: float | None = None
        self.tool_rects: list[tuple[QRectF, QRectF | None, trace.ToolSpan]] = []  # (ran, re-evaluation, span)
        self._area = QPainterPath()
        self._line = QPolygonF()
        self._x_ticks: list[tuple[float, str]] = []
        self._y_ticks: list[tuple[float, str]] = []
        self._labels: list[tuple[QRectF, str, QColor]] = []
        self._think_clip = QRegion()
        self._answer_clip = QRegion()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt naming)
        return QSize(640, 150)

    # -- data ------------------------------------------------------------------------------
    def set_message(self, message: AssistantMessage) -> None:
        """Compute the rate series and the marks of ``message``, then the geometry."""
        s = message.stats
        t0 = self._t0 = s.t_start
        self._token_times = list(s.token_times)
        end = s.t_end if s.t_end is not None else (self._token_times[-1] if self._token_times else t0)
        self.bin_s = trace.choose_bin(max(0.0, end - t0))
        self.series = trace.rate_series(self._token_times, t0, self.bin_s, t_end=s.t_end)
        self.span_s = len(self.series) * self.bin_s
        self.y_max = _nice_ceiling(max((r for _, r in self.series), default=0.0))
        self.boundary_token_index = trace.boundary_token_index(message)
        self.boundary_t = trace.boundary_time(message)
        self.thinking_spans = trace.thinking_spans(message)
        self.ttft_t = s.ttft_s
        self.first_answer_t = s.first_answer_s
        self.tool_spans = trace.tool_spans(message)
        self._layout()
        self.update()

    def x_for_time(self, t: float) -> float:
        """The x pixel of ``t`` seconds after the turn started."""
        if self.span_s <= 0:
            return self.plot.left()
        return self.plot.left() + self.plot.width() * min(1.0, max(0.0, t / self.span_s))

    def y_for_rate(self, rate: float) -> float:
        return self.plot.bottom() - self.plot.height() * min(1.0, rate / self.y_max)

    def token_x(self, index: int) -> float:
        """The x pixel where token ``index`` (of ``stats.token_times``) arrived."""
        return self.x_for_time(self._token_times[index] - self._t0)

    # -- geometry --------------------------------------------------------------------------
    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._layout()

    def _layout(self) -> None:
        w, h = self.width(), self.height()
        self.plot = QRectF(MARGIN_LEFT, MARGIN_TOP, max(1, w - MARGIN_LEFT - MARGIN_RIGHT),
                           max(1, h - MARGIN_TOP - MARGIN_BOTTOM))
        self.points = [QPointF(self.x_for_time(t), self.y_for_rate(r)) for t, r in self.series]
        self._line = QPolygonF()
        for i, (_, r) in enumerate(self.series):  # a step line: flat across each bin
            y = self.y_for_rate(r)
            self._line.append(QPointF(self.x_for_time(i * self.bin_s), y))
            self._line.append(QPointF(self.x_for_time((i + 1) * self.bin_s), y))
        self._area = QPainterPath()
        if self._line.size():
            self._area.moveTo(self._line.first().x(), self.plot.bottom())
            for p in self._line:
                self._area.lineTo(p)
            self._area.lineTo(self._line.last().x(), self.plot.bottom())
            self._area.closeSubpath()
        self.boundary_x = None if self.boundary_t is None else self.x_for_time(self.boundary_t)
        self.ttft_x = None if self.ttft_t is None else self.x_for_time(self.ttft_t)
        self.first_answer_x = None if self.first_answer_t is None else self.x_for_time(self.first_answer_t)
        self._layout_clips()
        self._layout_ticks()
        self._layout_labels()
        self._layout_tools()

    def _layout_tools(self) -> None:
        """A band per tool call (at least 2 px wide, so a quick one still shows)."""
        plot = self.plot
        self.tool_rects = []
        for span in self.tool_spans:
            x0, x1 = self.x_for_time(span.start), self.x_for_time(span.end)
            ran = QRectF(x0, plot.top(), max(2.0, x1 - x0), plot.height())
            reeval = None
            if span.resumed is not None:
                x2 = self.x_for_time(span.resumed)
                reeval = QRectF(ran.right(), plot.top(), max(1.0, x2 - ran.right()), plot.height())
            self.tool_rects.append((ran, reeval, span))

    def _layout_clips(self) -> None:
        """Where to draw in thinking colours and where in answer colours."""
        whole = QRegion(0, 0, self.width(), self.height())
        self._think_clip = QRegion()
        for i, (a, b) in enumerate(self.thinking_spans):
            x0 = 0 if i == 0 else round(self.x_for_time(a))
            x1 = round(self.x_for_time(b)) if b < self.span_s else self.width()
            self._think_clip = self._think_clip.united(QRegion(x0, 0, max(0, x1 - x0), self.height()))
        self._answer_clip = whole.subtracted(self._think_clip)

    def _layout_ticks(self) -> None:
        self._y_ticks = [(self.y_for_rate(v), f"{v:g}") for v in (0, self.y_max / 2, self.y_max)]
        self._x_ticks = []
        if self.span_s <= 0:
            return
        room = max(1, int(self.plot.width() // 70))
        step = next((s for s in X_STEPS if self.span_s / s <= room), X_STEPS[-1])
        n = 0
        while n * step <= self.span_s + 1e-9:
            self._x_ticks.append((self.x_for_time(n * step), _seconds_label(round(n * step, 3))))
            n += 1

    def _layout_labels(self) -> None:
        """Labels of the marks above the plot, moved apart when they would overlap."""
        fm = self.fontMetrics()
        self._labels = []
        marks = [(self.ttft_x, f"first token {self.ttft_t or 0:.1f} s", MARK),
                 (self.first_answer_x, f"first answer {self.first_answer_t or 0:.1f} s", BOUNDARY)]
        right_edge = self.width() - 2.0
        taken = 0.0
        for x, text, colour in marks:
            if x is None:
                continue
            width = fm.horizontalAdvance(text) + 4
            left = max(x - width / 2, float(MARGIN_LEFT), taken + 8)  # clear of "tok/s"
            left = min(left, right_edge - width)
            rect = QRectF(left, 2, width, fm.height())
            if taken and left < taken + 8:  # no room beside the first: use a second row
                rect = QRectF(min(max(x - width / 2, float(MARGIN_LEFT)), right_edge - width),
                              2 + fm.height(), width, fm.height())
            self._labels.append((rect, text, colour))
            taken = rect.right()

    # -- drawing ---------------------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), BACKGROUND)
        p.setRenderHint(QPainter.Antialiasing, True)
        plot = self.plot
        p.setPen(QPen(GRID, 1))
        for y, _ in self._y_ticks:
            p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        p.setPen(AXIS_TEXT)
        fm = self.fontMetrics()
        for y, text in self._y_ticks:
            p.drawText(QRectF(0, y - fm.height() / 2, MARGIN_LEFT - 6, fm.height()),
                       Qt.AlignRight | Qt.AlignVCenter, text)
        p.drawText(QRectF(0, 2, MARGIN_LEFT - 6, fm.height()), Qt.AlignRight, "tok/s")
        for x, text in self._x_ticks:
            p.drawLine(QPointF(x, plot.bottom()), QPointF(x, plot.bottom() + 3))
            p.drawText(QRectF(x - 40, plot.bottom() + 4, 80, fm.height()), Qt.AlignHCenter, text)
        if not self.series:
            p.drawText(plot, Qt.AlignCenter, "No token timings for this message")
            return
        self._draw_phase(p, self._think_clip, THINK_FILL, THINK_LINE)
        self._draw_phase(p, self._answer_clip, ANSWER_FILL, ANSWER_LINE)
        p.setPen(QPen(AXIS_TEXT, 1))
        p.drawLine(QPointF(plot.left(), plot.bottom()), QPointF(plot.right(), plot.bottom()))
        if self.boundary_x is not None:
            p.setPen(QPen(BOUNDARY, 1.5, Qt.DashLine))
            p.drawLine(QPointF(self.boundary_x, plot.top()), QPointF(self.boundary_x, plot.bottom()))
        for x, colour in ((self.ttft_x, MARK), (self.first_answer_x, BOUNDARY)):
            if x is not None:
                p.setPen(Qt.NoPen)
                p.setBrush(colour)
                p.drawPolygon(QPolygonF([QPointF(x - 4, plot.top() - 6), QPointF(x + 4, plot.top() - 6),
                                         QPointF(x, plot.top())]))
        for rect, text, colour in self._labels:
            p.setPen(colour)
            p.drawText(rect, Qt.AlignCenter, text)
        self._draw_tools(p)

    def _draw_tools(self, p: QPainter) -> None:
        fm = self.fontMetrics()
        for ran, reeval, span in self.tool_rects:
            denied = span.state == "denied"
            p.setPen(Qt.NoPen)
            p.setBrush(DENIED_FILL if denied else TOOL_FILL)
            p.drawRect(ran)
            if reeval is not None:
                p.setBrush(QBrush(REEVAL_FILL, Qt.BDiagPattern))
                p.drawRect(reeval)
            p.setPen(QPen(TOOL_LINE, 1))
            p.drawLine(QPointF(ran.left(), ran.top()), QPointF(ran.left(), ran.bottom()))
            name = (span.name or "tool") + (" denied" if denied else "")
            if fm.horizontalAdvance(name) + 4 <= ran.width():
                p.setPen(DENIED_TEXT if denied else TOOL_TEXT)
                p.drawText(QRectF(ran.left() + 2, ran.top() + 2, ran.width() - 4, fm.height()),
                           Qt.AlignLeft | Qt.AlignTop, name)

    def tool_tip_at(self, x: float) -> str:
        """What the tool band under ``x`` says (empty when there is none)."""
        for ran, reeval, span in self.tool_rects:
            right = reeval.right() if reeval is not None else ran.right()
            if ran.left() - 1 <= x <= right + 1:
                text = f"{span.name or 'tool'} ({span.state}): ran {span.seconds:.2f} s"
                if span.state == "denied":
                    text = f"{span.name or 'tool'}: denied after {span.seconds:.1f} s"
                if span.reeval_s is not None:
                    text += f", then {span.reeval_s:.2f} s until the model's next token (re-evaluating the result"
                    text += f", {span.result_tokens:,} tokens)" if span.result_tokens is not None else ")"
                return text
        return ""

    def _draw_phase(self, p: QPainter, clip: QRegion, fill: QColor, line: QColor) -> None:
        if clip.isEmpty():
            return
        p.save()
        p.setClipRegion(clip)
        p.setPen(Qt.NoPen)
        p.setBrush(fill)
        p.drawPath(self._area)
        p.setPen(QPen(line, 1.5))
        p.setBrush(Qt.NoBrush)
        p.drawPolyline(self._line)
        p.restore()

    def event(self, e: QEvent) -> bool:
        if e.type() == QEvent.ToolTip and self.series and self.plot.contains(QPointF(e.pos())):
            tool = self.tool_tip_at(e.pos().x())
            if tool:
                QToolTip.showText(e.globalPos(), plain_tooltip(tool), self)
                return True
            t = (e.pos().x() - self.plot.left()) / self.plot.width() * self.span_s
            i = min(len(self.series) - 1, max(0, int(t / self.bin_s)))
            start = i * self.bin_s
            QToolTip.showText(e.globalPos(), plain_tooltip(f"{start:g}–{start + self.bin_s:g} s: "
                                                           f"{self.series[i][1]:.0f} tok/s"), self)
            return True
        return super().event(e)
