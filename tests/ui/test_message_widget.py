"""Message widgets: user text stays plain, an answer grows by what is new, the footer, the choices."""

from app.domain import events as ev
from app.domain.messages import AssistantMessage, UserMessage
from app.ui.markdown_view import MarkdownView
from app.ui.message_widget import AssistantMessageWidget, UserMessageWidget


def test_user_text_is_shown_as_typed_never_as_rich_text(qtbot):
    w = UserMessageWidget(UserMessage("<b>bold?</b> <img src='x.png'>"))
    qtbot.addWidget(w)
    assert w.label.text() == "<b>bold?</b> <img src='x.png'>"
    assert w.label.textFormat().name == "PlainText"


def test_each_refresh_appends_only_the_new_answer_text(qtbot, monkeypatch):
    appended: list[str] = []
    original = MarkdownView.append_text
    monkeypatch.setattr(MarkdownView, "append_text", lambda self, t: (appended.append(t), original(self, t)))
    m = AssistantMessage(model_id="m")
    w = AssistantMessageWidget(m, model_label="Model M")
    qtbot.addWidget(w)
    m.apply(ev.TurnStarted(0.0, "m", 5, 1000))
    for piece in ["The ", "answer ", "is ", "4."]:
        m.apply(ev.AnswerDelta(piece))
        w.refresh()
    w.refresh()  # nothing new: nothing appended
    assert appended == ["The ", "answer ", "is ", "4."]
    assert w.answer_text().strip() == "The answer is 4."
    assert w.origin.text() == "Model M · local"


def test_the_footer_says_how_the_turn_ended(qtbot):
    m = AssistantMessage(model_id="m")
    w = AssistantMessageWidget(m)
    qtbot.addWidget(w)
    m.apply(ev.TurnStarted(10.0, "m", 5, 1000))
    m.apply(ev.AnswerDelta("Partial"))
    m.apply(ev.TokenCounts(0, 3, 0, 10.5))
    m.apply(ev.TurnFinished(12.0, "cancelled"))
    w.refresh()
    text = w.status.text()
    assert "Stopped." in text and "3 tokens" in text and "2.0 s" in text


def test_an_overflow_offers_its_choices_and_they_are_emitted_once(qtbot):
    m = AssistantMessage(model_id="m")
    w = AssistantMessageWidget(m)
    qtbot.addWidget(w)
    chosen = []
    w.action_requested.connect(chosen.append)
    m.apply(ev.TurnStarted(0.0, "m", 900, 1024))
    m.apply(ev.ContextOverflow(needed=900, n_ctx=1024, reserve=512, strip_fits=False, drop_turns=2))
    m.apply(ev.TurnFinished(0.1, "error", "The prompt needs 900 tokens"))
    w.refresh()
    assert set(w.actions) == {"drop", "cancel"} and "2 oldest turns" in w.actions["drop"].text()
    w.actions["drop"].click()
    w.actions["drop"].click()  # disabled after the first choice
    assert chosen == ["drop"]


def test_trace_button_appears_with_the_first_reasoning(qtbot):
    m = AssistantMessage(model_id="m")
    w = AssistantMessageWidget(m)
    qtbot.addWidget(w)
    w.refresh()
    assert w.trace_button.isHidden()
    m.apply(ev.BlockStart(1.0, "<think>"))
    m.apply(ev.ReasoningDelta("Hmm."))
    w.refresh()
    assert not w.trace_button.isHidden() and len(w.panels) == 1
