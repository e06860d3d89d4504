"""Tool calls over OpenAI's Responses API, replayed on 127.0.0.1: function_call items with
argument deltas, parallel calls, invalid arguments, and every output item sent back in order."""

from __future__ import annotations

from app.domain import events as ev
from app.domain.tools.history import round_history
from app.domain.tools.types import ToolCall, ToolResult
from app.domain.turn_request import TurnRequest
from helpers.cloud_tools import TOOLS, USER, assert_nothing_private, calls_of, results_for, second_request, state_of

PATH = "/v1/responses"
ENCRYPTED = "gAAAAABpF-encrypted+reasoning/==" * 4

REASONING_ITEM = {"id": "rs_1", "type": "reasoning", "summary": [{"type": "summary_text", "text": "Plan both calls."}],
                  "encrypted_content": ENCRYPTED}
CALL_A = {"id": "fc_1", "type": "function_call", "status": "completed", "call_id": "call_a", "name": "calculator",
          "arguments": '{"expression":"6*7"}'}
CALL_B = {"id": "fc_2", "type": "function_call", "status": "completed", "call_id": "call_b", "name": "clock",
          "arguments": "{}"}


def event(cloud, kind: str, **data) -> bytes:
    return cloud.sse({"type": kind, **data}, event=kind)


def function_call(cloud, index: int, item: dict, fragments: list[str]) -> bytes:
    blob = event(cloud, "response.output_item.added", output_index=index,
                 item={**item, "arguments": "", "status": "in_progress"})
    for piece in fragments:
        blob += event(cloud, "response.function_call_arguments.delta", item_id=item["id"], output_index=index,
                      delta=piece)
    blob += event(cloud, "response.function_call_arguments.done", item_id=item["id"], output_index=index,
                  arguments=item["arguments"])
    return blob + event(cloud, "response.output_item.done", output_index=index, item=item)


def completed(cloud, output: list[dict]) -> bytes:
    usage = {"input_tokens": 50, "output_tokens": 90, "output_tokens_details": {"reasoning_tokens": 64}}
    return event(cloud, "response.completed", response={"id": "resp_1", "status": "completed", "output": output,
                                                         "usage": usage})


def two_calls(cloud, *, reasoning: dict = REASONING_ITEM, output: bool = True) -> bytes:
    return b"".join([
        event(cloud, "response.created", response={"id": "resp_1", "status": "in_progress"}),
        event(cloud, "response.output_item.added", output_index=0,
              item={"id": "rs_1", "type": "reasoning", "summary": []}),
        event(cloud, "response.reasoning_summary_part.added", item_id="rs_1", summary_index=0,
              part={"type": "summary_text", "text": ""}),
        event(cloud, "response.reasoning_summary_text.delta", item_id="rs_1", summary_index=0, delta="Plan both"),
        event(cloud, "response.reasoning_summary_text.delta", item_id="rs_1", summary_index=0, delta=" calls."),
        event(cloud, "response.output_item.done", output_index=0, item=reasoning),
        function_call(cloud, 1, CALL_A, ['{"expr', 'ession":', '"6*7"}']),
        function_call(cloud, 2, CALL_B, ["{", "}"]),
        completed(cloud, [reasoning, CALL_A, CALL_B] if output else []),
    ])


def answer(cloud) -> bytes:
    return b"".join([
        event(cloud, "response.output_item.added", output_index=0, item={"id": "msg_1", "type": "message"}),
        event(cloud, "response.output_text.delta", item_id="msg_1", output_index=0, content_index=0, delta="42."),
        completed(cloud, []),
    ])


def run_first(cloud, blob: bytes):
    cloud.server.script(PATH, cloud.Reply(pieces=cloud.odd(blob)), cloud.Reply(pieces=[answer(cloud)]))
    profile = cloud.profile("openai-responses", model="gpt-5", reasoning_effort="low")
    return profile, cloud.run(profile, TurnRequest(messages=(USER,), max_tokens=64, tools=TOOLS))


def test_function_calls_stream_as_items_with_argument_deltas(cloud):
    _, turn = run_first(cloud, two_calls(cloud))
    assert [(e.call_id, e.name) for e in turn.of(ev.ToolCallOpened)] == [("call_a", "calculator"), ("call_b", "clock")]
    a, b = calls_of(turn)
    assert (a.arguments, a.raw, a.error) == ({"expression": "6*7"}, '{"expression":"6*7"}', None)
    assert (b.arguments, b.error) == ({}, None)
    assert turn.of(ev.TurnFinished)[0].finish_reason == "tool_calls"
    assert turn.message.reasoning == "Plan both calls."
    assert state_of(turn) == {"openai-responses": {"items": [REASONING_ITEM, CALL_A, CALL_B]}}
    body = cloud.server.requests[0]["json"]
    assert body["tools"] == [
        {"type": "function", "name": "calculator", "description": "Exact arithmetic.",
         "parameters": TOOLS[0].parameters, "strict": False},
        {"type": "function", "name": "clock", "description": "The time now.", "parameters": {"type": "object"},
         "strict": False}]
    assert body["store"] is False and body["include"] == ["reasoning.encrypted_content"]


def test_every_output_item_goes_back_in_order_then_the_outputs(cloud):
    profile, turn = run_first(cloud, two_calls(cloud))
    results = results_for(calls_of(turn), {"call_a": "42", "call_b": "12:00"})
    second = cloud.run(profile, second_request(turn, results))
    assert second.message.answer == "42."
    body = cloud.server.requests[1]["json"]
    assert body["input"] == [
        USER, REASONING_ITEM, CALL_A, CALL_B,
        {"type": "function_call_output", "call_id": "call_a", "output": "42"},
        {"type": "function_call_output", "call_id": "call_b", "output": "12:00"},
    ]
    assert body["input"][1]["encrypted_content"] == ENCRYPTED
    assert_nothing_private(body)


def test_items_come_from_output_item_done_when_completed_lists_none(cloud):
    _, turn = run_first(cloud, two_calls(cloud, output=False))
    assert state_of(turn)["openai-responses"]["items"] == [REASONING_ITEM, CALL_A, CALL_B]


def test_a_reasoning_item_without_encrypted_content_is_not_sent_back(cloud):
    """With store false its id refers to nothing the provider kept: the API would refuse it."""
    bare = {"id": "rs_1", "type": "reasoning", "summary": []}
    profile, turn = run_first(cloud, two_calls(cloud, reasoning=bare))
    cloud.run(profile, second_request(turn))
    sent = cloud.server.requests[1]["json"]["input"]
    assert [i.get("type") for i in sent] == [None, "function_call", "function_call", "function_call_output",
                                             "function_call_output"]


def test_invalid_json_arguments_give_a_call_with_an_error(cloud):
    broken = {**CALL_A, "arguments": '{"expression": "6*7"'}
    blob = b"".join([function_call(cloud, 0, broken, ['{"expression": ', '"6*7"']), completed(cloud, [broken])])
    profile, turn = run_first(cloud, blob)
    (call,) = calls_of(turn)
    assert call.id == "call_a" and call.arguments == {} and "not valid JSON" in call.error
    assert turn.message.error is None and turn.of(ev.TurnFinished)[0].finish_reason == "tool_calls"
    cloud.run(profile, second_request(turn, [ToolResult("call_a", call.error, is_error=True)]))
    sent = cloud.server.requests[1]["json"]["input"]
    assert sent[1] == {**broken, "arguments": "{}"}  # the item, never the broken text
    assert sent[2] == {"type": "function_call_output", "call_id": "call_a", "output": call.error}


def test_a_round_from_the_history_is_built_from_its_calls(cloud):
    call = ToolCall("call_h", "calculator", {"expression": "1+1"})
    history = (USER, *round_history([call], [ToolResult("call_h", "2")], content="Let me add."),
               {"role": "assistant", "content": "2"}, USER)
    cloud.server.script(PATH, cloud.Reply(pieces=[answer(cloud)]))
    cloud.run(cloud.profile("openai-responses", model="gpt-5"), TurnRequest(messages=history, max_tokens=64))
    body = cloud.server.requests[0]["json"]
    assert body["input"] == [
        USER, {"role": "assistant", "content": "Let me add."},
        {"type": "function_call", "call_id": "call_h", "name": "calculator", "arguments": '{"expression": "1+1"}'},
        {"type": "function_call_output", "call_id": "call_h", "output": "2"},
        {"role": "assistant", "content": "2"}, USER]
    assert "tools" not in body and body["include"] == ["reasoning.encrypted_content"]
    assert_nothing_private(body)


def test_an_edited_call_goes_back_as_it_ran(cloud):
    profile, turn = run_first(cloud, two_calls(cloud))
    a, b = calls_of(turn)
    edited = ToolCall(a.id, a.name, {"expression": "6*8"}, raw=a.raw)  # the user changed it before Run
    added = round_history([edited, b], results_for([edited, b]), provider_state=state_of(turn))
    cloud.run(profile, TurnRequest(messages=(USER, *added), max_tokens=64, tools=TOOLS))
    sent = cloud.server.requests[1]["json"]["input"]
    assert sent[2] == {**CALL_A, "arguments": '{"expression": "6*8"}'} and sent[3] == CALL_B
