"""The chat view: one widget per message (by uid), removal, rebuilding, staying pinned to the bottom."""

from app.domain import events as ev
from app.domain.conversation import Conversation
from app.domain.messages import AssistantMessage, UserMessage
from app.ui.chat_view import ChatView
from app.ui.message_widget import AssistantMessageWidget, UserMessageWidget


def answered(text: str) -> AssistantMessage:
    m = AssistantMessage(model_id="m")
    m.apply(ev.TurnStarted(0.0, "m", 5, 1000))
    m.apply(ev.AnswerDelta(text))
    m.apply(ev.TokenCounts(0, 1, 0, 0.1))
    m.apply(ev.TurnFinished(0.2, "stop"))
    return m


def test_messages_are_found_by_uid_not_by_identity(qtbot):
    view = ChatView()
    qtbot.addWidget(view)
    msg = answered("hello")
    widget = view.add_message(msg)
    assert isinstance(widget, AssistantMessageWidget)
    same = AssistantMessage(uid=msg.uid)  # e.g. the copy a store or a snapshot holds
    assert view.widget_for(same) is widget
    view.remove_message(same)
    assert view.widget_for(msg) is None


def test_show_conversation_rebuilds_the_view(qtbot):
    view = ChatView()
    qtbot.addWidget(view)
    view.add_message(UserMessage("stale"))
    conv = Conversation()
    conv.add_user("Question?")
    conv.messages.append(answered("Answer."))
    view.show_conversation(conv)
    assert set(view.widgets) == {m.uid for m in conv.messages}
    assert isinstance(view.widget_for(conv.messages[0]), UserMessageWidget)
    assert view.widget_for(conv.messages[1]).answer_text().strip() == "Answer."


def test_stays_at_the_bottom_unless_the_user_scrolled_up(qtbot):
    view = ChatView()
    qtbot.addWidget(view)
    view.resize(400, 200)
    view.show()
    for i in range(30):
        view.add_message(UserMessage(f"message {i} " * 5))
    streaming = AssistantMessage(model_id="m")
    view.add_message(streaming)
    bar = view.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum())
    bar.setValue(0)  # the user scrolls up to read
    streaming.apply(ev.AnswerDelta("a long answer\n\n" * 20))
    view.update_message(streaming)
    qtbot.wait(50)
    assert bar.value() == 0  # the growing answer does not pull the reader down
    view.add_message(UserMessage("a new question"))  # sending pins the view again
    qtbot.waitUntil(lambda: bar.value() == bar.maximum() > 0)


def test_a_new_line_is_laid_out_before_the_chat_paints(qtbot):
    """A growing answer's new size reaches the message and the chat while the message updates,
    not one event-loop pass per level after the paint (two or three paints, the line clipped)."""
    view = ChatView()
    qtbot.addWidget(view)
    view.resize(500, 600)
    view.show()
    user = view.add_message(UserMessage("question"))
    streaming = AssistantMessage(model_id="m")
    streaming.apply(ev.TurnStarted(0.0, "m", 5, 1000))
    widget = view.add_message(streaming)
    streaming.apply(ev.AnswerDelta("first line"))
    view.update_message(streaming)
    qtbot.waitUntil(lambda: widget.answer_views and widget.answer_views[0].height() > 0)
    qtbot.wait(50)
    md = widget.answer_views[0]
    heights, user_y = (widget.height(), md.height()), user.y()
    streaming.apply(ev.AnswerDelta(" and more words" * 60))  # several lines more, one paragraph
    view.update_message(streaming)  # no event processing after this
    assert md.height() > heights[1]
    assert widget.height() > heights[0]  # the message holds its taller text already
    assert md.geometry().bottom() < widget.height()
    assert user.y() < user_y  # the chat moved the question up (messages sit at the bottom)
