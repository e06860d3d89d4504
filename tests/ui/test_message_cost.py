"""The cost in an answer's footer and the arithmetic in its tooltip (pytest-qt)."""

from __future__ import annotations

from app.domain import events as ev
from app.domain.cost import Billing
from app.domain.messages import AssistantMessage
from app.domain.profiles import Price
from app.ui.chat_view import ChatView
from app.ui.message_widget import AssistantMessageWidget

PRICE = Price(input=2.0, cached_input=0.5, output=8.0, checked="2026-12-01")


def finished(*events, where: str = "api.openai.com") -> AssistantMessage:
    msg = AssistantMessage(model_id="o4")
    for event in (ev.TurnStarted(0.0, "o4", 4200, 200000, where=where), ev.TokenCounts(0, 1, 0, 1.0), *events,
                  ev.TurnFinished(3.0, "stop")):
        msg.apply(event)
    return msg


def footer(qtbot, msg: AssistantMessage, billing: Billing | None) -> AssistantMessageWidget:
    widget = AssistantMessageWidget(msg, model_label="o4-mini", billing=billing)
    qtbot.addWidget(widget)
    widget.refresh()
    return widget


def test_a_cloud_answer_shows_its_cost_and_the_hidden_thinking_share(qtbot):
    msg = finished(ev.HiddenReasoning(1204), ev.AnswerDelta("It is 4."),
                   ev.Usage(4200, 1204, 312, cached_tokens=3000))
    widget = footer(qtbot, msg, Billing(PRICE, model_id="o4"))
    assert widget.status.text().endswith(
        " · $0.0160 · thinking $0.00963 (1,204 tokens, hidden by the provider)")
    assert widget.status.text().startswith("1,516 tokens · 3.0 s")
    tip = widget.status.toolTip()
    assert 'the price of "o4" in models.toml (per million tokens, checked 2026-12-01)' in tip
    for line in ("input: 1,200 tokens × $2/M = $0.0024", "cached input: 3,000 tokens × $0.5/M = $0.0015",
                 "thinking, hidden by the provider: 1,204 tokens × $8/M = $0.00963",
                 "answer: 312 tokens × $8/M = $0.0025", "total: $0.0160"):
        assert line in tip
    assert widget.status.textFormat().name == "PlainText"


def test_a_split_by_estimate_says_so(qtbot):
    msg = finished(ev.ReasoningDelta("Adding up."), ev.AnswerDelta("4"),
                   ev.Usage(100, 90, 10, estimated=True, split_estimated=True))
    widget = footer(qtbot, msg, Billing(PRICE, model_id="claude"))
    assert "thinking ~$0.00072 (~90 tokens, Ponder's estimate)" in widget.status.text()
    assert "~$0.0010" not in widget.status.text()  # the total is exact
    assert "the thinking/answer split is Ponder's estimate" in widget.status.toolTip()


def test_an_answer_cut_before_the_usage_is_an_estimate(qtbot):
    msg = finished(ev.AnswerDelta("Par"), ev.Usage(50, 0, 1, estimated=True))
    widget = footer(qtbot, msg, Billing(PRICE, model_id="o4"))
    assert "~$0.000108 estimated" in widget.status.text()  # 50 × $2/M + 1 × $8/M
    assert "Ponder's estimates" in widget.status.toolTip()


def test_a_model_without_a_price_says_price_unknown(qtbot):
    msg = finished(ev.AnswerDelta("4"), ev.Usage(100, 0, 1))
    widget = footer(qtbot, msg, Billing(None, model_id="deepseek"))
    assert widget.status.text().endswith(" · price unknown") and "$" not in widget.status.text()
    assert "[model.price]" in widget.status.toolTip()


def test_a_local_answer_shows_time_and_tokens_only(qtbot):
    msg = finished(ev.ReasoningDelta("hm"), ev.AnswerDelta("4"), where="local")
    for billing in (Billing(local=True, model_id="smollm2-135m"), None):  # None: judged by where it ran
        widget = footer(qtbot, msg, billing)
        assert "$" not in widget.status.text() and "price" not in widget.status.text()
        assert "tokens" in widget.status.text() and widget.status.toolTip() == ""


def test_the_chat_view_gives_each_answer_its_model_s_billing(qtbot):
    view = ChatView()
    qtbot.addWidget(view)
    view.model_billing = {"o4": Billing(PRICE, model_id="o4")}
    msg = finished(ev.AnswerDelta("4"), ev.Usage(1000, 0, 100))
    view.add_message(msg)
    view.update_message(msg)
    assert view.widget_for(msg).status.text().endswith(" · $0.0028")


def test_a_hidden_count_that_comes_after_the_answer_shows_above_it(qtbot):
    """o-series over chat completions: the answer streams, then the usage brings the count."""
    msg = AssistantMessage(model_id="o4")
    widget = AssistantMessageWidget(msg, billing=Billing(PRICE, model_id="o4"))
    qtbot.addWidget(widget)
    msg.apply(ev.TurnStarted(0.0, "o4", 100, 200000, where="api.openai.com"))
    for piece in ("It ", "is ", "4."):
        msg.apply(ev.AnswerDelta(piece))
        widget.refresh()
    msg.apply(ev.HiddenReasoning(500))
    msg.apply(ev.Usage(100, 500, 3))
    msg.apply(ev.TurnFinished(1.0, "stop"))
    widget.refresh()
    assert len(widget.panels) == 1 and widget.answer_text().strip() == "It is 4."
    layout = widget.layout()
    order = [layout.itemAt(i).widget() for i in range(layout.count()) if layout.itemAt(i).widget() is not None]
    assert order.index(widget.panels[0]) < order.index(widget.answer_views[0])
    assert "thinking $0.004 (500 tokens, hidden by the provider)" in widget.status.text()
