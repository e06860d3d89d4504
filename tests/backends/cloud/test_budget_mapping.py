"""A turn's thinking budget is mapped onto each provider's own control, as sent on the wire."""

import pytest

from app.domain.steering import budget_to_effort


def _openai_stream(cloud) -> bytes:
    done = {"id": "c", "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {"content": "ok"}, "finish_reason": "stop"}]}
    return cloud.sse(done) + cloud.sse("[DONE]")


def _anthropic_stream(cloud) -> bytes:
    def event(kind, **data):
        return cloud.sse({"type": kind, **data}, event=kind)

    return (event("message_start", message={"id": "m", "type": "message", "role": "assistant", "content": [],
                                            "model": "c", "usage": {"input_tokens": 5, "output_tokens": 1}})
            + event("content_block_start", index=0, content_block={"type": "text", "text": ""})
            + event("content_block_delta", index=0, delta={"type": "text_delta", "text": "ok"})
            + event("content_block_stop", index=0)
            + event("message_delta", delta={"stop_reason": "end_turn"}, usage={"output_tokens": 3})
            + event("message_stop"))


def _gemini_stream(cloud) -> bytes:
    return cloud.sse({"candidates": [{"content": {"role": "model", "parts": [{"text": "ok"}]}, "index": 0,
                                      "finishReason": "STOP"}],
                      "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 1, "totalTokenCount": 6}})


@pytest.mark.parametrize("budget, effort", [(1000, "low"), (6000, "medium"), (30000, "high")])
def test_openai_compatible_budget_becomes_reasoning_effort(cloud, budget, effort):
    cloud.server.script("/v1/chat/completions", cloud.Reply(pieces=[_openai_stream(cloud)]))
    cloud.run(cloud.profile(), cloud.request(thinking_budget=budget))
    assert cloud.server.requests[0]["json"]["reasoning_effort"] == effort == budget_to_effort(budget)


def test_anthropic_budget_tokens_at_least_1024(cloud):
    cloud.server.script("/v1/messages", cloud.Reply(pieces=[_anthropic_stream(cloud)]))
    cloud.run(cloud.profile("anthropic", path=""), cloud.request(thinking_budget=300))
    assert cloud.server.requests[0]["json"]["thinking"] == {"type": "enabled", "budget_tokens": 1024}


def test_gemini_thinking_budget(cloud):
    cloud.server.script("/v1beta/models/gemini-test:streamGenerateContent", cloud.Reply(pieces=[_gemini_stream(cloud)]))
    cloud.run(cloud.profile("gemini", path="/v1beta", model="gemini-test"), cloud.request(thinking_budget=777))
    body = cloud.server.requests[0]["json"]
    assert body["generationConfig"]["thinkingConfig"]["thinkingBudget"] == 777
