"""The trace viewer's cost line: thinking / answer / input, and the earlier turns' share."""

from __future__ import annotations

import pytest

from app.domain import events as ev
from app.domain.cost import Billing
from app.domain.messages import AssistantMessage
from app.domain.profiles import Price
from app.ui.trace_viewer import TraceViewer

PRICE = Price(input=2.0, cached_input=0.5, output=8.0, checked="2026-12-01")


def cloud_message() -> AssistantMessage:
    msg = AssistantMessage(model_id="o4")
    for event in (ev.TurnStarted(0.0, "o4", 3000, 200000, where="api.openai.com", system_tokens=200),
                  ev.HiddenReasoning(1000), ev.AnswerDelta("It is 4."),
                  ev.Usage(3000, 1000, 100, cached_tokens=2000), ev.TurnFinished(3.0, "stop")):
        msg.apply(event)
    return msg


def test_the_cost_split_of_a_cloud_answer(qtbot):
    viewer = TraceViewer(cloud_message(), billing=Billing(PRICE, model_id="o4"), question="What is 2 + 2? " * 4)
    qtbot.addWidget(viewer)
    line = viewer.cost_split.label.text()
    cost = viewer.cost_split.cost
    assert cost.total == pytest.approx((1000 * 2.0 + 2000 * 0.5 + 1100 * 8.0) / 1e6)
    assert line.startswith("Cost $0.0118: thinking $0.008 (68%) · answer $0.0008 (7%) · input $0.003 (25%)")
    question = 60 // 4 + 4
    assert cost.tokens.history == 3000 - 200 - question  # the earlier turns: the prompt less system and question
    assert f"earlier turns' history in the input: ~{3000 - 200 - question:,} tokens" in line
    assert "thinking, hidden by the provider: 1,000 tokens × $8/M = $0.008" in viewer.cost_split.toolTip()
    assert not viewer.cost_split.isHidden()


def test_a_local_answer_has_no_cost_line_and_an_unknown_price_says_so(qtbot):
    local = AssistantMessage(model_id="smollm2-135m")
    for event in (ev.TurnStarted(0.0, "smollm2-135m", 20, 8192), ev.AnswerDelta("Hi"), ev.TurnFinished(1.0, "stop")):
        local.apply(event)
    viewer = TraceViewer(local)
    qtbot.addWidget(viewer)
    assert viewer.cost_split.isHidden() and viewer.cost_split.cost is None
    unknown = TraceViewer(cloud_message(), billing=Billing(None, model_id="o4"))
    qtbot.addWidget(unknown)
    assert unknown.cost_split.label.text().startswith("Cost: price unknown")
