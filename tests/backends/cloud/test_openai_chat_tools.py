"""Tool calls over OpenAI-compatible chat completions (OpenAI, DeepSeek, Ollama), replayed on
127.0.0.1: fragments by index, parallel calls, invalid arguments, and what goes back."""

from __future__ import annotations

import json

from app.domain import events as ev
from app.domain.messages import ToolCallPart
from app.domain.tools.history import round_history
from app.domain.tools.types import ToolCall, ToolResult
from app.domain.turn_request import TurnRequest
from helpers.cloud_tools import (SENTINEL, TOOLS, USER, assert_nothing_private, calls_of, keys_in, results_for,
                                 second_request, state_of)

PATH = "/v1/chat/completions"
REASONING = ["I need 6 × 7 ", "and the time.\n", "Call both.  "]  # exact, trailing spaces included


def chunk(delta: dict | None = None, finish: str | None = None, **extra) -> dict:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": choices, **extra}


def call_delta(index: int, arguments: str, *, id: str | None = None, name: str | None = None) -> dict:
    entry: dict = {"index": index, "function": {"arguments": arguments}}
    if id:
        entry.update(id=id, type="function")
        entry["function"]["name"] = name
    return {"tool_calls": [entry]}


def stream(cloud, *objs) -> bytes:
    return b"".join(cloud.sse(o) for o in objs) + cloud.sse("[DONE]")


USAGE = chunk(None, usage={"prompt_tokens": 40, "completion_tokens": 60,
                           "completion_tokens_details": {"reasoning_tokens": 30}})


def deepseek_calls(cloud) -> bytes:
    """DeepSeek thinking mode: reasoning, then two calls streamed in fragments by index."""
    objs = [chunk({"role": "assistant", "content": None, "reasoning_content": REASONING[0]}),
            chunk({"reasoning_content": REASONING[1]}), chunk({"reasoning_content": REASONING[2]}),
            chunk(call_delta(0, "", id="call_0", name="calculator")),
            chunk(call_delta(0, '{"expr')), chunk(call_delta(0, 'ession": "6 *')), chunk(call_delta(0, ' 7"}')),
            chunk(call_delta(1, "", id="call_1", name="clock")), chunk(call_delta(1, "{}")),
            chunk({}, "tool_calls"), USAGE]
    return stream(cloud, *objs)


def answer(cloud, text: str = "It is 42.") -> bytes:
    return stream(cloud, chunk({"content": text}, "stop"))


def run_round(cloud, profile, first: bytes):
    cloud.server.script(PATH, cloud.Reply(pieces=cloud.odd(first)), cloud.Reply(pieces=[answer(cloud)]))
    return cloud.run(profile, TurnRequest(messages=(USER,), max_tokens=64, tools=TOOLS))


def test_calls_streamed_in_fragments_are_opened_then_parsed(cloud):
    profile = cloud.profile(model="deepseek-v4-pro")
    turn = run_round(cloud, profile, deepseek_calls(cloud))
    kinds = [type(e) for e in turn.events if type(e) in (ev.ToolCallOpened, ev.ToolCallParsed, ev.ProviderState,
                                                         ev.TurnFinished)]
    assert kinds == [ev.ToolCallOpened, ev.ToolCallOpened, ev.ToolCallParsed, ev.ToolCallParsed, ev.ProviderState,
                     ev.TurnFinished]
    assert [(e.call_id, e.name) for e in turn.of(ev.ToolCallOpened)] == [("call_0", "calculator"), ("call_1", "clock")]
    calc, clock = calls_of(turn)
    assert (calc.id, calc.name, calc.arguments, calc.error) == ("call_0", "calculator", {"expression": "6 * 7"}, None)
    assert calc.raw == '{"expression": "6 * 7"}'
    assert (clock.name, clock.arguments, clock.error) == ("clock", {}, None)
    assert turn.of(ev.TurnFinished)[0].finish_reason == "tool_calls"
    # the message shows the calls after the thinking that led to them
    msg = turn.message
    assert [type(p).__name__ for p in msg.parts] == ["ReasoningBlock", "ToolCallPart", "ToolCallPart"]
    assert all(isinstance(p, ToolCallPart) and p.state == "requested" for p in msg.parts[1:])
    assert msg.blocks[0].paused_for_call  # the thinking goes on after the results
    # the request offered the tools in the API's form
    body = cloud.server.requests[0]["json"]
    assert body["tools"] == [
        {"type": "function", "function": {"name": "calculator", "description": "Exact arithmetic.",
                                          "parameters": TOOLS[0].parameters}},
        {"type": "function", "function": {"name": "clock", "description": "The time now.",
                                          "parameters": {"type": "object"}}}]
    assert turn.events[0].tool_tokens > 0 and turn.events[0].prompt_tokens > turn.events[0].tool_tokens


def test_deepseek_gets_its_reasoning_content_back_exactly(cloud):
    profile = cloud.profile(model="deepseek-v4-pro")
    turn = run_round(cloud, profile, deepseek_calls(cloud))
    state = state_of(turn)["openai"]
    assert state["reasoning_field"] == "reasoning_content" and state["reasoning"] == "".join(REASONING)
    results = results_for(calls_of(turn), {"call_0": "42", "call_1": "12:00"})
    second = cloud.run(profile, second_request(turn, results))
    assert second.message.answer == "It is 42."
    sent = cloud.server.requests[1]["json"]["messages"]
    assert sent == [
        USER,
        {"role": "assistant", "content": None, "reasoning_content": "I need 6 × 7 and the time.\nCall both.  ",
         "tool_calls": [
             {"id": "call_0", "type": "function", "function": {"name": "calculator",
                                                               "arguments": '{"expression": "6 * 7"}'}},
             {"id": "call_1", "type": "function", "function": {"name": "clock", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_0", "content": "42"},
        {"role": "tool", "tool_call_id": "call_1", "content": "12:00"},
    ]
    assert_nothing_private(cloud.server.requests[1]["json"])


def test_deepseek_rounds_from_the_history_keep_a_reasoning_content(cloud):
    """An earlier turn's rounds (no ProviderState): the round's reasoning, or an empty one, goes
    back: DeepSeek answers 400 when an assistant message with tool calls lacks the field."""
    call = ToolCall("call_9", "calculator", {"expression": "1+1"})
    old = round_history([call], [ToolResult("call_9", "2")], reasoning="Add them.")
    bare = round_history([ToolCall("call_8", "clock")], [ToolResult("call_8", "noon")])
    request = TurnRequest(messages=(USER, *old, {"role": "assistant", "content": "2"}, USER, *bare,
                                    {"role": "assistant", "content": "noon"}, USER), max_tokens=64)
    cloud.server.script(PATH, cloud.Reply(pieces=[answer(cloud)]))
    cloud.run(cloud.profile(model="deepseek-chat"), request)
    sent = cloud.server.requests[0]["json"]["messages"]
    assert [m.get("reasoning_content") for m in sent if m.get("tool_calls")] == ["Add them.", ""]
    assert "tools" not in cloud.server.requests[0]["json"]


def test_other_servers_get_no_reasoning_field_they_did_not_stream(cloud):
    call = ToolCall("c1", "calculator", {"expression": "1+1"})
    request = TurnRequest(messages=(USER, *round_history([call], [ToolResult("c1", "2")], reasoning=SENTINEL)),
                          max_tokens=64, tools=TOOLS)
    cloud.server.script(PATH, cloud.Reply(pieces=[answer(cloud)]))
    cloud.run(cloud.profile(model="gpt-5"), request)
    body = cloud.server.requests[0]["json"]
    assert keys_in(body["messages"]) == {"role", "content", "tool_calls", "tool_call_id"}
    assert_nothing_private(body)


def test_ollama_parallel_calls_at_index_zero_are_told_apart_by_id(cloud):
    objs = [chunk({"role": "assistant", "content": ""}),
            chunk(call_delta(0, '{"expression": "1 + 1"}', id="call_a", name="calculator")),
            chunk(call_delta(0, '{"expression": "2 + 2"}', id="call_b", name="calculator")),
            chunk({}, "stop")]  # (Ollama: "stop" although it called tools)
    cloud.server.script(PATH, cloud.Reply(pieces=cloud.odd(stream(cloud, *objs))))
    turn = cloud.run(cloud.profile(), TurnRequest(messages=(USER,), max_tokens=64, tools=TOOLS))
    assert [(c.id, c.arguments) for c in calls_of(turn)] == [("call_a", {"expression": "1 + 1"}),
                                                             ("call_b", {"expression": "2 + 2"})]
    assert turn.of(ev.TurnFinished)[0].finish_reason == "tool_calls"


def test_arguments_sent_as_an_object_and_fragments_without_ids(cloud):
    """A server that sends decoded arguments, and one whose later fragments repeat the same id."""
    objs = [chunk({"tool_calls": [{"index": 0, "id": "x1", "function": {"name": "calculator",
                                                                        "arguments": {"expression": "3"}}}]}),
            chunk({"tool_calls": [{"index": 1, "id": "x2", "function": {"name": "calculator", "arguments": '{"ex'}}]}),
            chunk({"tool_calls": [{"index": 1, "id": "x2", "function": {"arguments": 'pression": "4"}'}}]}),
            chunk({}, "tool_calls")]
    cloud.server.script(PATH, cloud.Reply(pieces=[stream(cloud, *objs)]))
    turn = cloud.run(cloud.profile(), TurnRequest(messages=(USER,), max_tokens=64, tools=TOOLS))
    assert [(c.id, c.arguments, c.error) for c in calls_of(turn)] == [("x1", {"expression": "3"}, None),
                                                                      ("x2", {"expression": "4"}, None)]


def test_invalid_json_arguments_give_a_call_with_an_error(cloud):
    objs = [chunk(call_delta(0, '{"expression": 6 *', id="call_z", name="calculator")),
            chunk(call_delta(0, " 7")), chunk({}, "tool_calls")]
    cloud.server.script(PATH, cloud.Reply(pieces=cloud.odd(stream(cloud, *objs))), cloud.Reply(pieces=[answer(cloud)]))
    profile = cloud.profile()
    turn = cloud.run(profile, TurnRequest(messages=(USER,), max_tokens=64, tools=TOOLS))
    (call,) = calls_of(turn)
    assert call.name == "calculator" and call.arguments == {} and call.raw == '{"expression": 6 * 7'
    assert "not valid JSON" in call.error and turn.message.error is None
    assert turn.of(ev.TurnFinished)[0].finish_reason == "tool_calls"  # the model reads the error next
    cloud.run(profile, second_request(turn, [ToolResult("call_z", call.error, is_error=True)]))
    sent = cloud.server.requests[1]["json"]["messages"]
    assert sent[1]["tool_calls"][0]["function"]["arguments"] == "{}"  # never the broken text
    assert sent[2] == {"role": "tool", "tool_call_id": "call_z", "content": call.error}


def test_a_call_cut_off_by_the_length_limit_is_never_runnable(cloud):
    objs = [chunk(call_delta(0, '{"expression": "6', id="call_c", name="calculator")), chunk({}, "length")]
    cloud.server.script(PATH, cloud.Reply(pieces=[stream(cloud, *objs)]))
    turn = cloud.run(cloud.profile(), TurnRequest(messages=(USER,), max_tokens=64, tools=TOOLS))
    (call,) = calls_of(turn)
    assert call.error and "ended before" in call.error and call.arguments == {}
    assert turn.of(ev.TurnFinished)[0].finish_reason == "length" and not turn.of(ev.ProviderState)


def test_plain_turns_carry_only_role_and_content(cloud):
    messages = ({"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hi", "provider_state": {"openai": SENTINEL}},
                {"role": "assistant", "content": "Hello", "reasoning": SENTINEL, "is_error": False},
                {"role": "tool", "tool_call_id": "orphan", "content": SENTINEL},  # its call was dropped
                {"role": "user", "content": "Again"})
    cloud.server.script(PATH, cloud.Reply(pieces=[answer(cloud)]))
    cloud.run(cloud.profile(), TurnRequest(messages=messages, max_tokens=64))
    sent = cloud.server.requests[0]["json"]["messages"]
    assert sent == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
                    {"role": "assistant", "content": "Hello"}, {"role": "user", "content": "Again"}]
    assert_nothing_private(cloud.server.requests[0]["json"])


def test_a_call_without_a_result_is_answered_so_the_request_stays_valid(cloud):
    calls = [ToolCall("k1", "calculator", {"expression": "1"}), ToolCall("k2", "clock")]
    added = round_history(calls[:1], [ToolResult("k1", "1")])
    added[0]["tool_calls"] = tuple(calls)  # the second call's result went missing
    cloud.server.script(PATH, cloud.Reply(pieces=[answer(cloud)]))
    cloud.run(cloud.profile(), TurnRequest(messages=(USER, *added), max_tokens=64))
    sent = cloud.server.requests[0]["json"]["messages"]
    assert [m["tool_call_id"] for m in sent if m["role"] == "tool"] == ["k1", "k2"]
    assert "not run" in sent[-1]["content"]
    assert json.loads(sent[1]["tool_calls"][0]["function"]["arguments"]) == {"expression": "1"}
