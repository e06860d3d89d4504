"""`ponder ask --json`'s "cost" against the replay server: a priced entry, a turn of two model
calls (a tool round), an unknown price."""

from __future__ import annotations

import json

import pytest

from helpers.cloud_cli import configure, deepseek_stream, ponder

PRICE = '\n[model.price]\ninput = 0.5\ncached_input = 0.05\noutput = 2.0\ncurrency = "USD"\nchecked = "2026-11-30"\n'
PATH = "/v1/chat/completions"


def ask(cloud, home, *extra: str) -> dict:
    model_id = "replay-openai"
    result = ponder(home, "ask", "What is 2+2?", "--model", model_id, "--json", "--max-tokens", "100", *extra,
                    key=cloud.KEY)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_ask_json_cost_of_a_priced_model(cloud, ponder_home):
    cloud.server.script(PATH, cloud.Reply(pieces=cloud.odd(deepseek_stream(cloud))))
    configure(ponder_home, cloud, "openai", cloud.server.url + "/v1", extra=PRICE)
    cost = ask(cloud, ponder_home)["cost"]  # usage: 14 prompt, 39 reasoning + 1 answer
    assert cost["currency"] == "USD" and cost["price_checked"] == "2026-11-30" and cost["estimated"] is False
    assert cost["input"] == pytest.approx(14 * 0.5 / 1e6)
    assert cost["reasoning"] == pytest.approx(39 * 2.0 / 1e6) and cost["answer"] == pytest.approx(1 * 2.0 / 1e6)
    assert cost["total"] == pytest.approx((14 * 0.5 + 40 * 2.0) / 1e6)
    assert cost["tokens"] == {"input": 14, "cached_input": 0, "reasoning": 39, "answer": 1}


def test_ask_json_cost_counts_the_input_of_every_model_call(cloud, ponder_home):
    def stream(objs) -> bytes:
        return b"".join(cloud.sse(o) for o in objs) + cloud.sse("[DONE]")

    call = {"index": 0, "id": "call_0", "type": "function",
            "function": {"name": "calculator", "arguments": '{"expression": "2+2"}'}}
    first = stream([{"choices": [{"index": 0, "delta": {"tool_calls": [call]}}]},
                    {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
                    {"choices": [], "usage": {"prompt_tokens": 300, "completion_tokens": 20}}])
    second = stream([{"choices": [{"index": 0, "delta": {"content": "4"}, "finish_reason": "stop"}]},
                     {"choices": [], "usage": {"prompt_tokens": 340, "completion_tokens": 2,
                                               "prompt_tokens_details": {"cached_tokens": 256}}}])
    cloud.server.script(PATH, cloud.Reply(pieces=cloud.odd(first)), cloud.Reply(pieces=cloud.odd(second)))
    configure(ponder_home, cloud, "openai", cloud.server.url + "/v1", extra=PRICE)
    out = ask(cloud, ponder_home, "--tools", "calculator")
    assert out["answer"] == "4" and out["stats"]["tool_rounds"] == 1 and len(cloud.server.requests) == 2
    cost = out["cost"]
    assert cost["tokens"]["input"] == 640 and cost["tokens"]["cached_input"] == 256
    assert cost["input"] == pytest.approx((384 * 0.5 + 256 * 0.05) / 1e6)
    assert cost["total"] == pytest.approx((384 * 0.5 + 256 * 0.05 + 22 * 2.0) / 1e6)


def test_ask_json_cost_is_null_without_a_price(cloud, ponder_home):
    cloud.server.script(PATH, cloud.Reply(pieces=cloud.odd(deepseek_stream(cloud))))
    configure(ponder_home, cloud, "openai", cloud.server.url + "/v1")
    out = ask(cloud, ponder_home)
    assert "cost" in out and out["cost"] is None
