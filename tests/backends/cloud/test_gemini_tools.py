"""Function calling over Gemini's streamGenerateContent, replayed on 127.0.0.1: whole
functionCall parts, parallel calls, unusable arguments, and thought signatures sent back."""

from __future__ import annotations

from app.domain import events as ev
from app.domain.tools.history import round_history
from app.domain.tools.types import ToolCall, ToolResult
from app.domain.turn_request import TurnRequest
from helpers.cloud_tools import TOOLS, USER, assert_nothing_private, calls_of, results_for, second_request, state_of

PATH = "/v1beta/models/gemini-test:streamGenerateContent"
SIGNATURE = "CiIBVKhc7vB+signed/thought=="
USAGE = {"promptTokenCount": 30, "candidatesTokenCount": 12, "thoughtsTokenCount": 80}


def chunk(parts: list[dict], finish: str | None = None, usage: dict | None = None) -> dict:
    candidate: dict = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    obj: dict = {"candidates": [candidate], "modelVersion": "gemini-test"}
    if usage:
        obj["usageMetadata"] = usage
    return obj


CALC = {"functionCall": {"name": "calculator", "args": {"expression": "6 * 7"}}, "thoughtSignature": SIGNATURE}
CLOCK = {"functionCall": {"name": "clock", "args": {}}}  # a parallel call: only the first part is signed


def two_calls(cloud) -> bytes:
    return b"".join(cloud.sse(c) for c in [
        chunk([{"text": "**Planning** both", "thought": True}]),
        chunk([{"text": " calls.", "thought": True}]),
        chunk([CALC]),
        chunk([CLOCK], finish="STOP", usage=USAGE),
    ])


def answer(cloud) -> bytes:
    return cloud.sse(chunk([{"text": "42."}], finish="STOP", usage=USAGE))


def run_first(cloud, blob: bytes):
    cloud.server.script(PATH, cloud.Reply(pieces=cloud.odd(blob)), cloud.Reply(pieces=[answer(cloud)]))
    profile = cloud.profile("gemini", path="/v1beta", model="gemini-test", budget=512)
    return profile, cloud.run(profile, TurnRequest(messages=(USER,), max_tokens=64, tools=TOOLS))


def test_function_call_parts_are_whole_calls(cloud):
    _, turn = run_first(cloud, two_calls(cloud))
    calc, clock = calls_of(turn)
    assert [(e.call_id, e.name) for e in turn.of(ev.ToolCallOpened)] == [(calc.id, "calculator"), (clock.id, "clock")]
    assert calc.id != clock.id  # the model named neither: Ponder does
    assert (calc.arguments, calc.error, clock.arguments, clock.error) == ({"expression": "6 * 7"}, None, {}, None)
    assert turn.of(ev.TurnFinished)[0].finish_reason == "tool_calls"  # STOP after calls
    assert state_of(turn) == {"gemini": {"parts": [{"text": "**Planning** both calls.", "thought": True}, CALC, CLOCK]}}
    assert turn.message.reasoning == "**Planning** both calls."
    body = cloud.server.requests[0]["json"]
    assert body["tools"] == [{"functionDeclarations": [
        {"name": "calculator", "description": "Exact arithmetic.", "parametersJsonSchema": TOOLS[0].parameters},
        {"name": "clock", "description": "The time now.", "parametersJsonSchema": {"type": "object"}}]}]


def test_thought_signatures_go_back_on_the_parts_that_carried_them(cloud):
    profile, turn = run_first(cloud, two_calls(cloud))
    calc, clock = calls_of(turn)
    results = results_for([calc, clock], {calc.id: "42", clock.id: "No clock here."}, errors=[clock.id])
    second = cloud.run(profile, second_request(turn, results))
    assert second.message.answer == "42."
    body = cloud.server.requests[1]["json"]
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": USER["content"]}]},
        {"role": "model", "parts": [{"text": "**Planning** both calls.", "thought": True}, CALC, CLOCK]},
        {"role": "user", "parts": [
            {"functionResponse": {"name": "calculator", "response": {"output": "42"}}},
            {"functionResponse": {"name": "clock", "response": {"error": "No clock here."}}}]},
    ]
    assert body["contents"][1]["parts"][1]["thoughtSignature"] == SIGNATURE
    assert_nothing_private(body)


def test_call_ids_the_model_gives_are_echoed(cloud):
    signed = {"functionCall": {"id": "fc-7", "name": "clock", "args": {}}, "thoughtSignature": SIGNATURE}
    blob = b"".join(cloud.sse(c) for c in [chunk([signed]), chunk([{"text": "", "thoughtSignature": "TAIL"}],
                                                                   finish="STOP")])
    profile, turn = run_first(cloud, blob)
    (call,) = calls_of(turn)
    assert call.id == "fc-7"
    cloud.run(profile, second_request(turn))
    contents = cloud.server.requests[1]["json"]["contents"]
    assert contents[1]["parts"] == [signed, {"text": "", "thoughtSignature": "TAIL"}]  # a signed empty part stays
    assert contents[2]["parts"] == [{"functionResponse": {"name": "clock", "response": {"output": "result of fc-7"},
                                                          "id": "fc-7"}}]


def test_arguments_that_are_not_an_object_give_a_call_with_an_error(cloud):
    blob = cloud.sse(chunk([{"functionCall": {"name": "calculator", "args": ["6", "7"]}}], finish="STOP"))
    profile, turn = run_first(cloud, blob)
    (call,) = calls_of(turn)
    assert call.arguments == {} and "not an object" in call.error and turn.message.error is None
    assert turn.of(ev.TurnFinished)[0].finish_reason == "tool_calls"
    cloud.run(profile, second_request(turn, [ToolResult(call.id, call.error, is_error=True)]))
    contents = cloud.server.requests[1]["json"]["contents"]
    assert contents[1]["parts"] == [{"functionCall": {"name": "calculator", "args": {}}}]
    assert contents[2]["parts"][0]["functionResponse"]["response"] == {"error": call.error}


def test_a_round_from_the_history_is_built_from_its_calls(cloud):
    call = ToolCall("ponder-call-0123456789ab", "calculator", {"expression": "1+1"})
    history = (USER, *round_history([call], [ToolResult(call.id, "2")], content="Adding.", reasoning="private"),
               {"role": "assistant", "content": "2"}, USER)
    cloud.server.script(PATH, cloud.Reply(pieces=[answer(cloud)]))
    profile = cloud.profile("gemini", path="/v1beta", model="gemini-test")
    cloud.run(profile, TurnRequest(messages=history, max_tokens=64))
    body = cloud.server.requests[0]["json"]
    assert body["contents"][1:3] == [
        {"role": "model", "parts": [{"text": "Adding."},
                                    {"functionCall": {"name": "calculator", "args": {"expression": "1+1"}}}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "calculator", "response": {"output": "2"}}}]}]
    assert "private" not in str(body) and "tools" not in body
