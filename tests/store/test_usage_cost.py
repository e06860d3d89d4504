"""Usage summed from the store (per model over a period, per conversation) and what it costs;
the costs in the Markdown and JSON exports."""

from __future__ import annotations

import json

import pytest

from app.domain.conversation import Conversation
from app.domain.cost import Billing
from app.domain.messages import AnswerPart, AssistantMessage, ReasoningBlock, TurnStats, UserMessage
from app.domain.profiles import Price
from app.store.export import conversation_from_json, conversation_json, conversation_markdown
from app.store.usage import cost_totals, usage_by_model, usage_of_conversation

GPT = Price(input=1.25, cached_input=0.125, output=10.0, checked="2026-12-01")
CLAUDE = Price(input=3.0, cached_input=0.3, output=15.0, checked="2026-12-01")
KNOWN = {"gpt": Billing(GPT, model_id="gpt"), "claude": Billing(CLAUDE, model_id="claude"),
         "smol": Billing(local=True, model_id="smol"), "deepseek": Billing(None, model_id="deepseek")}


def answer(model: str, input_tokens: int, reasoning: int, answer_tokens: int, *, cached: int = 0,
           where: str = "api.example.com", estimated: bool = False, hidden: int = 0) -> AssistantMessage:
    stats = TurnStats(prompt_tokens=input_tokens, input_tokens=input_tokens, cached_tokens=cached,
                      reasoning_tokens=reasoning, answer_tokens=answer_tokens, estimated=estimated, model_calls=1,
                      t_start=1.0, t_end=2.0)
    parts = [ReasoningBlock(hidden_tokens=hidden, start=1.0, end=1.5)] if hidden else []
    return AssistantMessage(model_id=model, where=where, parts=[*parts, AnswerPart("ok")], stats=stats,
                            finish_reason="stop")


def conversation(*answers: AssistantMessage, title: str = "chat") -> Conversation:
    conv = Conversation(title=title)
    for a in answers:
        conv.messages += [UserMessage("question"), a]
    return conv


def save(store, conv: Conversation, created: float, monkeypatch) -> None:
    monkeypatch.setattr("app.store.conversations.time.time", lambda: created)
    store.save_conversation(conv)


def test_usage_by_model_over_a_period_from_several_conversations(store, monkeypatch):
    day = 86400.0
    save(store, conversation(answer("gpt", 1000, 400, 100, cached=600), answer("smol", 50, 0, 20, where="local")),
         10 * day, monkeypatch)
    save(store, conversation(answer("gpt", 2000, 0, 50), answer("claude", 500, 300, 30)), 11 * day, monkeypatch)
    save(store, conversation(answer("gpt", 9999, 9999, 9999)), 30 * day, monkeypatch)  # outside the period
    save(store, conversation(answer("deepseek", 100, 10, 5)), 11 * day, monkeypatch)
    rows = {r.model_id: r for r in usage_by_model(store, since=10 * day, until=12 * day)}
    assert set(rows) == {"gpt", "smol", "claude", "deepseek"}
    gpt = rows["gpt"]
    assert (gpt.answers, gpt.input, gpt.cached, gpt.reasoning, gpt.answer) == (2, 3000, 600, 400, 150)
    assert rows["smol"].local and not gpt.local
    cost = gpt.cost(KNOWN["gpt"])
    assert cost.total == pytest.approx((2400 * 1.25 + 600 * 0.125 + 550 * 10.0) / 1e6)
    totals = cost_totals(rows.values(), KNOWN)
    claude = (500 * 3.0 + 330 * 15.0) / 1e6
    assert totals.amounts == {"USD": pytest.approx(cost.total + claude)}
    assert (totals.priced, totals.unknown) == (3, 1)  # the local answer costs nothing; deepseek has no price
    everything = {r.model_id: r for r in usage_by_model(store)}
    assert everything["gpt"].answers == 3 and everything["gpt"].input == 12999


def test_every_version_of_an_answer_counts_and_old_rows_count_their_prompt(store, monkeypatch):
    conv = conversation(answer("gpt", 1000, 0, 100))
    save(store, conv, 100.0, monkeypatch)
    retry = answer("gpt", 1000, 0, 80)
    store.save_message(conv.uid, 1, retry, partial=False)  # a regenerated version of the answer
    old = answer("claude", 700, 0, 10)
    old.stats.input_tokens = 0  # stored before the billed input was recorded
    store.save_message(conv.uid, 2, UserMessage("more"), partial=False)
    store.save_message(conv.uid, 3, old, partial=False)
    rows = {r.model_id: r for r in usage_of_conversation(store, conv.uid)}
    assert (rows["gpt"].answers, rows["gpt"].input, rows["gpt"].answer) == (2, 2000, 180)
    assert rows["claude"].input == 700
    assert len(store.load_conversation(conv.uid).messages) == 4  # the thread shows one version


def test_estimated_answers_are_counted_as_such(store, monkeypatch):
    conv = conversation(answer("gpt", 100, 0, 10, estimated=True), answer("gpt", 100, 0, 10))
    save(store, conv, 5.0, monkeypatch)
    totals = cost_totals(usage_of_conversation(store, conv.uid), KNOWN)
    assert totals.estimated == 1 and totals.text().startswith("~$")


def test_json_export_has_each_answer_s_cost_and_the_total(monkeypatch):
    conv = conversation(answer("gpt", 1000, 800, 100, hidden=800), answer("smol", 40, 0, 5, where="local"),
                        answer("deepseek", 10, 0, 1))
    data = json.loads(json.dumps(conversation_json(conv, KNOWN)))
    costs = [m.get("cost", "absent") for m in data["messages"] if m["role"] == "assistant"]
    assert costs[1] is None and costs[2] is None  # local; unknown price
    assert costs[0]["total"] == pytest.approx((1000 * 1.25 + 900 * 10.0) / 1e6)
    assert costs[0]["reasoning"] == pytest.approx(800 * 10.0 / 1e6) and costs[0]["price_checked"] == "2026-12-01"
    assert data["cost"] == {"totals": {"USD": pytest.approx(costs[0]["total"])}, "priced_answers": 1,
                            "unknown_price_answers": 1, "estimated_answers": 0}
    assert conversation_from_json(data) == conv  # the costs are not imported back
    assert "cost" not in conversation_json(conv)  # without prices, as before


def test_markdown_export_shows_each_answer_s_cost_and_the_total():
    conv = conversation(answer("gpt", 1000, 800, 100, hidden=800), answer("smol", 40, 0, 5, where="local"),
                        answer("deepseek", 10, 0, 1))
    md = conversation_markdown(conv, KNOWN)
    lines = md.splitlines()
    assert lines[2] == "*Cost of the answers: $0.0102 (+ 1 answer of unknown price), at the prices in models.toml.*"
    figures = [line for line in lines if line.startswith("*stop · ")]
    assert figures[0].endswith(" · $0.0102 · thinking $0.008 (800 tokens, hidden by the provider)*")
    assert "$" not in figures[1] and figures[2].endswith(" · price unknown*")
    assert "Cost of the answers" not in conversation_markdown(conv)
