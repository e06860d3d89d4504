"""The cost arithmetic and its text, from messages built by turn events (no network)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.domain import events as ev
from app.domain.cost import (CostTotals, arithmetic_text, billing_of, conversation_costs, footer_text, money,
                             turn_ceiling, turn_context, turn_cost)
from app.domain.messages import AssistantMessage, UserMessage
from app.domain.profiles import ModelProfile, Price, ReasoningSettings

PRICE = Price(input=1.25, cached_input=0.125, output=10.0, checked="2026-12-01")


def message(*events) -> AssistantMessage:
    msg = AssistantMessage(model_id="gpt", where="api.example.com")
    for event in (ev.TurnStarted(0.0, "gpt", 1000, 8192, where="api.example.com", system_tokens=100), *events,
                  ev.TurnFinished(2.0, "stop")):
        msg.apply(event)
    return msg


@pytest.mark.parametrize("amount, text", [(0.0213, "$0.0213"), (1.2345, "$1.23"), (1234.5, "$1,234.50"),
                                          (0.000042, "$0.000042"), (0.00375, "$0.00375"), (0.0, "$0.00"),
                                          (0.01, "$0.0100")])
def test_money(amount, text):
    assert money(amount) == text


def test_money_in_other_currencies():
    assert money(0.5, "EUR") == "€0.5000" and money(2, "CNY") == "2.00 CNY"


def test_footer_without_thinking_and_with_visible_thinking():
    plain = turn_cost(message(ev.AnswerDelta("Hi."), ev.Usage(1000, 0, 200)), PRICE)
    assert plain.total == pytest.approx((1000 * 1.25 + 200 * 10) / 1e6)
    assert footer_text(plain) == "$0.00325"
    shown = turn_cost(message(ev.ReasoningDelta("Think."), ev.AnswerDelta("Hi."), ev.Usage(1000, 1500, 100)), PRICE)
    assert footer_text(shown) == "$0.0173 · thinking $0.0150 (1,500 tokens)"


def test_tooltip_gives_tokens_times_price_per_kind():
    msg = message(ev.HiddenReasoning(1204), ev.AnswerDelta("Four."),
                  ev.Usage(4200, 1204, 312, cached_tokens=3000))
    cost = turn_cost(msg, PRICE)
    text = arithmetic_text(cost, "openai-gpt5")
    assert 'the price of "openai-gpt5" in models.toml (per million tokens, checked 2026-12-01)' in text
    assert "input: 1,200 tokens × $1.25/M = $0.0015" in text
    assert "cached input: 3,000 tokens × $0.125/M = $0.000375" in text
    assert "thinking, hidden by the provider: 1,204 tokens × $10/M = $0.012" in text
    assert "answer: 312 tokens × $10/M = $0.00312" in text
    assert f"total: {money(cost.total)}" in text and "estimate" not in text


def test_a_turn_of_several_calls_says_so_and_an_estimate_says_so():
    msg = message(ev.AnswerDelta("x"), ev.CallStarted(1.0, 1200, "tool"),
                  ev.Usage(1200, 0, 40, estimated=True, input_tokens=2200))
    cost = turn_cost(msg, PRICE)
    assert cost.tokens.input == 2200 and cost.tokens.calls == 2 and cost.estimated
    text = arithmetic_text(cost)
    assert "all 2 model calls" in text and "the counts are Ponder's estimates" in text
    assert footer_text(cost).startswith("~$") and "estimated" in footer_text(cost)


def test_unknown_price_is_none_and_a_stored_message_without_billed_input_uses_its_prompt():
    msg = message(ev.AnswerDelta("x"), ev.Usage(1000, 0, 10))
    assert turn_cost(msg, None) is None
    msg.stats.input_tokens = 0  # stored before this was recorded
    assert turn_cost(msg, PRICE).tokens.input == 1000


def test_history_share_of_the_input_is_sent_again_by_every_call():
    msg = AssistantMessage()
    for event in (ev.TurnStarted(0.0, "m", 900, 8192, system_tokens=100, tool_tokens=50),
                  ev.Usage(1000, 0, 0, estimated=True), ev.CallStarted(1.0, 1100, "tool"),
                  ev.Usage(1100, 10, 20, input_tokens=2100), ev.TurnFinished(2.0, "stop")):
        msg.apply(event)
    assert msg.stats.first_prompt_tokens == 1000  # the first call's prompt, from its usage
    cost = turn_cost(msg, PRICE, question_tokens=50)
    assert cost.tokens.history == (1000 - 100 - 50 - 50) * 2
    assert cost.history == pytest.approx(cost.input * 1600 / 2100)
    assert turn_cost(msg, PRICE, question_tokens=50, earlier_turns=False).tokens.history == 0  # a first turn


def test_turn_context_finds_the_question_and_earlier_turns():
    first, second = AssistantMessage(), AssistantMessage()
    messages = [UserMessage("one"), first, UserMessage("two"), second]
    assert turn_context(messages, first) == ("one", False) and turn_context(messages, second) == ("two", True)


def test_report_fields():
    msg = message(ev.ReasoningDelta("t"), ev.AnswerDelta("a"), ev.Usage(1000, 300, 20, cached_tokens=400))
    report = turn_cost(msg, PRICE).report()
    assert report["currency"] == "USD" and report["price_checked"] == "2026-12-01"
    assert report["input"] == pytest.approx((600 * 1.25 + 400 * 0.125) / 1e6)
    assert report["reasoning"] == pytest.approx(300 * 10 / 1e6) and report["answer"] == pytest.approx(20 * 10 / 1e6)
    assert report["total"] == pytest.approx(report["input"] + report["reasoning"] + report["answer"])
    assert report["estimated"] is False and report["reasoning_estimated"] is False
    assert report["tokens"] == {"input": 1000, "cached_input": 400, "reasoning": 300, "answer": 20}


def test_billing_local_models_and_local_servers_cost_no_money():
    local = ModelProfile("s", "S", "instruct", "llama", path="bundled:smollm2")
    server = ModelProfile("l", "L", "cloud", "openai", base_url="http://127.0.0.1:8080/v1", model="x")
    priced_server = ModelProfile("v", "V", "cloud", "openai", base_url="http://localhost:8000/v1", model="x",
                                 price=PRICE)
    remote = ModelProfile("r", "R", "cloud", "openai", base_url="https://api.example.com/v1", model="x")
    assert billing_of(local).local and billing_of(server).local
    assert not billing_of(priced_server).local and billing_of(priced_server).price == PRICE
    assert not billing_of(remote).local and billing_of(remote).price is None


def test_conversation_totals_add_priced_answers_and_count_the_rest():
    priced, unknown, local = message(ev.Usage(1000, 0, 100)), message(ev.Usage(10, 0, 1)), message(ev.Usage(5, 0, 5))
    unknown.model_id, local.model_id, local.where = "other", "smol", "local"
    known = {"gpt": billing_of(ModelProfile("gpt", "G", "cloud", "openai-responses", model="g", price=PRICE))}
    totals = conversation_costs([UserMessage("q"), priced, UserMessage("q"), unknown, local], known)
    assert (totals.priced, totals.unknown) == (1, 1)
    assert totals.amounts == {"USD": pytest.approx((1000 * 1.25 + 100 * 10) / 1e6)}
    assert totals.text() == "$0.00225 (+ 1 answer of unknown price)"
    assert CostTotals().empty and CostTotals(unknown=2).text() == "price unknown"


def test_ceiling_is_prompt_at_input_price_plus_budget_and_answer_at_output_price():
    anthropic = ModelProfile("c", "C", "cloud", "anthropic", model="m", price=Price(3.0, 15.0, "2026-12-01", 0.3))
    ceiling = turn_ceiling(anthropic, prompt_tokens=2000, budget=4096, max_tokens=1024)
    assert ceiling.output_tokens == 5120
    assert ceiling.total == pytest.approx((2000 * 3.0 + 5120 * 15.0) / 1e6)
    assert ceiling.text() == (f"This turn costs at most {money(ceiling.total)} (prompt ~2,000 tokens, thinking budget "
                              "4,096 + answer 1,024)")
    assert "thinking budget 4,096 + answer 1,024: 5,120 tokens × $15/M" in ceiling.arithmetic()
    responses = ModelProfile("o", "O", "cloud", "openai-responses", model="gpt-5", price=PRICE)
    assert turn_ceiling(responses, 2000, 4096, 1024).output_tokens == 1024  # the thinking is within the limit
    assert turn_ceiling(anthropic, 2000, 0, 1024) is None  # no budget: no maximum
    with_default = replace(anthropic, reasoning=ReasoningSettings(budget=2048))
    assert turn_ceiling(with_default, 2000, None, 1024).output_tokens == 3072  # the model's own budget
    assert turn_ceiling(anthropic, 2000, None, 1024) is None
    assert turn_ceiling(ModelProfile("x", "X", "cloud", "gemini", model="g"), 2000, 512, 64) is None
