"""OpenAI Responses API: reasoning summary events, hidden counts, incomplete and failed responses."""

from __future__ import annotations

from app.domain import events as ev

PATH = "/v1/responses"


def event(cloud, kind: str, **data) -> bytes:
    return cloud.sse({"type": kind, **data}, event=kind)


def completed(cloud, reasoning: int, output: int, status: str = "completed", **extra) -> bytes:
    usage = {"input_tokens": 31, "output_tokens": output, "output_tokens_details": {"reasoning_tokens": reasoning}}
    kind = "response.completed" if status == "completed" else f"response.{status}"
    return event(cloud, kind, response={"id": "resp_1", "status": status, "usage": usage, **extra})


def summary_stream(cloud) -> bytes:
    return b"".join([
        event(cloud, "response.created", response={"id": "resp_1", "status": "in_progress"}),
        event(cloud, "response.output_item.added", output_index=0, item={"id": "rs_1", "type": "reasoning"}),
        event(cloud, "response.reasoning_summary_part.added", item_id="rs_1", summary_index=0,
              part={"type": "summary_text", "text": ""}),
        event(cloud, "response.reasoning_summary_text.delta", item_id="rs_1", summary_index=0,
              delta="**Adding** numbers"),
        event(cloud, "response.reasoning_summary_text.delta", item_id="rs_1", summary_index=0, delta=" quickly."),
        event(cloud, "response.reasoning_summary_text.done", item_id="rs_1", summary_index=0,
              text="**Adding** numbers quickly."),
        event(cloud, "response.reasoning_summary_part.added", item_id="rs_1", summary_index=1,
              part={"type": "summary_text", "text": ""}),
        event(cloud, "response.reasoning_summary_text.delta", item_id="rs_1", summary_index=1, delta="Checked."),
        event(cloud, "response.output_item.done", output_index=0, item={"id": "rs_1", "type": "reasoning"}),
        event(cloud, "response.output_item.added", output_index=1, item={"id": "msg_1", "type": "message"}),
        event(cloud, "response.output_text.delta", item_id="msg_1", output_index=1, content_index=0, delta="2 + 2"),
        event(cloud, "response.output_text.delta", item_id="msg_1", output_index=1, content_index=0, delta=" = 4"),
        event(cloud, "response.output_text.done", item_id="msg_1", text="2 + 2 = 4"),
        completed(cloud, reasoning=256, output=262),
    ])


def test_summary_deltas_become_reasoning(cloud):
    cloud.server.script(PATH, cloud.Reply(pieces=cloud.odd(summary_stream(cloud))))
    profile = cloud.profile("openai-responses", reasoning_effort="low", model="gpt-5")
    request = cloud.request(messages=({"role": "system", "content": "Be brief."},
                                      {"role": "user", "content": "What is 2 + 2?"}))
    turn = cloud.run(profile, request)
    msg = turn.message
    assert msg.reasoning == "**Adding** numbers quickly.\n\nChecked."
    assert msg.answer == "2 + 2 = 4" and msg.finish_reason == "stop"
    assert len(msg.blocks) == 1 and msg.blocks[0].hidden_tokens == 0
    assert (msg.stats.prompt_tokens, msg.stats.reasoning_tokens, msg.stats.answer_tokens) == (31, 256, 6)
    assert msg.stats.estimated is False and not turn.of(ev.HiddenReasoning)
    body = cloud.server.requests[0]["json"]
    assert body["reasoning"] == {"summary": "auto", "effort": "low"} and body["stream"] is True
    assert body["instructions"] == "Be brief." and body["input"] == [{"role": "user", "content": "What is 2 + 2?"}]
    assert body["max_output_tokens"] == 64 and body["store"] is False


def test_only_a_count_becomes_hidden_reasoning(cloud):
    blob = b"".join([
        event(cloud, "response.output_item.added", output_index=0, item={"id": "rs_1", "type": "reasoning"}),
        event(cloud, "response.output_item.done", output_index=0, item={"id": "rs_1", "type": "reasoning"}),
        event(cloud, "response.output_text.delta", item_id="msg_1", delta="Four."),
        completed(cloud, reasoning=512, output=514),
    ])
    cloud.server.script(PATH, cloud.Reply(pieces=[blob]))
    turn = cloud.run(cloud.profile("openai-responses"))
    assert turn.of(ev.HiddenReasoning) == [ev.HiddenReasoning(512)]
    block = turn.message.blocks[0]
    assert block.text == "" and block.hidden_tokens == 512 and block.visible
    assert turn.message.answer == "Four." and turn.message.stats.reasoning_tokens == 512


def test_incomplete_at_max_output_tokens_is_length(cloud):
    blob = b"".join([
        event(cloud, "response.reasoning_summary_text.delta", item_id="rs_1", delta="Long thought"),
        completed(cloud, reasoning=64, output=64, status="incomplete",
                  incomplete_details={"reason": "max_output_tokens"}),
    ])
    cloud.server.script(PATH, cloud.Reply(pieces=[blob]))
    msg = cloud.run(cloud.profile("openai-responses")).message
    assert msg.finish_reason == "length" and msg.reasoning == "Long thought" and msg.reasoning_truncated


def test_failed_response_keeps_text_and_says_why(cloud):
    blob = b"".join([
        event(cloud, "response.output_text.delta", item_id="msg_1", delta="Partial"),
        event(cloud, "response.failed", response={"id": "resp_1", "status": "failed",
                                                  "error": {"code": "server_error", "message": "The model crashed"}}),
    ])
    cloud.server.script(PATH, cloud.Reply(pieces=[blob]))
    msg = cloud.run(cloud.profile("openai-responses")).message
    assert msg.finish_reason == "error" and msg.answer == "Partial"
    assert "The model crashed" in msg.error and cloud.server.host in msg.error
