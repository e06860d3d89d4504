"""Above the composer: the most the next turn can cost, from the gauge's prompt preview, the
thinking budget and the answer's limit (pytest-qt)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.backends.fake import FakeBackend
from app.controllers.chat_session import ChatSession
from app.domain.config import load_user_models
from app.domain.profiles import ModelProfile, Price, ReasoningSettings
from app.ui.cost_ceiling import CostCeiling
from app.ui.main_window import MainWindow

PRICE = Price(input=3.0, cached_input=0.3, output=15.0, checked="2026-12-01")
CLAUDE = ModelProfile("claude", "Claude", "cloud", "anthropic", model="claude-x", context_window=200000,
                      reasoning=ReasoningSettings(budget=4096), price=PRICE)


def test_the_maximum_is_the_prompt_at_input_price_plus_budget_and_answer_at_output_price(qtbot):
    ceiling = CostCeiling()
    qtbot.addWidget(ceiling)
    ceiling.set_turn(CLAUDE, None, 1024)
    assert ceiling.isHidden()  # no prompt measured yet
    ceiling.set_prompt(2000)
    most = (2000 * 3.0 + (4096 + 1024) * 15.0) / 1e6
    assert not ceiling.isHidden() and ceiling.ceiling.total == pytest.approx(most)
    assert ceiling.label.text() == ("This turn costs at most $0.0828 (prompt ~2,000 tokens, thinking budget 4,096 "
                                    "+ answer 1,024)")
    assert "prompt: 2,000 tokens × $3/M = $0.006" in ceiling.toolTip()
    assert "thinking budget 4,096 + answer 1,024: 5,120 tokens × $15/M = $0.0768" in ceiling.toolTip()
    ceiling.set_turn(CLAUDE, 1024, 1024)  # a smaller budget chosen in the thinking controls
    assert ceiling.ceiling.total == pytest.approx((2000 * 3.0 + 2048 * 15.0) / 1e6)
    ceiling.set_turn(CLAUDE, 0, 1024)  # "no limit": no maximum
    assert ceiling.isHidden() and ceiling.ceiling is None


def test_hidden_for_local_models_and_unknown_prices_say_so(qtbot):
    ceiling = CostCeiling()
    qtbot.addWidget(ceiling)
    ceiling.set_prompt(500)
    ceiling.set_turn(ModelProfile("s", "S", "reasoning", "llama", path="bundled:smollm2",
                                  reasoning=ReasoningSettings(budget=48)), None, 256)
    assert ceiling.isHidden()
    ceiling.set_turn(replace(CLAUDE, price=None), None, 1024)
    assert not ceiling.isHidden() and ceiling.label.text() == "The most this turn can cost: price unknown"
    assert "[model.price]" in ceiling.toolTip()


def test_in_the_window_it_follows_the_draft_and_the_budget(qtbot):
    config = load_user_models()
    config = replace(config, models=config.models + (CLAUDE,))
    session = ChatSession(config, factory=lambda p: FakeBackend(p, ["ok"]), max_tokens=1024)
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    assert win.cost_ceiling.isHidden()  # the bundled local model
    win.choose_model("claude")
    qtbot.waitUntil(lambda: not win.cost_ceiling.isHidden(), timeout=3000)
    first = win.cost_ceiling.ceiling
    assert first.prompt_tokens == win.gauge.usage.used and first.output_tokens == 4096 + 1024
    win.composer.edit.setPlainText("Prove that there are infinitely many primes. " * 20)
    qtbot.waitUntil(lambda: win.cost_ceiling.ceiling.prompt_tokens > first.prompt_tokens, timeout=3000)
    grown = win.cost_ceiling.ceiling
    assert grown.prompt_tokens == win.gauge.usage.used and win.gauge.usage.estimated
    assert grown.total == pytest.approx((grown.prompt_tokens * 3.0 + 5120 * 15.0) / 1e6)
    c = win.thinking_controls
    c.budget_box.setCurrentIndex(c.budget_box.findData("custom"))
    c.custom.setValue(2000)
    assert win.cost_ceiling.ceiling.output_tokens == 3024
    assert win.cost_ceiling.label.text().startswith(f"This turn costs at most ${win.cost_ceiling.ceiling.total:.4f} "
                                                    f"(prompt ~{grown.prompt_tokens:,} tokens, thinking budget 2,000 + "
                                                    "answer 1,024)")
    win.choose_model("smollm2-135m")
    assert win.cost_ceiling.isHidden()
    session.shutdown()
