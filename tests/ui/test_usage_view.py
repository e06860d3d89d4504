"""The Usage view: tokens and cost per model over a period, from a store with several conversations."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import QDate

from app.backends.fake import FakeBackend
from app.controllers.chat_session import ChatSession
from app.controllers.persistence import Persistence
from app.domain.config import load_user_models
from app.domain.conversation import Conversation
from app.domain.cost import Billing, money
from app.domain.messages import AnswerPart, AssistantMessage, TurnStats, UserMessage
from app.domain.profiles import Price
from app.store.conversations import open_store
from app.ui.main_window import MainWindow
from app.ui.usage_view import UsageView

GPT = Price(input=1.25, cached_input=0.125, output=10.0, checked="2026-12-01")
KNOWN = {"gpt": Billing(GPT, model_id="gpt"), "smol": Billing(local=True, model_id="smol"),
         "mystery": Billing(None, model_id="mystery")}
TODAY = dt.date(2026, 12, 1)


def answer(model: str, prompt: int, cached: int, reasoning: int, out: int, where="api.example.com"):
    return AssistantMessage(model_id=model, where=where, parts=[AnswerPart("ok")], finish_reason="stop",
                            stats=TurnStats(prompt_tokens=prompt, input_tokens=prompt, cached_tokens=cached,
                                            reasoning_tokens=reasoning, answer_tokens=out))


def stored(store, monkeypatch, day: dt.date, *answers) -> None:
    at = dt.datetime.combine(day, dt.time(12)).timestamp()
    monkeypatch.setattr("app.store.conversations.time.time", lambda: at)
    conv = Conversation(title=f"chat of {day}")
    for a in answers:
        conv.messages += [UserMessage("q"), a]
    store.save_conversation(conv)


@pytest.fixture
def store(monkeypatch):
    s, _ = open_store()
    stored(s, monkeypatch, TODAY, answer("gpt", 1000, 400, 2000, 100), answer("smol", 50, 0, 10, 20, "local"))
    stored(s, monkeypatch, TODAY - dt.timedelta(days=3), answer("gpt", 3000, 0, 1000, 200))
    stored(s, monkeypatch, TODAY - dt.timedelta(days=3), answer("mystery", 100, 0, 0, 10))
    stored(s, monkeypatch, TODAY - dt.timedelta(days=60), answer("gpt", 5000, 0, 5000, 500))
    monkeypatch.undo()
    yield s
    s.close()


def gpt_cost(*turns) -> float:
    return sum(((p - c) * 1.25 + c * 0.125 + (r + a) * 10.0) / 1e6 for p, c, r, a in turns)


def test_totals_per_model_over_the_last_week(qtbot, store):
    view = UsageView(store, KNOWN, {"gpt": "GPT-5"}, today=TODAY)
    qtbot.addWidget(view)
    view.period.setCurrentText("Last 7 days")
    assert (view.since.date(), view.until.date()) == (QDate(2026, 11, 25), QDate(2026, 12, 1))
    assert [r.model_id for r in view.rows] == ["gpt", "mystery", "smol"]  # most tokens first
    assert view.cell("gpt", "Model") == "GPT-5" and view.cell("gpt", "Answers") == "2"
    assert (view.cell("gpt", "Input"), view.cell("gpt", "Cached")) == ("4,000", "400")
    assert (view.cell("gpt", "Thinking"), view.cell("gpt", "Answer")) == ("3,000", "300")
    week = gpt_cost((1000, 400, 2000, 100), (3000, 0, 1000, 200))
    assert view.cell("gpt", "Cost") == money(week)
    assert view.cell("smol", "Cost") == "none (runs on this computer)"
    assert view.cell("mystery", "Cost") == "price unknown"
    tokens = 4000 + 3300 + 80 + 110
    assert view.total_label.text() == f"Total: 4 answers · {tokens:,} tokens · {money(week)} (+ 1 answer of unknown price)"


def test_the_period_decides_what_is_summed(qtbot, store):
    view = UsageView(store, KNOWN, today=TODAY)
    qtbot.addWidget(view)
    view.period.setCurrentText("Today")
    assert view.cell("gpt", "Answers") == "1" and view.cell("gpt", "Cost") == money(gpt_cost((1000, 400, 2000, 100)))
    assert "mystery" not in [r.model_id for r in view.rows]
    view.period.setCurrentText("All time")
    assert view.cell("gpt", "Answers") == "3"
    assert view.cell("gpt", "Cost") == money(gpt_cost((1000, 400, 2000, 100), (3000, 0, 1000, 200),
                                                      (5000, 0, 5000, 500)))
    view.since.setDate(QDate(2026, 10, 1))  # a custom period: two months ago only
    view.until.setDate(QDate(2026, 10, 31))
    assert view.period.currentText() == "Custom"
    assert [r.model_id for r in view.rows] == ["gpt"] and view.cell("gpt", "Input") == "5,000"


def test_the_window_menu_opens_it(qtbot, store):
    session = ChatSession(load_user_models(), factory=lambda p: FakeBackend(p, ["ok"]))
    win = MainWindow(session, store=store, persistence=Persistence(session, store))
    qtbot.addWidget(win)
    actions = {a.text(): a for m in win.menuBar().actions() for a in m.menu().actions()}
    assert "&Usage and cost…" in actions
    view = win.open_usage()
    assert isinstance(view, UsageView) and view.isVisible() and view.rows
    view.close()
    session.shutdown()
    win.persistence.close()
