"""Conversation → chat messages, with the carry policies."""

import pytest

from app.domain import events as ev
from app.domain.conversation import Conversation, chat_messages


def _answer(conv, reasoning, answer, finish="stop"):
    msg = conv.add_assistant("m")
    msg.apply(ev.TurnStarted(0.0, "m", 5, 100))
    msg.apply(ev.BlockStart(0.1, "<think>"))
    msg.apply(ev.ReasoningDelta(reasoning))
    msg.apply(ev.BlockEnd(0.2, "</think>"))
    msg.apply(ev.AnswerDelta("\n\n" + answer))
    msg.apply(ev.TurnFinished(0.3, finish))
    return msg


def _conv():
    conv = Conversation()
    conv.add_user("q1")
    _answer(conv, "r1", "a1")
    conv.add_user("q2")
    _answer(conv, "r2", "a2")
    conv.add_user("q3")
    return conv


def test_strip_leaves_reasoning_out_and_trims_answer():
    out = chat_messages(_conv().messages, system_prompt="sys")
    assert out == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "q2"},
        {"role": "assistant", "content": "a2"},
        {"role": "user", "content": "q3"},
    ]


def test_keep_last_and_keep_all():
    marks = ("<think>", "</think>")
    last = chat_messages(_conv().messages, carry="keep-last", markers=marks)
    assert last[1]["content"] == "a1"
    assert last[3]["content"] == "<think>\nr2\n</think>\n\na2"
    every = chat_messages(_conv().messages, carry="keep-all", markers=marks)
    assert every[1]["content"] == "<think>\nr1\n</think>\n\na1"


def test_unfinished_and_failed_turns_are_left_out():
    conv = Conversation()
    conv.add_user("q1")
    _answer(conv, "r", "partial", finish="error")
    conv.add_user("q2")
    conv.add_assistant("m")  # being generated
    out = chat_messages(conv.messages)
    assert [m["role"] for m in out] == ["user", "user"]


def test_bad_carry_policy():
    with pytest.raises(ValueError):
        chat_messages([], carry="sometimes")


def test_title_from_first_user_message():
    conv = Conversation()
    conv.add_user("  What is 2+2?\nmore")
    conv.add_user("second")
    assert conv.title == "What is 2+2?"


def test_cloud_consent_is_needed_once_local_turns_exist():
    from app.domain import events as ev

    conv = Conversation()
    conv.add_user("private")
    assert not conv.needs_cloud_consent(True)  # nothing ran locally yet
    answer = conv.add_assistant("local-model")
    answer.apply(ev.TurnFinished(1.0, "stop"))
    assert conv.needs_cloud_consent(True) and not conv.needs_cloud_consent(False)
    conv.cloud_confirmed = True
    assert not conv.needs_cloud_consent(True)
