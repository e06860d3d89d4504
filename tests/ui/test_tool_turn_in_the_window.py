"""A real tool loop (the turn runner on a worker thread with the scripted backend) shown in a
message: the calculator runs by itself, the python card waits, Run with edited code runs it
(the sandbox), a second python call is denied — thinking, cards and answer in order."""

import threading

import pytest
from PySide6.QtCore import QObject, Qt, Signal

from app.backends.fake import FakeBackend
from app.controllers.toolbox import ToolBox
from app.controllers.turn_runner import TurnRunner, run_turn_sync
from app.domain.messages import AnswerPart, AssistantMessage, ReasoningBlock, ToolCallPart
from app.domain.reasoning.markers import FAMILIES
from app.domain.tools.types import ToolCall
from app.domain.turn_control import TurnControl
from app.domain.turn_request import TurnRequest
from app.ui.message_widget import AssistantMessageWidget
from helpers.models import profile

CALC = ToolCall("c1", "calculator", {"expression": "2**70"})
PY = ToolCall("p1", "python", {"code": "print(6 * 7)"})
PY2 = ToolCall("p2", "python", {"code": "import os; print(os.getcwd())"})
FIRST = ["<think>", "Big ", "power. ", "</think>", CALC]
SECOND = ["<think>", "Check ", "with ", "python. ", "</think>", PY]
THIRD = ["<think>", "And ", "the ", "folder. ", "</think>", PY2]
LAST = ["<think>", "Done. ", "</think>", "It ", "is ", "1180591620717411303424."]


class _Relay(QObject):
    batch = Signal(object)


@pytest.mark.timeout(120)
def test_a_tool_loop_shows_in_order_and_the_cards_answer_the_turn(qtbot):
    backend = FakeBackend(profile(), FIRST, follow_up=[SECOND, THIRD, LAST], spec=FAMILIES["think"])
    tools = ToolBox.builtin()
    request = TurnRequest(messages=({"role": "user", "content": "2**70, then check"},), max_tokens=1000,
                          tools=tools.specs)
    msg = AssistantMessage(model_id="m")
    widget = AssistantMessageWidget(msg)
    qtbot.addWidget(widget)
    widget.resize(800, 700)
    widget.show()
    control = TurnControl()
    widget.tool_approved.connect(lambda call_id, args, remember: control.approve(call_id, args, remember=remember or None))
    widget.tool_denied.connect(control.deny)
    relay = _Relay()
    relay.batch.connect(lambda batch: ([msg.apply(e) for e in batch], widget.refresh()))  # queued: the GUI thread
    worker = threading.Thread(target=run_turn_sync, args=(TurnRunner.on(backend, tools=tools), request, control,
                                                          relay.batch.emit), daemon=True)
    worker.start()

    def card(i):
        return widget.cards[i] if len(widget.cards) > i else None

    qtbot.waitUntil(lambda: card(1) is not None and card(1).awaiting_approval, timeout=30_000)
    assert card(0).part.state == "done" and card(0).part.result.text.startswith("1180591620717411303424")
    assert card(1).reach.text().startswith("What it can reach: ")  # the toolbox's own words for python
    card(1).args_edit.setPlainText("print(6 * 7 + 1)")
    qtbot.mouseClick(card(1).run_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: card(2) is not None and card(2).awaiting_approval, timeout=60_000)
    ran = card(1).part
    assert ran.call.arguments == {"code": "print(6 * 7 + 1)"}  # the edited code is what ran
    assert ran.state == "done" and "43" in ran.result.text.split()
    qtbot.mouseClick(card(2).deny_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: msg.finished, timeout=30_000)
    worker.join(10)
    widget.refresh()
    assert card(2).part.state == "denied" and card(2).header.text().endswith("· denied")
    kinds = [type(p) for p in msg.parts]
    R, T, A = ReasoningBlock, ToolCallPart, AnswerPart
    assert kinds == [R, T, R, T, R, T, R, A] and msg.answer == "It is 1180591620717411303424."
    assert [c.expanded for c in widget.cards] == [False, False, False]
    assert "3 tool calls" in widget.status.text()
