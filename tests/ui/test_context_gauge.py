"""The context gauge in the window: live values, forecast warning, preview, equality with ask --json."""

from dataclasses import replace

import pytest
from PySide6.QtCore import QEvent, QObject, QPoint
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip

from app.backends.fake import FakeBackend
from app.controllers.chat_session import ChatSession
from app.domain.config import load_user_models
from app.domain.context_budget import ContextUsage
from app.domain.reasoning.markers import FAMILIES
from app.ui.context_gauge import ContextGauge
from app.ui.main_window import MainWindow


def _window(qtbot, factory, **kw):
    session = ChatSession(load_user_models(), factory=factory, **kw)
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    return win


def test_gauge_values_after_a_scripted_turn(qtbot):
    script = ["<think>", "a", "b", "c", "</think>", "\n\n", "x", "y"]
    win = _window(qtbot, lambda p: FakeBackend(p, script, spec=FAMILIES["think"], prompt_tokens=40, n_ctx=1000))
    with qtbot.waitSignal(win.session.turn_finished, timeout=5000):
        win.session.send("hi")
    usage = win.gauge.usage
    assert (usage.history, usage.reasoning, usage.answer, usage.free) == (40, 5, 3, 952)
    assert win.gauge.label.text() == "48 / 1,000 tokens"
    assert "reasoning this turn: 5 tokens, 0% of 1,000" in win.gauge.legend()
    widths = win.gauge.bar.segment_widths()
    assert widths["history"] == pytest.approx(win.gauge.bar.width() * 40 / 1000)
    assert sum(widths.values()) == pytest.approx(win.gauge.bar.width())
    win.session.shutdown()


def test_forecast_warns_when_thinking_will_fill_the_window(qtbot):
    script = ["<think>"] + [" step"] * 3000
    win = _window(qtbot, lambda p: FakeBackend(p, script, spec=FAMILIES["think"], prompt_tokens=10,
                                                n_ctx=2048, delay_s=0.002))
    win.session.set_options(replace(win.session.options, max_tokens=100_000))  # the window runs out first
    win.session.send("think hard")
    qtbot.waitUntil(lambda: win.gauge.forecast.warning, timeout=10_000)
    assert "at this rate, thinking will fill the context in ~" in win.gauge.warning_label.text()
    assert not win.gauge.warning_label.isHidden()
    assert win.gauge.bar.warning
    win.session.stop()
    qtbot.waitUntil(lambda: not win.session.busy, timeout=5000)
    win.session.shutdown()


def test_no_warning_when_there_is_room(qtbot):
    script = ["<think>"] + [" step"] * 200 + ["</think>", "ok"]
    win = _window(qtbot, lambda p: FakeBackend(p, script, spec=FAMILIES["think"], n_ctx=100_000, delay_s=0.002))
    seen = []
    win.session.message_changed.connect(lambda m: seen.append(win.gauge.forecast.warning))
    with qtbot.waitSignal(win.session.turn_finished, timeout=10_000):
        win.session.send("think a little")
    assert seen and not any(seen)
    win.session.shutdown()


def test_gauge_widget_legend_lines():
    gauge = ContextGauge()
    usage = ContextUsage(n_ctx=8192, system=30, history=100, carried_reasoning=50, reasoning=1804, answer=20)
    gauge.set_usage(usage)
    assert "reasoning this turn: 1,804 tokens, 22% of 8,192" in gauge.legend()
    assert "reasoning carried from earlier turns: 50 tokens, 1% of 8,192" in gauge.legend()
    assert gauge.label.text() == "2,004 / 8,192 tokens"


@pytest.mark.model
def test_preview_counts_the_draft_and_matches_the_turn(qtbot):
    session = ChatSession(load_user_models())
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(session.model_ready, timeout=60_000):
        session.preload()
    with qtbot.waitSignal(session.prompt_measured, timeout=10_000) as empty:
        session.measure_next_prompt("")
    with qtbot.waitSignal(session.prompt_measured, timeout=10_000) as drafted:
        session.measure_next_prompt("Tell me about the history of Rome in detail please")
    assert drafted.args[0].used > empty.args[0].used
    preview = drafted.args[0]
    with qtbot.waitSignal(session.turn_finished, timeout=60_000) as done:
        session.set_options(replace(session.options, max_tokens=8))
        session.send("Tell me about the history of Rome in detail please")
    assert done.args[0].stats.prompt_tokens == preview.used  # the preview was the real prompt
    session.shutdown()


class _LayoutRequests(QObject):
    """Counts LayoutRequest events that reach the main window (each relayouts all of it)."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def eventFilter(self, obj, event):  # noqa: N802
        if event.type() == QEvent.LayoutRequest:
            self.count += 1
        return False


def test_a_changing_count_does_not_relayout_the_window(qtbot):
    win = _window(qtbot, lambda p: FakeBackend(p, ["x"], n_ctx=100_000))
    gauge = win.gauge
    usage = ContextUsage(n_ctx=100_000, system=30, history=100, answer=1)
    gauge.set_usage(usage)
    qtbot.wait(50)  # the first text sizes the label: one relayout, then none
    counter = _LayoutRequests()
    win.installEventFilter(counter)
    for answer in range(2, 400, 7):  # 1-digit to 3-digit counts, as while streaming
        gauge.set_usage(replace(usage, answer=answer))
        QApplication.processEvents()
    assert gauge.label.text() == "524 / 100,000 tokens"
    assert counter.count <= 2  # at most when the count grows a digit wider than the label
    win.removeEventFilter(counter)
    win.session.shutdown()


def test_the_legend_is_the_tooltip_of_the_bar_and_the_label(qtbot):
    win = _window(qtbot, lambda p: FakeBackend(p, ["x"], n_ctx=8192))
    gauge = win.gauge
    gauge.set_usage(ContextUsage(n_ctx=8192, system=30, history=100, reasoning=1804, answer=20))
    qtbot.wait(20)
    shown = []
    real = QToolTip.showText
    try:
        QToolTip.showText = lambda pos, text, widget=None, *a: shown.append((text, widget))
        for target in (gauge.bar, gauge.label):
            event = QHelpEvent(QEvent.ToolTip, QPoint(2, 2), target.mapToGlobal(QPoint(2, 2)))
            QApplication.sendEvent(target, event)
    finally:
        QToolTip.showText = real
    assert len(shown) == 2
    assert all("reasoning this turn: 1,804 tokens, 22% of 8,192" in text and widget is gauge for text, widget in shown)
    win.session.shutdown()
