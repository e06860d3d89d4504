"""The chat session with a scripted backend: events fold into messages, throttled updates."""

import pytest

from app.domain.messages import AssistantMessage, UserMessage
from helpers.fake_session import fake_session

SCRIPT = ["<think>", "Let", " me", " think", ".", "</think>", "\n\n", "The", " answer", " is", " 4", "."]


@pytest.fixture
def session(qtbot):
    s = fake_session(SCRIPT)
    yield s
    s.shutdown()


def test_a_turn_builds_the_message(qtbot, session):
    added = []
    session.message_added.connect(added.append)
    with qtbot.waitSignal(session.turn_finished, timeout=5000) as done:
        assert session.send("What is 2+2?")
    msg = done.args[0]
    assert isinstance(added[0], UserMessage) and added[1] is msg and isinstance(msg, AssistantMessage)
    assert msg.reasoning == "Let me think."
    assert msg.answer.strip() == "The answer is 4."
    assert (msg.stats.reasoning_tokens, msg.stats.answer_tokens) == (6, 6)
    assert msg.finish_reason == "stop" and not session.busy


def test_send_is_refused_while_busy_and_for_empty_text(qtbot):
    s = fake_session(["x"] * 200, delay_s=0.01)
    try:
        assert not s.send("   ")
        assert s.send("first")
        assert not s.send("second")
        with qtbot.waitSignal(s.turn_finished, timeout=5000):
            s.stop()
        assert [type(m).__name__ for m in s.conversation.messages] == ["UserMessage", "AssistantMessage"]
    finally:
        s.shutdown()


def test_updates_are_throttled(qtbot):
    """600 tokens at ~1 ms each: the views hear far fewer than 600 updates (≤ ~30/s)."""
    s = fake_session(["tok "] * 600, delay_s=0.001)
    changes = []
    s.message_changed.connect(lambda m: changes.append(m.stats.answer_tokens))
    try:
        with qtbot.waitSignal(s.turn_finished, timeout=20_000):
            s.send("go")
        assert changes[-1] == 600
        assert len(changes) < 600 / 5
    finally:
        s.shutdown()


def test_second_turn_sends_history_without_reasoning(qtbot, session):
    with qtbot.waitSignal(session.turn_finished, timeout=5000):
        session.send("first")
    with qtbot.waitSignal(session.turn_finished, timeout=5000):
        session.send("second")
    request = session.fake_backends[0].requests[-1]
    assert [m["role"] for m in request.messages] == ["user", "assistant", "user"]
    assert request.messages[1]["content"] == "The answer is 4."


def test_switching_model_keeps_the_conversation(qtbot, session):
    with qtbot.waitSignal(session.turn_finished, timeout=5000):
        session.send("first")
    session.set_model("smollm2-think", preload=False)
    with qtbot.waitSignal(session.turn_finished, timeout=5000) as done:
        session.send("second")
    assert done.args[0].model_id == "smollm2-think"
    assert len(session.conversation.messages) == 4


def test_new_chat_empties_the_conversation(qtbot, session):
    with qtbot.waitSignal(session.turn_finished, timeout=5000):
        session.send("first")
    with qtbot.waitSignal(session.chat_reset, timeout=1000):
        session.new_chat()
    assert session.conversation.messages == []


def test_closing_the_window_during_a_load_returns_within_2_s(qtbot, capfd):
    import threading
    import time

    from app.backends.fake import FakeBackend
    from app.controllers.chat_session import ChatSession
    from app.domain.config import load_user_models
    from app.ui.main_window import MainWindow

    gate = threading.Event()  # a load that nothing can interrupt until the test lets it go
    session = ChatSession(load_user_models(), factory=lambda p: FakeBackend(p, [], load_blocks=gate))
    win = MainWindow(session)
    win.show()
    with qtbot.waitSignal(session.model_loading, timeout=5000):
        session.preload()
    t0 = time.monotonic()
    win.close()
    assert time.monotonic() - t0 < 2.0
    assert "a model was still loading; quitting without waiting for it" in capfd.readouterr().err
    assert session.local_host.running and win.shutdown() is False  # the one path, asked again: same answer
    gate.set()
    qtbot.waitUntil(lambda: not session.local_host.running, timeout=5000)


def test_closing_the_window_when_idle_ends_the_worker(qtbot):
    from app.ui.main_window import MainWindow

    s = fake_session(SCRIPT)
    win = MainWindow(s)
    win.show()
    with qtbot.waitSignal(s.turn_finished, timeout=5000):
        s.send("hi")
    win.close()
    assert not s.local_host.running and win.shutdown() is True
