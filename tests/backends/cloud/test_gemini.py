"""Gemini streamGenerateContent?alt=sse: thought parts, thoughtsTokenCount, finish reasons, key errors."""

from __future__ import annotations

from app.domain import events as ev

PATH = "/v1beta/models/gemini-test:streamGenerateContent"


def chunk(parts: list[dict], finish: str | None = None, usage: dict | None = None) -> dict:
    candidate: dict = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    obj: dict = {"candidates": [candidate], "modelVersion": "gemini-test"}
    if usage:
        obj["usageMetadata"] = usage
    return obj


USAGE = {"promptTokenCount": 10, "candidatesTokenCount": 8, "thoughtsTokenCount": 120, "totalTokenCount": 138}


def test_thought_parts_answer_and_usage(cloud):
    blob = b"".join(cloud.sse(c) for c in [
        chunk([{"text": "**Planning**\n\nAdd the numbers.", "thought": True}],
              usage={"promptTokenCount": 10, "thoughtsTokenCount": 120}),
        chunk([{"text": " Carefully.", "thought": True}]),
        chunk([{"text": "The answer"}]),
        chunk([{"text": " is 4."}], finish="STOP", usage=USAGE),
    ])
    cloud.server.script(PATH, cloud.Reply(pieces=cloud.odd(blob)))
    profile = cloud.profile("gemini", path="/v1beta", model="gemini-test", budget=512)
    request = cloud.request(messages=({"role": "system", "content": "Short."}, {"role": "user", "content": "2+2?"}))
    msg = cloud.run(profile, request).message
    assert msg.reasoning == "**Planning**\n\nAdd the numbers. Carefully."
    assert msg.answer == "The answer is 4." and msg.finish_reason == "stop"
    assert (msg.stats.prompt_tokens, msg.stats.reasoning_tokens, msg.stats.answer_tokens) == (10, 120, 8)
    assert msg.stats.estimated is False
    sent = cloud.server.requests[0]
    assert sent["path"] == PATH + "?alt=sse"
    assert sent["headers"]["x-goog-api-key"] == cloud.KEY and cloud.KEY not in sent["path"]
    body = sent["json"]
    assert body["generationConfig"]["thinkingConfig"] == {"includeThoughts": True, "thinkingBudget": 512}
    assert body["systemInstruction"] == {"parts": [{"text": "Short."}]}
    assert body["contents"] == [{"role": "user", "parts": [{"text": "2+2?"}]}]


def test_thoughts_count_without_text_is_hidden_reasoning(cloud):
    blob = cloud.sse(chunk([{"text": "Four."}], finish="STOP", usage=USAGE))
    cloud.server.script(PATH, cloud.Reply(pieces=[blob]))
    turn = cloud.run(cloud.profile("gemini", path="/v1beta", model="gemini-test"))
    assert turn.of(ev.HiddenReasoning) == [ev.HiddenReasoning(120)]
    assert turn.message.blocks[0].hidden_tokens == 120 and turn.message.answer == "Four."
    assert "thinkingBudget" not in cloud.server.requests[0]["json"]["generationConfig"]["thinkingConfig"]


def test_max_tokens_and_safety_finish(cloud):
    cloud.server.script(PATH, cloud.Reply(pieces=[cloud.sse(chunk([{"text": "Cut", "thought": True}], "MAX_TOKENS"))]))
    msg = cloud.run(cloud.profile("gemini", path="/v1beta", model="gemini-test")).message
    assert msg.finish_reason == "length" and msg.reasoning_truncated
    cloud.server.script(PATH, cloud.Reply(pieces=[cloud.sse(chunk([{"text": "Well"}], "SAFETY"))]))
    msg = cloud.run(cloud.profile("gemini", path="/v1beta", model="gemini-test")).message
    assert msg.finish_reason == "error" and "SAFETY" in msg.error and msg.answer == "Well"


def test_invalid_key_400_says_where_to_set_the_key(cloud):
    body = (b'{"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", '
            b'"status": "INVALID_ARGUMENT", "details": [{"reason": "API_KEY_INVALID"}]}}')
    cloud.server.script(PATH, cloud.Reply(status=400, content_type="application/json", pieces=[body]))
    msg = cloud.run(cloud.profile("gemini", path="/v1beta", model="gemini-test")).message
    assert msg.finish_reason == "error"
    assert "refused the API key" in msg.error and '"test-gemini"' in msg.error and cloud.ENV in msg.error
    assert cloud.KEY not in msg.error


def test_stream_ending_without_a_finish_reason_is_a_dropped_connection(cloud):
    cloud.server.script(PATH, cloud.Reply(pieces=[cloud.sse(chunk([{"text": "Half"}]))]))
    msg = cloud.run(cloud.profile("gemini", path="/v1beta", model="gemini-test")).message
    assert msg.finish_reason == "error" and "ended before the answer" in msg.error and msg.answer == "Half"
