"""Overflow without surprises: nothing is cut silently; each choice yields the prompt it promises."""

from dataclasses import replace

import pytest

from app.controllers.chat_session import ChatSession
from app.domain import events as ev
from app.domain.config import load_user_models
from app.domain.conversation import Conversation, chat_messages, drop_oldest_turns
from app.domain.steering import GRACE_TOKENS
from app.ui.main_window import MainWindow

pytestmark = pytest.mark.model

FILLER = "The lighthouse keeper counted the waves again and wrote the number down. "


def _past_turn(conv, question, reasoning, answer):
    conv.add_user(question)
    msg = conv.add_assistant("smollm2-think")
    msg.apply(ev.BlockStart(0.0, "<think>"))
    msg.apply(ev.ReasoningDelta(reasoning))
    msg.apply(ev.BlockEnd(0.1, "</think>"))
    msg.apply(ev.AnswerDelta(answer))
    msg.apply(ev.TurnFinished(0.2, "stop"))


def _window(qtbot, carry, budget=8):
    config = load_user_models()
    models = tuple(replace(m, n_ctx=1024, temperature=0.0,
                           reasoning=replace(m.reasoning, carry=carry, budget=budget)) if m.id == "smollm2-think" else m
                   for m in config.models)
    session = ChatSession(replace(config, models=models, default="smollm2-think"), max_tokens=24)
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(session.model_ready, timeout=60_000):
        session.preload()
    return win, session


@pytest.fixture(scope="module")
def counter():
    """The same model loaded apart, to count the prompts the choices promise."""
    from app.backends.llama_backend import LlamaBackend
    from helpers.models import profile

    backend = LlamaBackend(profile("smollm2-think", n_ctx=1024))
    backend.load()
    yield lambda chat: len(backend.tokenize(backend.render_prompt(chat)))
    backend.close()


def test_strip_earlier_thinking(qtbot, counter):
    win, session = _window(qtbot, "keep-all")
    conv = Conversation()
    for i in range(3):
        _past_turn(conv, f"Question {i}?", FILLER * 12, f"Answer {i}.")
    session.open_conversation(conv)
    with qtbot.waitSignal(session.turn_finished, timeout=60_000) as failed:
        session.send("And now?")
    msg = failed.args[0]
    assert msg.finish_reason == "error" and msg.overflow and msg.overflow.strip_fits
    assert "Nothing was cut" in msg.error
    widget = win.chat.widget_for(msg)
    assert set(widget.actions) >= {"strip", "cancel"}
    with qtbot.waitSignal(session.turn_finished, timeout=60_000) as done:
        widget.actions["strip"].click()
    retried = done.args[0]
    assert retried.finish_reason != "error"
    assert "Earlier thinking was left out" in retried.notes[0]
    assert win.chat.widget_for(msg) is None  # the failed answer was replaced
    expected = chat_messages(session.conversation.messages[:-1], carry="strip")
    assert retried.stats.prompt_tokens == counter(expected)
    session.shutdown()


def test_leave_out_the_oldest_turns(qtbot, counter):
    win, session = _window(qtbot, "strip")
    conv = Conversation()
    for i in range(4):
        _past_turn(conv, f"Question {i}?", "short", f"Answer {i}. " + FILLER * 8)
    session.open_conversation(conv)
    with qtbot.waitSignal(session.turn_finished, timeout=60_000) as failed:
        session.send("And now?")
    msg = failed.args[0]
    n = msg.overflow.drop_turns
    assert msg.overflow and not msg.overflow.strip_fits and n >= 1
    with qtbot.waitSignal(session.turn_finished, timeout=60_000) as done:
        win.chat.widget_for(msg).actions["drop"].click()
    retried = done.args[0]
    assert retried.finish_reason != "error"
    assert f"The {n} oldest turn" in retried.notes[0]
    expected = drop_oldest_turns(chat_messages(session.conversation.messages[:-1]), n)
    assert retried.stats.prompt_tokens == counter(expected)
    assert retried.stats.prompt_tokens + msg.overflow.reserve <= 1024
    # one fewer turn would not have fitted: the plan left out no more than needed
    fewer = drop_oldest_turns(chat_messages(session.conversation.messages[:-1]), n - 1)
    assert counter(fewer) + msg.overflow.reserve > 1024
    session.shutdown()


def test_thinking_that_used_up_the_budget_offers_an_answer(qtbot):
    win, session = _window(qtbot, "strip", budget=0)
    with qtbot.waitSignal(session.turn_finished, timeout=60_000) as done:
        session.send("Think about the number seven.")
    msg = done.args[0]
    assert msg.out_of_budget_while_thinking
    widget = win.chat.widget_for(msg)
    assert "Reasoning used up the token budget" in widget.status.text()
    assert set(widget.actions) == {"larger", "answer", "cancel"}
    with qtbot.waitSignal(session.turn_finished, timeout=60_000) as again:
        widget.actions["answer"].click()
    retried = again.args[0]
    assert 0 < retried.stats.reasoning_tokens <= 18 + GRACE_TOKENS and retried.answer.strip()
    assert "Thinking was limited to 18 tokens" in retried.notes[0]
    session.shutdown()
