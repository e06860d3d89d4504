"""A priced cloud model in the window, against the replay server: the answer's footer and
tooltip, the trace viewer's cost line (the question left out of the history), the maximum
above the composer before the next turn."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.controllers.chat_session import ChatSession
from app.domain.config import load_user_models
from app.domain.profiles import Price
from app.ui.main_window import MainWindow
from helpers.cloud_replay import run_until

PATH = "/v1/chat/completions"
PRICE = Price(input=2.0, cached_input=0.5, output=8.0, checked="2026-12-01")


def hidden_reasoning_reply(cloud, prompt: int, cached: int, reasoning: int, answer: int, text: str) -> bytes:
    usage = {"prompt_tokens": prompt, "completion_tokens": reasoning + answer,
             "prompt_tokens_details": {"cached_tokens": cached},
             "completion_tokens_details": {"reasoning_tokens": reasoning}}
    return (cloud.sse({"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": "stop"}]})
            + cloud.sse({"choices": [], "usage": usage}) + cloud.sse("[DONE]"))


def test_a_priced_cloud_turn_in_the_window(qtbot, qloop, cloud):
    cloud.server.script(PATH, cloud.Reply(pieces=cloud.odd(hidden_reasoning_reply(cloud, 420, 0, 1204, 60, "Paris."))),
                        cloud.Reply(pieces=[hidden_reasoning_reply(cloud, 900, 384, 800, 40, "Berlin.")]))
    remote = cloud.profile(id="o4", label="o4-mini", model="o4-mini", reasoning_effort="high", price=PRICE)
    config = replace(load_user_models(), models=load_user_models().models + (remote,), default="o4")
    session = ChatSession(config)
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    assert session.send("Capital of France?")
    run_until(qloop, lambda: not session.busy)
    msg = session.conversation.messages[-1]
    status = win.chat.widget_for(msg).status
    first = (420 * 2.0 + 1264 * 8.0) / 1e6
    assert status.text().endswith(f" · ${first:.4f} · thinking $0.00963 (1,204 tokens, hidden by the provider)")
    assert 'the price of "o4" in models.toml' in status.toolTip()

    assert session.send("And of Germany?")
    run_until(qloop, lambda: not session.busy)
    second = session.conversation.messages[-1]
    viewer = win.open_trace(second)
    cost = viewer.cost_split.cost
    assert cost.total == pytest.approx((516 * 2.0 + 384 * 0.5 + 840 * 8.0) / 1e6)
    question = len("And of Germany?") // 4 + 1 + 4  # the question's estimate, left out of the history
    assert cost.tokens.history == second.stats.prompt_tokens - second.stats.system_tokens - question
    assert "earlier turns' history in the input" in viewer.cost_split.label.text()
    viewer.close()

    # the next turn, with a thinking budget: at most this much
    c = win.thinking_controls
    c.budget_box.setCurrentIndex(c.budget_box.findData("custom"))
    c.custom.setValue(2048)
    win.composer.edit.setPlainText("And of Italy?")
    qtbot.waitUntil(lambda: not win.cost_ceiling.isHidden() and win.cost_ceiling.prompt_tokens
                    == win.gauge.usage.used, timeout=3000)
    ceiling = win.cost_ceiling.ceiling
    assert ceiling.output_tokens == 2048 + session.max_tokens
    assert ceiling.total == pytest.approx((win.gauge.usage.used * 2.0 + ceiling.output_tokens * 8.0) / 1e6)
    session.shutdown()
