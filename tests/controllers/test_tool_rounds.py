"""The tool loop of the turn runner: think, call, read the result, go on — for local-like and
cloud-like backends alike; approval, denial, the round limit, bad calls, Stop."""

import asyncio
import threading

import pytest

from app.backends.fake import FakeBackend, FakeCloudBackend
from app.controllers.toolbox import ToolBox, ToolLimits
from app.controllers.turn_runner import TurnRunner, drive_turn
from app.domain import events as ev
from app.domain.messages import AssistantMessage
from app.domain.reasoning.markers import FAMILIES
from app.domain.tools.calculator import CALCULATOR_SPEC
from app.domain.tools.types import ToolCall
from app.domain.turn_control import TurnControl
from app.domain.turn_request import TurnRequest
from helpers.models import profile

THINK = FAMILIES["think"]
CALC = ToolCall("c1", "calculator", {"expression": "6*7"})
PY = ToolCall("p1", "python", {"code": "print(6 * 7)"})
FIRST = ["<think>", "Let ", "me ", "compute. ", "</think>", CALC]
AFTER = ["<think>", "It ", "is ", "42. ", "</think>", "The ", "answer ", "is ", "42."]


def request(tools=(CALCULATOR_SPEC,)):
    return TurnRequest(messages=({"role": "user", "content": "What is 6 times 7?"},), max_tokens=1000,
                       tools=tuple(tools))


def play(backend, tools: ToolBox | None, *, press=None, req=None):
    control = TurnControl()
    events: list = []

    def emit(batch):
        for event in batch:
            events.append(event)
            if press:
                press(event, control)

    asyncio.run(drive_turn(TurnRunner.on(backend, tools=tools), req or request(), control, emit))
    msg = AssistantMessage()
    for event in events:
        msg.apply(event)
    return events, msg


@pytest.mark.parametrize("make", [FakeBackend, FakeCloudBackend], ids=["local", "cloud"])
def test_think_call_read_think_answer(make):
    backend = make(profile(), FIRST, follow_up=AFTER, spec=THINK)
    events, msg = play(backend, ToolBox.builtin(("calculator",)))
    assert [type(p).__name__ for p in msg.parts] == ["ReasoningBlock", "ToolCallPart", "ReasoningBlock", "AnswerPart"]
    part = msg.tool_calls[0]
    assert part.state == "done" and part.result.text.startswith("42") and part.approved
    assert msg.answer == "The answer is 42." and msg.finish_reason == "stop"
    second = backend.requests[1]
    assert [m["role"] for m in second.messages] == ["user", "assistant", "tool"]
    assert second.messages[1]["tool_calls"] == (CALC,) and second.messages[1]["reasoning"] == "Let me compute."
    assert second.messages[2]["content"] == part.result.text and second.messages[2]["tool_call_id"] == "c1"
    assert [type(e) for e in events].count(ev.CallStarted) == 1 and events[-1].finish_reason == "stop"


def test_a_call_that_needs_approval_waits_and_runs_with_the_edited_arguments():
    backend = FakeBackend(profile(), ["<think>", "calc ", "</think>", ToolCall("c2", "calculator", {"expression": "1+1"})],
                          follow_up=["ok"], spec=THINK)
    tools = ToolBox.builtin(("calculator",), policies={"calculator": "ask"})
    asked = []

    def press(event, control):
        if type(event) is ev.ToolApprovalRequested:
            asked.append(event.reach)
            threading.Timer(0.05, control.approve, args=("c2", {"expression": "2+3"}),
                            kwargs={"remember": "conversation"}).start()

    events, msg = play(backend, tools, press=press)
    assert asked and "nothing else" in asked[0]
    part = msg.tool_calls[0]
    assert part.call.arguments == {"expression": "2+3"} and part.result.text.startswith("5")
    assert "calculator" in tools.allowed  # allowed for the rest of the conversation


def test_a_denied_call_tells_the_model_and_the_turn_goes_on():
    backend = FakeCloudBackend(profile(), ["Let me run code. ", PY], follow_up=["Without running it: 42."])
    events, msg = play(backend, ToolBox.builtin(("python",)),
                       press=lambda e, c: c.deny("p1") if type(e) is ev.ToolApprovalRequested else None)
    part = msg.tool_calls[0]
    assert part.state == "denied" and part.approved is False and "declined" in part.result.text
    assert backend.requests[1].messages[-1]["is_error"] is True
    assert msg.answer.endswith("Without running it: 42.")


def test_headless_without_yes_declines_calls_that_need_approval_and_yes_runs_them():
    declined = play(FakeBackend(profile(), [PY], follow_up=["done"]),
                    ToolBox.builtin(("python",), interactive=False))[1].tool_calls[0]
    assert declined.state == "denied" and "--yes" in declined.result.text
    ran = play(FakeBackend(profile(), [PY], follow_up=["done"]),
               ToolBox.builtin(("python",), interactive=False, yes=True))[1].tool_calls[0]
    assert ran.state == "done" and "42" in ran.result.text


def test_unknown_tools_and_bad_arguments_are_answered_not_run():
    bad = [ToolCall("u1", "weather", {"city": "Oslo"}), ToolCall("b1", "calculator", {"expr": "1"}),
           ToolCall("j1", "calculator", {}, error="the arguments are not valid JSON: {\"expression\": 1+")]
    backend = FakeBackend(profile(), bad, follow_up=["sorry"])
    _, msg = play(backend, ToolBox.builtin(("calculator",)))
    texts = [p.result.text for p in msg.tool_calls]
    assert all(p.state == "error" for p in msg.tool_calls)
    assert "weather" in texts[0] and "expression" in texts[1] and "not valid JSON" in texts[2]


def test_the_round_limit_is_said_and_the_model_then_answers_without_tools():
    looping = [ToolCall(f"c{i}", "calculator", {"expression": f"{i}+1"}) for i in range(5)]
    backend = FakeBackend(profile(), [looping[0]], follow_up=[[c] for c in looping[1:]] + [["final"]] * 3)
    _, msg = play(backend, ToolBox.builtin(("calculator",), limits=ToolLimits(max_rounds=2)))
    states = [(p.round, p.state) for p in msg.tool_calls]
    assert states[:2] == [(1, "done"), (2, "done")] and states[2][1] == "error"
    assert "limit of 2 tool rounds" in msg.tool_calls[2].result.text
    assert backend.requests[3].tools == ()  # the last call is offered no tools


def test_long_results_are_cut_with_a_visible_note():
    backend = FakeBackend(profile(), [ToolCall("c", "calculator", {"expression": "2**3000"})], follow_up=["big"])
    _, msg = play(backend, ToolBox.builtin(("calculator",), limits=ToolLimits(max_result_chars=200)))
    result = msg.tool_calls[0].result
    assert result.truncated_from and result.truncated_from > 200 and "cut by Ponder" in result.text


def test_stop_during_a_tool_cancels_it_at_once():
    backend = FakeBackend(profile(), [ToolCall("p", "python", {"code": "import time; time.sleep(30)"})],
                          follow_up=["never"])
    started = []

    def press(event, control):
        if type(event) is ev.ToolCallRunning:
            started.append(1)
            threading.Timer(0.3, control.stop).start()

    import time
    t0 = time.monotonic()
    events, msg = play(backend, ToolBox.builtin(("python",), yes=True), press=press)
    assert started and msg.finish_reason == "cancelled" and time.monotonic() - t0 < 10
    assert len(backend.requests) == 1  # nothing went back to the model


def test_without_a_toolbox_calls_are_not_run():
    backend = FakeBackend(profile(), ["text ", CALC], follow_up=["never"])
    _, msg = play(backend, None)
    assert msg.tool_calls[0].state == "requested" and len(backend.requests) == 1 and msg.finish_reason == "stop"
