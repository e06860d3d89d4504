"""A message with tool calls: one trace in order, headers that say a thought paused and goes on,
mentions marked, compact cards, and a card's Run and Deny reaching the turn's control."""

import pytest
from PySide6.QtCore import Qt

from app.domain.messages import AssistantMessage
from app.ui.markdown_view import MarkdownView
from app.ui.message_widget import AssistantMessageWidget
from app.ui.thinking_panel import ThinkingPanel
from app.ui.tool_call_card import ToolCallCard
from helpers import tool_turns as tt


@pytest.fixture
def widget(qtbot):
    def make(msg):
        w = AssistantMessageWidget(msg, model_label="Model")
        qtbot.addWidget(w)
        w.resize(700, 600)
        w.show()
        return w
    return make


def _in_layout_order(w) -> list:
    layout = w.layout()
    views = [layout.itemAt(i).widget() for i in range(layout.count())]
    return [type(v) for v in views if isinstance(v, (ThinkingPanel, ToolCallCard, MarkdownView))]


def test_thinking_cards_and_answer_show_in_the_order_they_happened(widget):
    msg = AssistantMessage(model_id="m")
    w = widget(msg)
    for events in (tt.START + tt.ROUND_1, tt.ROUND_2, tt.ROUND_3, tt.FINISH):  # refreshed as the turn goes
        tt.apply(msg, events)
        w.refresh()
    P, C, A = ThinkingPanel, ToolCallCard, MarkdownView
    assert _in_layout_order(w) == [P, C, P, C, P, C, P, A]
    assert [c.part.call.name for c in w.cards] == ["calculator", "python", "python"]
    assert all(not c.expanded for c in w.cards) and all(not p.expanded for p in w.panels)  # nothing piles up
    assert "3 tool calls (0.6 s, 71 tokens)" in w.status.text()


def test_a_thought_that_paused_for_a_call_says_so_and_the_next_one_goes_on(widget):
    msg = AssistantMessage(model_id="m")
    w = widget(msg)
    tt.apply(msg, tt.START + tt.ROUND_1[:8])  # the calculator was called from inside the thought
    w.refresh()
    first = w.panels[0].header.text()
    assert first.startswith("Thought for 0.2 s, then called calculator · ") and "Thinking…" not in first
    tt.apply(msg, tt.ROUND_1[8:14])  # the result is back; the thought goes on
    w.refresh()
    assert w.panels[1].header.text().startswith("Continuing after calculator… ")
    tt.apply(msg, tt.ROUND_1[14:])
    w.refresh()
    assert w.panels[1].header.text().startswith("Continued for 0.2 s after calculator · 13 tokens")
    tt.apply(msg, tt.ROUND_2)
    w.refresh()
    # a thought that ended before its call (the call follows </think>) is a finished thought
    assert w.panels[1].header.text().startswith("Continued for 0.2 s after calculator · ")
    third = w.panels[2].header.text()
    assert third.startswith("Thought for 0.2 s · ") and "called" not in third and "Continu" not in third


def test_a_call_only_mentioned_while_thinking_is_marked_where_it_stands(widget):
    msg = AssistantMessage(model_id="m")
    w = widget(msg)
    tt.apply(msg, tt.START + tt.ROUND_1[:3])
    w.refresh()  # the mention's text is shown before its event arrives
    tt.apply(msg, tt.ROUND_1[3:6])
    w.refresh()
    panel = w.panels[0]
    assert panel.mentions_note.text() == "python mentioned while thinking, not called" and not panel.mentions_note.isHidden()
    assert panel.plain_text() == ('I need 6*7. Maybe <tool_call>{"name": "python"}</tool_call> would do, but no.'
                                  ' ⚑ python: mentioned while thinking, not called  Use the calculator.')
    assert [c.part.call.name for c in w.cards] == []  # nothing ran for it


def test_a_stored_message_rebuilds_its_cards_folded(widget):
    msg = AssistantMessage(model_id="m")
    tt.apply(msg, tt.WHOLE)
    w = widget(msg)
    w.refresh()
    assert len(w.cards) == 3 and [c.expanded for c in w.cards] == [False, False, False]
    assert w.cards[1].header.text().endswith("· denied") and w.cards[2].header.text().startswith(
        "python print(sum(range(11))) → 55 · 0.45 s")
    assert "⚑ python: mentioned while thinking, not called" in w.panels[0].plain_text()


def test_run_and_deny_leave_the_message_as_signals(widget, qtbot):
    msg = AssistantMessage(model_id="m")
    w = widget(msg)
    tt.apply(msg, tt.START + tt.ROUND_1 + tt.ROUND_2[:4])
    w.refresh()
    approvals, denials = [], []
    w.tool_approved.connect(lambda *a: approvals.append(a))
    w.tool_denied.connect(denials.append)
    qtbot.mouseClick(w.cards[1].deny_button, Qt.LeftButton)
    assert denials == ["p1"] and approvals == []
    tt.apply(msg, tt.ROUND_2[4:] + tt.ROUND_3)
    w.refresh()
    qtbot.mouseClick(w.cards[2].run_button, Qt.LeftButton)
    assert approvals == [("p2", {"code": "print(sum(range(10)))"}, "")]


def test_a_call_the_model_abandoned_leaves_no_card(widget):
    from app.domain import events as ev

    msg = AssistantMessage(model_id="m")
    w = widget(msg)
    tt.apply(msg, tt.START + [ev.AnswerDelta("Let me see. "), ev.ToolCallOpened(0.2, "x1", "search")])
    w.refresh()
    assert len(w.cards) == 1
    msg.apply(ev.ToolCallAbandoned(0.3, "search", "the output ended inside the call"))
    msg.apply(ev.AnswerDelta("<tool_call>{\"name\": \"sea"))
    w.refresh()
    assert w.cards == [] and w.answer_text().strip() == 'Let me see. <tool_call>{"name": "sea'
