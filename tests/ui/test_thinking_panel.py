"""Thinking panels inside a message: live header and text, auto-collapse, user choices."""

import pytest
from PySide6.QtCore import Qt

from app.domain import events as ev
from app.domain.messages import AssistantMessage
from app.ui.message_widget import AssistantMessageWidget
from app.ui.thinking_panel import ThinkingPanel


def _started(n_ctx=8192):
    m = AssistantMessage()
    m.apply(ev.TurnStarted(100.0, "m", 20, n_ctx))
    return m


def _think(m, text, tokens, t):
    m.apply(ev.BlockStart(t, "<think>"))
    m.apply(ev.ReasoningDelta(text))
    m.apply(ev.TokenCounts(m.stats.reasoning_tokens + tokens, m.stats.answer_tokens, 0, t))


def _end_block(m, t):
    m.apply(ev.BlockEnd(t, "</think>"))


def _answer(m, text, t):
    m.apply(ev.AnswerDelta(text))
    m.apply(ev.TokenCounts(m.stats.reasoning_tokens, m.stats.answer_tokens + 1, 0, t))


@pytest.fixture
def widget(qtbot):
    def make(msg, default="auto"):
        w = AssistantMessageWidget(msg, model_label="Model", panel_default=default)
        qtbot.addWidget(w)
        w.resize(600, 400)
        w.show()
        return w

    return make


def test_live_header_text_and_preview(widget):
    m = _started()
    _think(m, "\nFirst line.\nSecond line.\nThird line of thought", 812, 100.5)
    w = widget(m)
    w.refresh()
    panel = w.panels[0]
    assert panel.header.text().startswith("Thinking… ")
    assert panel.header.text().endswith(" · 812 tokens")
    assert panel.plain_text() == "First line.\nSecond line.\nThird line of thought"  # leading newline trimmed
    panel.set_expanded(False, by_user=True)
    assert not panel.preview.isHidden() and panel.preview.text() == "Second line.\nThird line of thought"
    m.apply(ev.ReasoningDelta(" continues."))
    w.refresh()
    assert panel.plain_text().endswith("Third line of thought continues.")


def test_header_after_thinking(widget):
    m = _started(n_ctx=20_000)
    _think(m, "reasoning", 1804, 100.0)
    _end_block(m, 112.3)
    _answer(m, "Answer", 112.4)
    w = widget(m)
    w.refresh()
    assert w.panels[0].header.text() == "Thought for 12.3 s · 1,804 tokens · 9% of context"


def test_short_thought_keeps_a_decimal(widget):
    m = _started()
    _think(m, "quick", 3, 100.0)
    _end_block(m, 100.4)
    w = widget(m)
    w.refresh()
    assert "Thought for 0.4 s" in w.panels[0].header.text()


@pytest.mark.parametrize("default, while_thinking, after", [
    ("auto", True, False), ("expanded", True, True), ("collapsed", False, False)])
def test_default_state_setting_is_respected(widget, default, while_thinking, after):
    m = _started()
    _think(m, "thinking", 5, 100.0)
    w = widget(m, default)
    w.refresh()
    assert w.panels[0].expanded is while_thinking
    _end_block(m, 101.0)
    _answer(m, "done", 101.1)
    w.refresh()
    assert w.panels[0].expanded is after


def test_user_choice_survives_auto_collapse_and_is_remembered(widget, qtbot):
    m = _started()
    _think(m, "thinking", 5, 100.0)
    w = widget(m, "auto")
    w.refresh()
    panel = w.panels[0]
    assert panel.expanded
    qtbot.mouseClick(panel.header, Qt.LeftButton)  # user collapses…
    qtbot.mouseClick(panel.header, Qt.LeftButton)  # …and expands again
    _end_block(m, 101.0)
    _answer(m, "done", 101.1)
    w.refresh()
    assert panel.expanded, "auto-collapse overrode the user's choice"
    assert m.blocks[0].expanded is True
    # a new view of the same message (e.g. after a restart) starts as the user left it
    w2 = widget(m, "collapsed")
    w2.refresh()
    assert w2.panels[0].expanded


def test_keyboard_toggles_the_focused_panel(widget, qtbot):
    m = _started()
    _think(m, "thinking", 5, 100.0)
    _end_block(m, 101.0)
    w = widget(m, "collapsed")
    w.refresh()
    header = w.panels[0].header
    header.setFocus()
    qtbot.keyClick(header, Qt.Key_Space)
    assert w.panels[0].expanded
    qtbot.keyClick(header, Qt.Key_Return)
    assert not w.panels[0].expanded


def test_several_blocks_each_get_a_panel_in_order(widget):
    m = _started()
    _think(m, "first thought", 3, 100.0)
    _end_block(m, 101.0)
    _answer(m, "Partial answer.", 101.1)
    m.apply(ev.BlockStart(102.0))
    m.apply(ev.ReasoningDelta("second thought"))
    m.apply(ev.BlockEnd(103.0))
    _answer(m, " More answer.", 103.1)
    w = widget(m)
    w.refresh()
    kinds = [type(v).__name__ for v in w._views]
    assert kinds == ["ThinkingPanel", "MarkdownView", "ThinkingPanel", "MarkdownView"]
    assert [p.plain_text() for p in w.panels] == ["first thought", "second thought"]
    w.panels[1].set_expanded(True, by_user=True)
    assert w.panels[1].expanded and not w.panels[0].expanded  # each on its own


def test_empty_block_shows_no_panel(widget):
    m = _started()
    m.apply(ev.BlockStart(100.0, "<think>"))
    m.apply(ev.ReasoningDelta("\n\n"))
    m.apply(ev.BlockEnd(100.1, "</think>"))
    _answer(m, "\n\nHi", 100.2)
    w = widget(m)
    w.refresh()
    assert w.panels == []


def test_truncated_reasoning_is_labelled(widget):
    m = _started()
    _think(m, "I was stopped while", 4, 100.0)
    m.apply(ev.TurnFinished(101.0, "cancelled"))
    w = widget(m)
    w.refresh()
    assert "truncated" in w.panels[0].header.text()
    assert "Stopped." in w.status.text()


def test_hidden_reasoning_header():
    from app.ui import format as fmt

    assert fmt.thinking_header(live=False, secs=3.0, n_tokens=0, hidden_tokens=1204) == \
        "Reasoned for 1,204 tokens (hidden by the provider)"


def test_collapse_control_at_the_bottom_of_a_long_trace(widget, qtbot):
    m = _started()
    _think(m, "\n".join(f"step {i}" for i in range(60)), 300, 100.0)
    w = widget(m, "expanded")
    w.refresh()
    panel = w.panels[0]
    assert not panel.collapse_button.isHidden()
    qtbot.mouseClick(panel.collapse_button, Qt.LeftButton)
    assert not panel.expanded and panel.user_touched


def test_clock_ticks_between_tokens(widget, qtbot):
    import time

    m = AssistantMessage()
    now = time.monotonic()
    m.apply(ev.TurnStarted(now, "m", 20, 8192))
    _think(m, "slow thought", 2, now)
    w = widget(m)
    w.refresh()
    first = w.panels[0].header.text()
    qtbot.waitUntil(lambda: w.panels[0].header.text() != first, timeout=2000)
    assert isinstance(w.panels[0], ThinkingPanel)


def test_trace_button_opens_the_viewer_from_the_window(qtbot):
    from app.backends.fake import FakeBackend
    from app.controllers.chat_session import ChatSession
    from app.domain.config import load_user_models
    from app.domain.reasoning.markers import FAMILIES
    from app.ui.main_window import MainWindow
    from app.ui.trace_viewer import TraceViewer

    script = ["<think>", "Wait", ",", " let", " me", " see", ".", "</think>", "\n\n", "Done", "."]
    session = ChatSession(load_user_models(), factory=lambda p: FakeBackend(p, script, spec=FAMILIES["think"]))
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(session.turn_finished, timeout=5000) as done:
        session.send("go")
    widget = win.chat.widget_for(done.args[0])
    assert not widget.trace_button.isHidden()
    widget.trace_button.click()
    viewers = win.findChildren(TraceViewer)
    assert len(viewers) == 1 and "Wait, let me see." in viewers[0].text_view.toPlainText()
    viewers[0].close()
    session.shutdown()


def test_panel_marks_extensions_and_the_budget_cut(widget):
    m = _started()
    _think(m, "Is it odd?", 4, 100.0)
    m.apply(ev.ThinkingExtended(100.5, 4, " Wait,"))
    m.apply(ev.ReasoningDelta(" Wait, yes it is."))
    m.apply(ev.BudgetCut(101.0, 12))
    _end_block(m, 101.0)
    w = widget(m)
    w.refresh()
    text = w.panels[0].plain_text()
    assert text.startswith("Is it odd? ⟲ Wait, yes it is.")
    assert text.endswith("✂ the thinking budget ended the reasoning here")
    assert "cut at the thinking budget" in w.panels[0].header.text()


def test_rate_limit_countdown_is_visible(widget):
    m = _started()
    m.apply(ev.RetryWait(100.0, 3.0, 1))
    w = widget(m)
    w.refresh()
    assert "retrying in 3 s (attempt 1 of 3)" in w.status.text() and not w.status.isHidden()
    m.apply(ev.RetryWait(102.0, 0.0, 1))
    m.apply(ev.AnswerDelta("Hello"))
    w.refresh()
    assert w.status.isHidden()


def test_a_live_header_changes_at_most_every_live_text_interval_and_at_once_at_the_end(widget):
    """Each new header text relayouts the chat: while the block is live it changes at most
    every LIVE_TEXT_S (the message's clock brings it up to date), at its end at once."""
    import time

    from app.ui.thinking_panel import LIVE_TEXT_S

    m = _started()
    _think(m, "First thought.", 10, 100.0)
    w = widget(m)
    w.refresh()
    panel, block = w.panels[0], m.blocks[0]
    t = time.monotonic() + 10  # later than the refresh above, on its clock
    panel.update_from(block, n_ctx=8192, now=t)
    first = panel.header.text()
    assert first.endswith(" · 10 tokens")
    m.apply(ev.ReasoningDelta(" More."))
    m.apply(ev.TokenCounts(25, 0, 0, 101.0))
    panel.update_from(block, n_ctx=8192, now=t + LIVE_TEXT_S / 4)
    assert panel.header.text() == first  # too soon: unchanged, though the block grew
    assert panel.plain_text() == "First thought. More."  # the text itself is never held back
    panel.update_from(block, n_ctx=8192, now=t + LIVE_TEXT_S * 1.5)
    assert panel.header.text().endswith(" · 25 tokens")
    _end_block(m, 102.0)
    panel.update_from(block, n_ctx=8192, now=t + LIVE_TEXT_S * 1.6)  # ended: at once
    assert panel.header.text().startswith("Thought for ")
