"""The tool-call card: full arguments, approval with edits (JSON checked), Deny, result, fold, Stop."""

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontInfo

from app.domain import events as ev
from app.domain.messages import AssistantMessage
from app.domain.tools.records import measured_result_tokens
from app.domain.tools.types import ToolCall, ToolResult
from app.ui.tool_call_card import DENIED_NOTE, UNFINISHED_NOTE, ToolCallCard

LONG = {"query": "tool calling in reasoning models " * 8, "filters": {"year": [2025, 2026], "lang": "en"}, "limit": 20}
SEARCH = ToolCall("s1", "search", LONG)
CODE = "total = 0\nfor i in range(10):\n    total += i\ntotal"
PYTHON = ToolCall("p1", "python", {"code": CODE})
REACH = "Runs in a separate process; no network; only a temporary folder."


@pytest.fixture
def card(qtbot):
    widget = ToolCallCard()
    qtbot.addWidget(widget)
    widget.resize(700, 400)
    widget.show()
    return widget


def _waiting(call, reach=REACH) -> AssistantMessage:
    msg = AssistantMessage(model_id="m")
    for e in (ev.TurnStarted(0.0, "m", 10, 4096), ev.ToolCallOpened(0.1, call.id, call.name),
              ev.ToolCallParsed(0.2, call), ev.ToolApprovalRequested(0.3, call.id, reach)):
        msg.apply(e)
    return msg


def test_a_card_waiting_for_approval_shows_the_full_arguments_and_the_reach(card):
    msg = _waiting(SEARCH)
    msg.tool_calls[0].state = "requested"
    card.update_from(msg.tool_calls[0])
    card.set_expanded(False, by_user=True)  # folded by the user before the approval was asked
    msg.tool_calls[0].state = "awaiting-approval"
    card.update_from(msg.tool_calls[0])
    assert card.expanded and card.awaiting_approval and card.details.isVisible()
    card.set_expanded(False, by_user=True)
    assert card.expanded  # it cannot be folded while it waits
    assert json.loads(card.args_edit.toPlainText()) == LONG  # all of them, not a summary
    assert card.args_edit.toPlainText() == json.dumps(LONG, ensure_ascii=False, indent=2)
    assert not card.args_edit.isReadOnly()
    assert card.reach.isVisible() and card.reach.text() == f"What it can reach: {REACH}"
    for button in (card.run_button, card.allow_conversation_button, card.allow_always_button, card.deny_button):
        assert button.isVisible() and button.isEnabled()
    assert "waiting for your approval" in card.header.text()


def test_run_sends_the_arguments_as_edited_once(card, qtbot):
    msg = _waiting(SEARCH)
    card.update_from(msg.tool_calls[0])
    edited = {**LONG, "limit": 3}
    card.args_edit.setPlainText(json.dumps(edited))
    sent = []
    card.approved.connect(lambda *a: sent.append(a))
    qtbot.mouseClick(card.run_button, Qt.LeftButton)
    qtbot.mouseClick(card.run_button, Qt.LeftButton)  # disabled after the first press
    assert sent == [("s1", edited, "")]
    assert not card.run_button.isEnabled() and not card.deny_button.isEnabled() and card.args_edit.isReadOnly()
    card.update_from(msg.tool_calls[0])  # a refresh before the runner answers keeps the edit and the lock
    assert json.loads(card.args_edit.toPlainText()) == edited and not card.run_button.isEnabled()


@pytest.mark.parametrize("text, reason", [('{"query": "x",', "not valid JSON (line 1, column 15"),
                                          ("[1, 2]", "must be a JSON object")])
def test_arguments_that_are_not_a_json_object_are_refused_on_the_card(card, qtbot, text, reason):
    msg = _waiting(SEARCH)
    card.update_from(msg.tool_calls[0])
    sent = []
    card.approved.connect(lambda *a: sent.append(a))
    card.args_edit.setPlainText(text)
    qtbot.mouseClick(card.allow_always_button, Qt.LeftButton)
    assert sent == [] and card.args_error.isVisible() and reason in card.args_error.text()
    assert card.run_button.isEnabled()  # the user can fix them
    card.args_edit.setPlainText('{"query": "fixed"}')
    qtbot.mouseClick(card.allow_always_button, Qt.LeftButton)
    assert sent == [("s1", {"query": "fixed"}, "always")] and card.args_error.isHidden()


def test_python_code_is_shown_and_edited_as_code(card, qtbot):
    msg = _waiting(PYTHON)
    card.update_from(msg.tool_calls[0])
    assert card.args_title.text() == "Code" and card.args_edit.toPlainText() == CODE
    assert QFontInfo(card.args_edit.font()).fixedPitch()
    card.args_edit.setPlainText(CODE.replace("10", "11"))
    sent = []
    card.approved.connect(lambda *a: sent.append(a))
    qtbot.mouseClick(card.allow_conversation_button, Qt.LeftButton)
    assert sent == [("p1", {"code": CODE.replace("10", "11")}, "conversation")]


def test_deny_then_the_card_says_the_call_was_denied(card, qtbot):
    msg = _waiting(PYTHON)
    card.update_from(msg.tool_calls[0])
    denied = []
    card.denied.connect(denied.append)
    qtbot.mouseClick(card.deny_button, Qt.LeftButton)
    assert denied == ["p1"]
    msg.apply(ev.ToolCallFinished(1.0, "p1", ToolResult("p1", "The user declined.", True), approved=False))
    card.update_from(msg.tool_calls[0])
    assert card.header.text().endswith("· denied") and card.status.text() == DENIED_NOTE
    assert not card.expanded and card.approval_row.isHidden()
    card.set_expanded(True, by_user=True)
    assert card.args_edit.toPlainText() == CODE and card.args_edit.isReadOnly()  # what was declined stays readable


def test_a_finished_call_folds_to_one_line_and_opens_to_its_result(card, qtbot):
    msg = _waiting(SEARCH)
    result = "\n".join(f"line {i}: <b>not bold</b>" for i in range(40))
    for e in (ev.ToolCallRunning(1.0, "s1", LONG), ev.ToolCallFinished(1.4, "s1", ToolResult("s1", result, duration_s=0.4))):
        msg.apply(e)
    card.update_from(msg.tool_calls[0], result_tokens=measured_result_tokens(msg, msg.tool_calls[0]))
    assert card.header.text().endswith("0.40 s")  # its tokens are not known before the next model call
    msg.apply(ev.CallStarted(1.5, 10 + 120, "tool"))
    card.update_from(msg.tool_calls[0], result_tokens=measured_result_tokens(msg, msg.tool_calls[0]))
    assert not card.expanded and card.details.isHidden()
    header = card.header.text()
    assert header.startswith("search {") and "→ line 0: <b>not bold</b>" in header
    assert header.endswith("0.40 s · 120 tokens")
    toggled = []
    card.toggled.connect(toggled.append)
    qtbot.mouseClick(card.header, Qt.LeftButton)
    assert card.expanded and toggled == [True] and card.details.isVisible()
    assert card.result_preview.textFormat() == Qt.PlainText  # model-chosen text is never rich text
    assert card.result_preview.text().startswith("line 0: <b>not bold</b>\nline 1") and card.result_view.isHidden()
    qtbot.mouseClick(card.result_toggle, Qt.LeftButton)
    assert card.result_view.isVisible() and card.result_view.toPlainText() == result
    card.update_from(msg.tool_calls[0])  # a refresh keeps what the user opened
    assert card.expanded and card.result_view.isVisible()


def test_a_cut_result_and_an_unusable_call_say_so(card):
    msg = AssistantMessage(model_id="m")
    bad = ToolCall("b1", "search", {}, raw='<tool_call>{"name": "search", "arguments": {"q": </tool_call>',
                   error="the arguments are not valid JSON")
    for e in (ev.TurnStarted(0.0, "m", 10, 4096), ev.ToolCallParsed(0.1, bad),
              ev.ToolCallFinished(0.2, "b1", ToolResult("b1", "Error: invalid arguments", True))):
        msg.apply(e)
    card.update_from(msg.tool_calls[0])
    card.set_expanded(True, by_user=True)
    assert card.result_title.text() == "Error" and "failed: Error: invalid arguments" in card.header.text()
    assert card.args_edit.toPlainText() == bad.raw  # what the model wrote, since no arguments came of it
    assert "unusable: the arguments are not valid JSON" in card.result_note.text()
    msg2 = _waiting(SEARCH)
    msg2.apply(ev.ToolCallRunning(1.0, "s1", LONG))
    msg2.apply(ev.ToolCallFinished(1.1, "s1", ToolResult("s1", "x" * 100, truncated_from=250_000)))
    card.update_from(msg2.tool_calls[0])
    assert card.result_note.text() == "The result was cut to 100 of 250,000 characters before the model read it."


def test_a_running_call_ticks_and_can_be_stopped(card, qtbot):
    msg = _waiting(PYTHON)
    msg.apply(ev.ToolCallRunning(10.0, "p1", {"code": CODE}))
    card.update_from(msg.tool_calls[0], now=11.5)
    assert card.header.text().endswith("running… 1.5 s") and card.expanded
    stops = []
    card.stop_requested.connect(lambda: stops.append(1))
    qtbot.mouseClick(card.stop_button, Qt.LeftButton)
    assert stops == [1]
    card.update_from(msg.tool_calls[0], now=12.0)
    assert card.header.text().endswith("running… 2.0 s")


def test_a_call_the_turn_ended_without_says_it_did_not_run(card):
    msg = _waiting(PYTHON)
    msg.apply(ev.TurnFinished(1.0, "cancelled"))
    card.update_from(msg.tool_calls[0], turn_over=True)
    assert card.status.text() == UNFINISHED_NOTE and card.header.text().endswith("· not run")
    assert card.approval_row.isHidden() and not card.awaiting_approval
