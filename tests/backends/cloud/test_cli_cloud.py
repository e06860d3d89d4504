"""`ponder ask --model <cloud id> --json` against the local replay server, configured via PONDER_HOME."""

from __future__ import annotations

import json

from helpers.cloud_cli import configure, deepseek_stream, ponder

def test_ask_json_against_a_cloud_entry(cloud, ponder_home):
    cloud.server.script("/v1/chat/completions", cloud.Reply(pieces=cloud.odd(deepseek_stream(cloud))))
    model_id = configure(ponder_home, cloud, "openai", cloud.server.url + "/v1")
    result = ponder(ponder_home, "ask", "What is 2+2?", "--model", model_id, "--json", "--max-tokens", "100",
                    key=cloud.KEY)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["model"] == model_id and out["where"] == cloud.server.host
    assert out["reasoning"] == "Two plus two is four." and out["answer"] == "4"
    assert out["finish_reason"] == "stop" and out["reasoning_truncated"] is False
    stats = out["stats"]
    assert (stats["prompt_tokens"], stats["reasoning_tokens"], stats["answer_tokens"]) == (14, 39, 1)
    assert "estimated" not in out  # the provider's usage arrived
    assert out["context"]["n_ctx"] == 16384 and out["context"]["used"] == 54
    assert stats["ttft_s"] is not None and stats["total_s"] >= stats["ttft_s"]
    sent = cloud.server.requests[0]
    assert sent["headers"]["authorization"] == f"Bearer {cloud.KEY}" and sent["json"]["max_tokens"] == 100
    assert cloud.KEY not in result.stdout + result.stderr


def test_ask_prints_reasoning_then_answer(cloud, ponder_home):
    blob = b"".join(cloud.sse(o, event=o["type"]) for o in [
        {"type": "message_start", "message": {"usage": {"input_tokens": 9, "output_tokens": 1}}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "Adding."}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "S"}},
        {"type": "content_block_stop", "index": 0},
        {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "Four."}},
        {"type": "content_block_stop", "index": 1},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 30}},
        {"type": "message_stop"}])
    cloud.server.script("/v1/messages", cloud.Reply(pieces=[blob]))
    model_id = configure(ponder_home, cloud, "anthropic", cloud.server.url, extra="[model.reasoning]\nbudget = 2048\n")
    result = ponder(ponder_home, "ask", "2+2?", "--model", model_id, key=cloud.KEY)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "> Adding." and "Four." in result.stdout
    assert cloud.server.requests[0]["json"]["thinking"] == {"type": "enabled", "budget_tokens": 2048}


def test_ask_without_a_key_is_a_one_line_error(cloud, ponder_home):
    model_id = configure(ponder_home, cloud, "gemini", cloud.server.url + "/v1beta")
    result = ponder(ponder_home, "ask", "hi", "--model", model_id, key=None)
    assert result.returncode != 0 and not cloud.server.requests
    assert result.stderr.startswith("ponder: ") and len(result.stderr.strip().splitlines()) == 1
    assert f'"{model_id}"' in result.stderr and cloud.ENV in result.stderr


def test_ask_server_error_exits_non_zero(cloud, ponder_home):
    cloud.server.script("/v1/chat/completions", cloud.Reply(status=503, content_type="application/json",
                                                            pieces=[b'{"error": {"message": "overloaded"}}']))
    model_id = configure(ponder_home, cloud, "openai", cloud.server.url + "/v1")
    result = ponder(ponder_home, "ask", "hi", "--model", model_id, "--json", key=cloud.KEY)
    assert result.returncode != 0
    out = json.loads(result.stdout)
    assert out["finish_reason"] == "error" and "HTTP 503: overloaded" in out["error"]
    assert "HTTP 503" in result.stderr and cloud.KEY not in result.stdout + result.stderr
