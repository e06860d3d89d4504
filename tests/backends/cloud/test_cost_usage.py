"""What a turn costs, from each provider's usage as it streams from the replay server: hidden
o-series counts, the Responses API, Anthropic's single output count, Gemini thoughts, cached
input (OpenAI, Anthropic, Gemini, DeepSeek), a turn of two model calls, and a cut stream."""

from __future__ import annotations

import asyncio

import pytest

from app.backends.registry import create_cloud_backend
from app.controllers.toolbox import ToolBox
from app.controllers.turn_runner import TurnRunner
from app.domain.cost import footer_text, turn_cost
from app.domain.messages import AssistantMessage
from app.domain.profiles import Price
from app.domain.turn_control import TurnControl
from helpers.cloud_tools import CALCULATOR, USER

PRICE = Price(input=2.0, cached_input=0.5, output=8.0, checked="2026-12-01")
CHAT = "/v1/chat/completions"


def cost_of(msg: AssistantMessage, price: Price = PRICE):
    cost = turn_cost(msg, price)
    assert cost is not None
    return cost


def expected(uncached: int, cached: int, reasoning: int, answer: int, price: Price = PRICE) -> float:
    return (uncached * price.input + cached * price.cached_rate + (reasoning + answer) * price.output) / 1e6


def chat_stream(cloud, usage: dict, *deltas: dict) -> bytes:
    objs = [{"choices": [{"index": 0, "delta": d}]} for d in deltas]
    objs.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    objs.append({"choices": [], "usage": usage})
    return b"".join(cloud.sse(o) for o in objs) + cloud.sse("[DONE]")


def test_o_series_hidden_reasoning_and_cached_input(cloud):
    usage = {"prompt_tokens": 4200, "completion_tokens": 1516,
             "prompt_tokens_details": {"cached_tokens": 3000},
             "completion_tokens_details": {"reasoning_tokens": 1204}}
    cloud.server.script(CHAT, cloud.Reply(pieces=cloud.odd(chat_stream(cloud, usage, {"content": "It is 4."}))))
    msg = cloud.run(cloud.profile(reasoning_effort="high", model="o4-mini")).message
    cost = cost_of(msg)
    assert (cost.tokens.input, cost.tokens.cached, cost.tokens.reasoning, cost.tokens.answer) == (1200, 3000, 1204, 312)
    assert cost.total == pytest.approx(expected(1200, 3000, 1204, 312))
    assert cost.reasoning == pytest.approx(1204 * 8.0 / 1e6) and cost.hidden_reasoning
    assert not cost.estimated and not cost.split_estimated
    assert footer_text(cost) == "$0.0160 · thinking $0.00963 (1,204 tokens, hidden by the provider)"


def test_responses_api_counts_and_cached_input(cloud):
    def event(kind: str, **data) -> bytes:
        return cloud.sse({"type": kind, **data}, event=kind)

    usage = {"input_tokens": 900, "input_tokens_details": {"cached_tokens": 512}, "output_tokens": 700,
             "output_tokens_details": {"reasoning_tokens": 640}}
    blob = b"".join([
        event("response.output_item.added", output_index=0, item={"id": "msg_1", "type": "message"}),
        event("response.output_text.delta", item_id="msg_1", output_index=0, content_index=0, delta="Four."),
        event("response.completed", response={"id": "r", "status": "completed", "usage": usage}),
    ])
    cloud.server.script("/v1/responses", cloud.Reply(pieces=cloud.odd(blob)))
    msg = cloud.run(cloud.profile("openai-responses", model="gpt-5")).message
    cost = cost_of(msg)
    assert (cost.tokens.input, cost.tokens.cached, cost.tokens.reasoning, cost.tokens.answer) == (388, 512, 640, 60)
    assert cost.total == pytest.approx(expected(388, 512, 640, 60)) and cost.hidden_reasoning


def test_anthropic_single_output_count_is_split_by_estimate_with_an_exact_total(cloud):
    def event(kind: str, **data) -> bytes:
        return cloud.sse({"type": kind, **data}, event=kind)

    thinking = "Let me add two and two carefully, then check it once more. " * 4  # 240 characters
    blob = b"".join([
        event("message_start", message={"usage": {"input_tokens": 200, "cache_read_input_tokens": 1000,
                                                  "cache_creation_input_tokens": 0, "output_tokens": 1}}),
        event("content_block_start", index=0, content_block={"type": "thinking", "thinking": ""}),
        event("content_block_delta", index=0, delta={"type": "thinking_delta", "thinking": thinking}),
        event("content_block_delta", index=0, delta={"type": "signature_delta", "signature": "sig"}),
        event("content_block_stop", index=0),
        event("content_block_start", index=1, content_block={"type": "text", "text": ""}),
        event("content_block_delta", index=1, delta={"type": "text_delta", "text": "It is four."}),
        event("content_block_stop", index=1),
        event("message_delta", delta={"stop_reason": "end_turn"}, usage={"output_tokens": 500}),
        event("message_stop"),
    ])
    cloud.server.script("/v1/messages", cloud.Reply(pieces=cloud.odd(blob)))
    msg = cloud.run(cloud.profile("anthropic", path="", budget=2048)).message
    cost = cost_of(msg)
    assert cost.tokens.reasoning + cost.tokens.answer == 500  # the provider's one output count
    assert cost.tokens.answer == 3 and cost.tokens.reasoning == 497  # the answer's text is ~3 tokens long
    assert (cost.tokens.input, cost.tokens.cached) == (200, 1000)
    assert cost.total == pytest.approx(expected(200, 1000, 0, 500))  # exact: thinking is priced as output
    assert cost.split_estimated and not cost.estimated and not cost.hidden_reasoning
    assert footer_text(cost) == "$0.0049 · thinking ~$0.00398 (~497 tokens, Ponder's estimate)"


def test_gemini_thoughts_and_cached_content(cloud):
    def chunk(parts: list[dict], finish: str | None = None, usage: dict | None = None) -> bytes:
        candidate: dict = {"content": {"role": "model", "parts": parts}, "index": 0}
        if finish:
            candidate["finishReason"] = finish
        return cloud.sse({"candidates": [candidate], **({"usageMetadata": usage} if usage else {})})

    usage = {"promptTokenCount": 2000, "cachedContentTokenCount": 1500, "candidatesTokenCount": 40,
             "thoughtsTokenCount": 960}
    blob = chunk([{"text": "Adding.", "thought": True}]) + chunk([{"text": "4"}], "STOP", usage)
    cloud.server.script("/v1beta/models/gemini-test:streamGenerateContent", cloud.Reply(pieces=cloud.odd(blob)))
    msg = cloud.run(cloud.profile("gemini", path="/v1beta", model="gemini-test", budget=1024)).message
    cost = cost_of(msg)
    assert (cost.tokens.input, cost.tokens.cached, cost.tokens.reasoning, cost.tokens.answer) == (500, 1500, 960, 40)
    assert cost.total == pytest.approx(expected(500, 1500, 960, 40))
    assert not cost.hidden_reasoning  # the thought summary was shown


def test_deepseek_cache_hits_and_a_reasoning_price_of_its_own(cloud):
    usage = {"prompt_tokens": 100, "prompt_cache_hit_tokens": 64, "prompt_cache_miss_tokens": 36,
             "completion_tokens": 50, "completion_tokens_details": {"reasoning_tokens": 45}}
    stream = chat_stream(cloud, usage, {"reasoning_content": "Two and two."}, {"content": "4"})
    cloud.server.script(CHAT, cloud.Reply(pieces=cloud.odd(stream)))
    msg = cloud.run(cloud.profile(model="deepseek-reasoner")).message
    price = Price(input=0.28, cached_input=0.028, output=0.42, reasoning=1.0, checked="2026-12-01")
    cost = cost_of(msg, price)
    assert (cost.tokens.input, cost.tokens.cached) == (36, 64)
    assert cost.reasoning == pytest.approx(45 * 1.0 / 1e6) and cost.answer == pytest.approx(5 * 0.42 / 1e6)
    assert cost.total == pytest.approx((36 * 0.28 + 64 * 0.028 + 45 * 1.0 + 5 * 0.42) / 1e6)


def test_every_model_call_of_a_turn_is_billed_its_input(cloud):
    """A tool round: the second call reads the conversation again, with the result."""
    call = chat_stream(cloud, {"prompt_tokens": 400, "completion_tokens": 30,
                               "prompt_tokens_details": {"cached_tokens": 0},
                               "completion_tokens_details": {"reasoning_tokens": 20}},
                       {"reasoning_content": "Use the calculator."},
                       {"tool_calls": [{"index": 0, "id": "call_0", "type": "function",
                                        "function": {"name": "calculator", "arguments": '{"expression": "6*7"}'}}]})
    answer = chat_stream(cloud, {"prompt_tokens": 460, "completion_tokens": 12,
                                 "prompt_tokens_details": {"cached_tokens": 384},
                                 "completion_tokens_details": {"reasoning_tokens": 4}},
                         {"reasoning_content": "It is 42."}, {"content": "6 × 7 = 42."})
    cloud.server.script(CHAT, cloud.Reply(pieces=cloud.odd(call)), cloud.Reply(pieces=cloud.odd(answer)))
    runner = TurnRunner.on(create_cloud_backend(cloud.profile(model="deepseek-reasoner")),
                           tools=ToolBox.builtin(("calculator",)))
    msg = AssistantMessage()

    async def play() -> None:
        from app.domain.turn_request import TurnRequest

        request = TurnRequest(messages=(USER,), max_tokens=64, tools=(CALCULATOR,))
        async for event in runner.run(request, TurnControl()):
            msg.apply(event)

    asyncio.run(play())
    assert msg.finish_reason == "stop" and len(cloud.server.requests) == 2
    assert msg.stats.prompt_tokens == 460  # the context: the latest call's prompt
    assert (msg.stats.input_tokens, msg.stats.cached_tokens, msg.stats.model_calls) == (860, 384, 2)
    cost = cost_of(msg)
    assert (cost.tokens.input, cost.tokens.cached, cost.tokens.calls) == (476, 384, 2)
    assert (cost.tokens.reasoning, cost.tokens.answer) == (24, 18)
    assert cost.total == pytest.approx(expected(476, 384, 24, 18))


def test_a_stream_cut_before_its_usage_is_an_estimate(cloud):
    blob = b"".join(cloud.sse({"choices": [{"index": 0, "delta": {"content": "Four, because "}}]}) for _ in range(3))
    cloud.server.script(CHAT, cloud.Reply(pieces=[blob], drop=True))
    msg = cloud.run(cloud.profile(model="o4-mini")).message
    assert msg.stats.estimated
    cost = cost_of(msg)
    assert cost.estimated and cost.tokens.answer > 0 and cost.tokens.input > 0
    assert footer_text(cost).startswith("~$") and " estimated" in footer_text(cost)
