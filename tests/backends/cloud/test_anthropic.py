"""Anthropic Messages API: thinking blocks with signatures, redacted thinking, usage, errors."""

from __future__ import annotations

from app.domain import events as ev

PATH = "/v1/messages"


def event(cloud, kind: str, **data) -> bytes:
    return cloud.sse({"type": kind, **data}, event=kind)


def start(cloud, input_tokens: int = 25) -> bytes:
    return event(cloud, "message_start", message={
        "id": "msg_1", "type": "message", "role": "assistant", "content": [], "model": "claude-test",
        "stop_reason": None, "usage": {"input_tokens": input_tokens, "output_tokens": 1}})


def end(cloud, output_tokens: int, reason: str = "end_turn") -> bytes:
    return (event(cloud, "message_delta", delta={"stop_reason": reason, "stop_sequence": None},
                  usage={"output_tokens": output_tokens}) + event(cloud, "message_stop"))


def block(cloud, index: int, kind: str, deltas: list[dict], **content) -> bytes:
    blob = event(cloud, "content_block_start", index=index, content_block={"type": kind, **content})
    for delta in deltas:
        blob += event(cloud, "content_block_delta", index=index, delta=delta)
    return blob + event(cloud, "content_block_stop", index=index)


def thinking(cloud, index: int, text: list[str], signature: str) -> bytes:
    deltas = [{"type": "thinking_delta", "thinking": t} for t in text]
    deltas.append({"type": "signature_delta", "signature": signature})
    return block(cloud, index, "thinking", deltas, thinking="", signature="")


def text(cloud, index: int, parts: list[str]) -> bytes:
    return block(cloud, index, "text", [{"type": "text_delta", "text": t} for t in parts], text="")


def test_thinking_block_signature_answer_and_usage(cloud):
    blob = (start(cloud) + event(cloud, "ping") + thinking(cloud, 0, ["Let me", " add: 2 + 2 = 4."], "EqQBCkgIARAB")
            + text(cloud, 1, ["The answer", " is 4."]) + end(cloud, 300))
    cloud.server.script(PATH, cloud.Reply(pieces=cloud.odd(blob)))
    turn = cloud.run(cloud.profile("anthropic", path="", model="claude-test", budget=500))
    msg = turn.message
    assert msg.reasoning == "Let me add: 2 + 2 = 4." and msg.answer == "The answer is 4."
    assert [b.signature for b in msg.blocks] == ["EqQBCkgIARAB"]
    assert msg.blocks[0].end is not None and not msg.blocks[0].truncated
    assert msg.finish_reason == "stop" and msg.stats.prompt_tokens == 25
    # one output count from Anthropic, split with the answer text that arrived: flagged as estimated
    assert msg.stats.reasoning_tokens + msg.stats.answer_tokens == 300 and msg.stats.answer_tokens == 4
    assert msg.stats.estimated is True
    request = cloud.server.requests[0]
    assert request["path"] == PATH
    assert request["headers"]["x-api-key"] == cloud.KEY and request["headers"]["anthropic-version"] == "2023-06-01"
    body = request["json"]
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 1024}  # raised to Anthropic's minimum
    assert body["max_tokens"] == 1024 + 64 and body["stream"] is True and "temperature" not in body


def test_redacted_thinking_is_a_redacted_block(cloud):
    blob = (start(cloud) + block(cloud, 0, "redacted_thinking", [], data="EmwKAhgBEgy3va3pzix/LafPsn4a")
            + thinking(cloud, 1, ["Visible part."], "SIG2") + text(cloud, 2, ["Done."]) + end(cloud, 90))
    cloud.server.script(PATH, cloud.Reply(pieces=[blob]))
    turn = cloud.run(cloud.profile("anthropic", path="", budget=2048))
    blocks = turn.message.blocks
    assert len(blocks) == 2
    assert blocks[0].redacted and blocks[0].visible and blocks[0].redacted_data == "EmwKAhgBEgy3va3pzix/LafPsn4a"
    assert blocks[0].text == "" and blocks[1].text == "Visible part." and blocks[1].signature == "SIG2"
    assert turn.message.answer == "Done." and not turn.of(ev.HiddenReasoning)


def test_no_budget_means_no_thinking_and_exact_usage(cloud):
    cloud.server.script(PATH, cloud.Reply(pieces=[start(cloud, 7) + text(cloud, 0, ["Hi there."]) + end(cloud, 4)]))
    msg = cloud.run(cloud.profile("anthropic", path=""), cloud.request(temperature=0.2)).message
    assert msg.answer == "Hi there." and msg.reasoning == ""
    assert (msg.stats.prompt_tokens, msg.stats.reasoning_tokens, msg.stats.answer_tokens) == (7, 0, 4)
    assert msg.stats.estimated is False
    body = cloud.server.requests[0]["json"]
    assert "thinking" not in body and body["temperature"] == 0.2 and body["max_tokens"] == 64


def test_system_prompt_goes_to_the_system_field(cloud):
    cloud.server.script(PATH, cloud.Reply(pieces=[start(cloud) + text(cloud, 0, ["ok"]) + end(cloud, 1)]))
    request = cloud.request(messages=({"role": "system", "content": "Be terse."}, {"role": "user", "content": "Hi"}))
    cloud.run(cloud.profile("anthropic", path="/v1"), request)  # base_url ending in /v1 works too
    sent = cloud.server.requests[0]
    assert sent["path"] == PATH
    assert sent["json"]["system"] == "Be terse." and sent["json"]["messages"] == [{"role": "user", "content": "Hi"}]


def test_max_tokens_inside_thinking_is_truncated_reasoning(cloud):
    blob = (start(cloud) + event(cloud, "content_block_start", index=0,
                                 content_block={"type": "thinking", "thinking": "", "signature": ""})
            + event(cloud, "content_block_delta", index=0, delta={"type": "thinking_delta", "thinking": "Hmm"})
            + end(cloud, 1088, reason="max_tokens"))
    cloud.server.script(PATH, cloud.Reply(pieces=[blob]))
    msg = cloud.run(cloud.profile("anthropic", path="", budget=1024)).message
    assert msg.finish_reason == "length" and msg.reasoning_truncated and msg.answer == ""


def test_error_event_mid_stream_keeps_the_text(cloud):
    blob = (start(cloud) + thinking(cloud, 0, ["Partial thought"], "S")
            + event(cloud, "content_block_start", index=1, content_block={"type": "text", "text": ""})
            + event(cloud, "content_block_delta", index=1, delta={"type": "text_delta", "text": "Half an"})
            + event(cloud, "error", error={"type": "overloaded_error", "message": "Overloaded"}))
    cloud.server.script(PATH, cloud.Reply(pieces=[blob]))
    msg = cloud.run(cloud.profile("anthropic", path="", budget=1024)).message
    assert msg.finish_reason == "error" and "Overloaded" in msg.error
    assert msg.reasoning == "Partial thought" and msg.answer == "Half an"
