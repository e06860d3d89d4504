"""Turn events of a reasoning turn with tools, to apply to messages in tests (no model needed).

``ROUND_1``: the model thinks, calls the calculator from inside its thought (which pauses),
the call runs (allowed always), the thought continues after the result. ``ROUND_2``: after
its thought the model asks for python; the call waits for approval; the user denies it.
``ROUND_3``: it asks for python again and the call waits for approval (the turn is live).
``FINISH``: the rest after an approved third call: its result, a short thought, the answer.
Every later model call reports its prompt so that the tools segment is measurable.
"""

from __future__ import annotations

from app.domain import events as ev
from app.domain.tools.types import ToolCall, ToolResult

REACH = "Runs as you in a separate process with 10 s of CPU and 512 MB; no network."
CALC = ToolCall("c1", "calculator", {"expression": "6*7"}, raw='<tool_call>{"name": "calculator"}</tool_call>',
                in_reasoning=True)
PY1 = ToolCall("p1", "python", {"code": "import os\nprint(os.listdir('/'))"})
PY2 = ToolCall("p2", "python", {"code": "print(sum(range(10)))"})

START = [ev.TurnStarted(0.0, "m", 100, 4096, tool_tokens=30)]
ROUND_1 = [
    ev.BlockStart(0.1, "<think>"), ev.ReasoningDelta("I need 6*7. "),
    ev.ReasoningDelta('Maybe <tool_call>{"name": "python"}</tool_call> would do, but no.'),
    ev.ToolCallMentioned(0.15, ToolCall("", "python", in_reasoning=True)),
    ev.ReasoningDelta(" Use the calculator."), ev.TokenCounts(20, 0, 0, 0.2),
    ev.ToolCallOpened(0.3, "c1", "calculator", in_reasoning=True), ev.ToolCallParsed(0.35, CALC),
    ev.TokenCounts(32, 0, 0, 0.35),
    ev.ToolCallRunning(0.4, "c1", {"expression": "6*7"}),
    ev.ToolCallFinished(0.5, "c1", ToolResult("c1", "42", duration_s=0.1)),
    ev.CallStarted(0.6, 100 + 32 + 9, "tool"),
    ev.BlockStart(0.7, "<think>"), ev.ReasoningDelta("So it is 42. Let me list a folder with python."),
    ev.TokenCounts(44, 0, 0, 0.8), ev.BlockEnd(0.9, "</think>"), ev.TokenCounts(45, 0, 0, 0.9),
]
ROUND_2 = [
    ev.ToolCallOpened(1.0, "p1", "python"), ev.ToolCallParsed(1.1, PY1), ev.TokenCounts(60, 0, 0, 1.1),
    ev.ToolApprovalRequested(1.2, "p1", REACH),
    ev.ToolCallFinished(2.0, "p1", ToolResult("p1", "The user declined to run this tool call.", True), approved=False),
    ev.CallStarted(2.1, 100 + 60 + 20, "tool"),
    ev.BlockStart(2.2, "<think>"), ev.ReasoningDelta("Declined. A sum instead."), ev.TokenCounts(70, 0, 0, 2.3),
    ev.BlockEnd(2.4, "</think>"),
]
ROUND_3 = [
    ev.ToolCallOpened(2.5, "p2", "python"), ev.ToolCallParsed(2.6, PY2), ev.TokenCounts(80, 0, 0, 2.6),
    ev.ToolApprovalRequested(2.7, "p2", REACH),
]
FINISH = [
    ev.ToolCallRunning(3.0, "p2", {"code": "print(sum(range(11)))"}),
    ev.ToolCallFinished(3.5, "p2", ToolResult("p2", "55\n", duration_s=0.45)),
    ev.CallStarted(3.6, 100 + 80 + 30 + 11, "tool"),
    ev.BlockStart(3.8, "<think>"), ev.ReasoningDelta("55."), ev.BlockEnd(3.9, "</think>"),
    ev.TokenCounts(84, 0, 0, 3.9), ev.AnswerDelta("6*7 is 42, and the sum is 55."), ev.TokenCounts(84, 9, 0, 4.0),
    ev.TurnFinished(4.1, "stop"),
]
WHOLE = START + ROUND_1 + ROUND_2 + ROUND_3 + FINISH


def apply(msg, events) -> None:
    for e in events:
        msg.apply(e)
