"""Tool use over Anthropic's Messages API, replayed on 127.0.0.1: tool_use blocks with
input_json_delta, parallel calls, invalid input, and the signed thinking blocks sent back."""

from __future__ import annotations

import math

from app.domain import events as ev
from app.domain.tools.history import round_history
from app.domain.tools.types import ToolCall, ToolResult
from app.domain.turn_request import TurnRequest
from helpers.cloud_tools import TOOLS, USER, assert_nothing_private, calls_of, results_for, second_request, state_of

PATH = "/v1/messages"
BETA = "interleaved-thinking-2025-05-14"
THOUGHT = ["The user wants 6 × 7 — ", "and the time.\n\n", "I'll call both tools.  "]
SIGNATURE = "EqQBCkgIARABGAIiQL2Vt+/Signed=="
REDACTED = "EmwKAhgBEgy3va3pzix/LafPsn4a"


def event(cloud, kind: str, **data) -> bytes:
    return cloud.sse({"type": kind, **data}, event=kind)


def block(cloud, index: int, content: dict, deltas: list[dict]) -> bytes:
    blob = event(cloud, "content_block_start", index=index, content_block=content)
    for delta in deltas:
        blob += event(cloud, "content_block_delta", index=index, delta=delta)
    return blob + event(cloud, "content_block_stop", index=index)


def tool_use(cloud, index: int, id: str, name: str, fragments: list[str]) -> bytes:
    return block(cloud, index, {"type": "tool_use", "id": id, "name": name, "input": {}},
                 [{"type": "input_json_delta", "partial_json": f} for f in fragments])


def message(cloud, *blocks: bytes, stop: str = "tool_use") -> bytes:
    start = event(cloud, "message_start", message={
        "id": "msg_1", "type": "message", "role": "assistant", "content": [], "model": "claude-test",
        "stop_reason": None, "usage": {"input_tokens": 120, "output_tokens": 1}})
    end = (event(cloud, "message_delta", delta={"stop_reason": stop, "stop_sequence": None},
                 usage={"output_tokens": 200}) + event(cloud, "message_stop"))
    return start + event(cloud, "ping") + b"".join(blocks) + end


def two_calls(cloud) -> bytes:
    return message(
        cloud,
        block(cloud, 0, {"type": "redacted_thinking", "data": REDACTED}, []),
        block(cloud, 1, {"type": "thinking", "thinking": "", "signature": ""},
              [{"type": "thinking_delta", "thinking": t} for t in THOUGHT]
              + [{"type": "signature_delta", "signature": SIGNATURE}]),
        block(cloud, 2, {"type": "text", "text": ""}, [{"type": "text_delta", "text": "Let me check."}]),
        tool_use(cloud, 3, "toolu_01", "calculator", ['{"expre', 'ssion": ', '"6 * 7"}']),
        tool_use(cloud, 4, "toolu_02", "clock", [""]),
    )


def answer(cloud) -> bytes:
    return message(cloud, block(cloud, 0, {"type": "text", "text": ""}, [{"type": "text_delta", "text": "42."}]),
                   stop="end_turn")


def run_first(cloud, blob: bytes, *, budget: int | None = 2048):
    cloud.server.script(PATH, cloud.Reply(pieces=cloud.odd(blob)), cloud.Reply(pieces=[answer(cloud)]))
    profile = cloud.profile("anthropic", path="", model="claude-test", budget=budget)
    return profile, cloud.run(profile, TurnRequest(messages=(USER,), max_tokens=64, tools=TOOLS))


EXPECTED_BLOCKS = [
    {"type": "redacted_thinking", "data": REDACTED},
    {"type": "thinking", "thinking": "".join(THOUGHT), "signature": SIGNATURE},
    {"type": "text", "text": "Let me check."},
    {"type": "tool_use", "id": "toolu_01", "name": "calculator", "input": {"expression": "6 * 7"}},
    {"type": "tool_use", "id": "toolu_02", "name": "clock", "input": {}},
]


def test_tool_use_blocks_stream_their_input_in_fragments(cloud):
    _, turn = run_first(cloud, two_calls(cloud))
    assert [(e.call_id, e.name) for e in turn.of(ev.ToolCallOpened)] == [("toolu_01", "calculator"),
                                                                        ("toolu_02", "clock")]
    calc, clock = calls_of(turn)
    assert (calc.arguments, calc.raw, calc.error) == ({"expression": "6 * 7"}, '{"expression": "6 * 7"}', None)
    assert (clock.arguments, clock.error) == ({}, None)
    assert turn.of(ev.TurnFinished)[0].finish_reason == "tool_calls"
    assert state_of(turn) == {"anthropic": {"content": EXPECTED_BLOCKS}}
    # thinking → text → the calls, in the order they happened
    assert [type(p).__name__ for p in turn.message.parts] == ["ReasoningBlock", "ReasoningBlock", "AnswerPart",
                                                              "ToolCallPart", "ToolCallPart"]
    # the tool arguments are output too: not counted as thinking in the estimated split
    stats = turn.message.stats
    calls = math.ceil(len("calculator" + calc.raw + "clock" + clock.raw) / 4)
    assert stats.answer_tokens == math.ceil(len("Let me check.") / 4) + calls
    assert stats.reasoning_tokens == 200 - stats.answer_tokens and stats.estimated
    request = cloud.server.requests[0]
    assert request["headers"]["anthropic-beta"] == BETA
    body = request["json"]
    assert body["tools"] == [
        {"name": "calculator", "description": "Exact arithmetic.", "input_schema": TOOLS[0].parameters},
        {"name": "clock", "description": "The time now.", "input_schema": {"type": "object"}}]
    assert "tool_choice" not in body  # the default, auto: the only choice besides none with thinking


def test_thinking_blocks_go_back_unchanged_with_their_signatures(cloud):
    profile, turn = run_first(cloud, two_calls(cloud))
    results = results_for(calls_of(turn), {"toolu_01": "42", "toolu_02": "Clock is offline."}, errors=["toolu_02"])
    second = cloud.run(profile, second_request(turn, results))
    assert second.message.answer == "42."
    request = cloud.server.requests[1]
    assert request["headers"]["anthropic-beta"] == BETA
    sent = request["json"]["messages"]
    assert sent == [
        USER,
        {"role": "assistant", "content": EXPECTED_BLOCKS},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_01", "content": "42", "is_error": False},
            {"type": "tool_result", "tool_use_id": "toolu_02", "content": "Clock is offline.", "is_error": True}]},
    ]
    thinking = sent[1]["content"][1]
    assert thinking["thinking"] == "The user wants 6 × 7 — and the time.\n\nI'll call both tools.  "  # byte for byte
    assert thinking["signature"] == SIGNATURE and sent[1]["content"][0]["data"] == REDACTED
    assert_nothing_private(request["json"])


def test_invalid_json_input_gives_a_call_with_an_error(cloud):
    blob = message(cloud, tool_use(cloud, 0, "toolu_09", "calculator", ['{"expression": ', "6 * 7}"]))
    profile, turn = run_first(cloud, blob, budget=None)
    (call,) = calls_of(turn)
    assert call.id == "toolu_09" and call.arguments == {} and "not valid JSON" in call.error
    assert turn.message.error is None and turn.of(ev.TurnFinished)[0].finish_reason == "tool_calls"
    assert "anthropic-beta" not in cloud.server.requests[0]["headers"]  # no thinking: no beta
    cloud.run(profile, second_request(turn, [ToolResult("toolu_09", call.error, is_error=True)]))
    sent = cloud.server.requests[1]["json"]["messages"]
    assert sent[1]["content"] == [{"type": "tool_use", "id": "toolu_09", "name": "calculator", "input": {}}]
    assert sent[2]["content"][0]["is_error"] is True


def test_the_last_round_declares_the_tools_it_used_and_allows_no_more_calls(cloud):
    """A request with tool blocks must declare tools; the runner offers none after the last round."""
    profile, turn = run_first(cloud, two_calls(cloud))
    cloud.run(profile, second_request(turn, tools=()))
    body = cloud.server.requests[1]["json"]
    assert [t["name"] for t in body["tools"]] == ["calculator", "clock"]
    assert body["tool_choice"] == {"type": "none"}


def test_a_round_from_the_history_is_built_from_its_calls(cloud):
    call = ToolCall("toolu_h", "calculator", {"expression": "1+1"})
    history = (USER, *round_history([call], [ToolResult("toolu_h", "2")], content="Adding.", reasoning="private"),
               {"role": "assistant", "content": "2"}, USER)
    cloud.server.script(PATH, cloud.Reply(pieces=[answer(cloud)]))
    cloud.run(cloud.profile("anthropic", path=""), TurnRequest(messages=history, max_tokens=64, tools=TOOLS))
    sent = cloud.server.requests[0]["json"]["messages"]
    assert sent[1:3] == [
        {"role": "assistant", "content": [{"type": "text", "text": "Adding."},
                                          {"type": "tool_use", "id": "toolu_h", "name": "calculator",
                                           "input": {"expression": "1+1"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_h", "content": "2",
                                      "is_error": False}]}]
    assert "private" not in str(cloud.server.requests[0]["json"])


def test_a_whitespace_text_block_is_left_out_of_the_passback(cloud):
    blob = message(cloud,
                   block(cloud, 0, {"type": "thinking", "thinking": "", "signature": ""},
                         [{"type": "thinking_delta", "thinking": "Hm."},
                          {"type": "signature_delta", "signature": "S"}]),
                   block(cloud, 1, {"type": "text", "text": ""}, [{"type": "text_delta", "text": "\n\n"}]),
                   tool_use(cloud, 2, "toolu_w", "clock", []))
    profile, turn = run_first(cloud, blob)
    cloud.run(profile, second_request(turn))
    content = cloud.server.requests[1]["json"]["messages"][1]["content"]
    assert [b["type"] for b in content] == ["thinking", "tool_use"]
