"""Persistence: user messages at once, the streaming message every interval and on finish, off the GUI thread."""

import threading

import pytest
from PySide6.QtCore import QObject, Signal

from app.controllers.persistence import Persistence, _Job, _merge, snapshot
from app.domain import events as ev
from app.domain.conversation import Conversation
from app.domain.messages import AnswerPart, AssistantMessage, UserMessage
from app.domain.recovery import RetryPlan
from app.store.conversations import Store, open_store
from app.store.db import StoreError
from app.store.stream import Piece, StreamDelta
from helpers.fake_session import fake_session

SCRIPT = ["<think>"] + [f" t{i}" for i in range(60)] + ["</think>"] + [f" a{i}" for i in range(20)]


@pytest.fixture
def store():
    s, _ = open_store()
    yield s
    s.close()


@pytest.fixture
def rig(qtbot, store):
    """A fake session streaming SCRIPT at 10 ms a token, with Persistence attached (200 ms interval)."""
    session = fake_session(SCRIPT, delay_s=0.01)
    persistence = Persistence(session, store, interval_ms=200)
    yield session, persistence
    persistence.close()
    session.shutdown()


def _saved_tokens(store, conv_uid):
    msgs = store.load_conversation(conv_uid).messages
    return msgs[1].stats.generated_tokens if len(msgs) > 1 else None


def test_user_message_at_once_streaming_message_repeatedly_final_on_finish(qtbot, rig, store):
    session, persistence = rig
    with qtbot.waitSignal(persistence.saved, timeout=5000) as first:
        session.send("Count slowly")
    conv_uid = session.conversation.uid
    assert first.args == [conv_uid]
    assert store.load_conversation(conv_uid).messages[0].text == "Count slowly"
    assert store.list_conversations()[0].title == "Count slowly"
    seen = set()
    while session.busy:
        qtbot.wait(50)
        n = _saved_tokens(store, conv_uid)
        if n is not None:
            seen.add(n)
    assert len([n for n in seen if 0 < n < len(SCRIPT)]) >= 2  # partial saves while streaming (~0.8 s)
    assert persistence.flush()
    msg = session.conversation.messages[1]
    back = store.load_conversation(conv_uid).messages[1]
    assert back == msg and back.finish_reason == "stop" and back.stats.generated_tokens == len(SCRIPT)
    assert store.db.conn.execute("SELECT partial FROM messages WHERE uid = ?", (msg.uid,)).fetchone() == (0,)


def test_saved_is_emitted_for_the_final_message(qtbot, rig, store):
    session, persistence = rig
    conv = []
    persistence.saved.connect(conv.append)
    with qtbot.waitSignal(session.turn_finished, timeout=10_000):
        session.send("go")
    qtbot.waitUntil(lambda: len(conv) == 2, timeout=5000)  # user message, then the finished answer
    assert store.load_conversation(conv[0]).messages[1].finished


def test_the_store_is_only_touched_on_the_writer_thread(qtbot, monkeypatch, rig):
    session, persistence = rig
    threads = []

    def recording(original):
        def record(self, *args, **kwargs):
            threads.append(threading.get_ident())
            return original(self, *args, **kwargs)
        return record

    monkeypatch.setattr(Store, "save_message", recording(Store.save_message))
    monkeypatch.setattr(Store, "save_stream", recording(Store.save_stream))
    with qtbot.waitSignal(session.turn_finished, timeout=10_000):
        session.send("go")
    persistence.flush()
    assert len(threads) >= 3 and threading.get_ident() not in threads


def test_close_flushes_and_joins(qtbot, rig, store):
    session, persistence = rig
    session.send("go")
    qtbot.waitUntil(lambda: session.conversation.messages[1].stats.generated_tokens > 10, timeout=5000)
    persistence.close()
    assert not persistence._thread.is_alive()
    streamed = session.conversation.messages[1].stats.generated_tokens
    saved = _saved_tokens(store, session.conversation.uid)
    assert saved is not None and saved >= streamed - 1  # the message as it was at close
    persistence.close()  # twice is fine


def test_write_errors_are_reported_not_swallowed(qtbot, monkeypatch, rig):
    session, persistence = rig

    def failing(self, *args, **kwargs):
        raise StoreError("Could not save the message: the disk is full. Free some space.")

    monkeypatch.setattr(Store, "save_message", failing)
    with qtbot.waitSignal(persistence.error, timeout=5000) as err:
        session.send("go")
    assert err.args == ["Could not save the message: the disk is full. Free some space."]


def test_edit_and_resend_makes_a_branch(qtbot, rig, store):
    session, persistence = rig
    with qtbot.waitSignal(session.turn_finished, timeout=10_000):
        session.send("first question")
    old_user = session.conversation.messages[0]
    del session.conversation.messages[:]  # what editing the first message does: continue from before it
    with qtbot.waitSignal(session.turn_finished, timeout=10_000):
        session.send("edited question")
    persistence.flush()
    conv_uid = session.conversation.uid
    versions = store.versions_of(old_user.uid)
    assert [v.preview for v in versions] == ["first question", "edited question"] and versions[1].active
    assert store.load_conversation(conv_uid).messages[0].text == "edited question"
    store.set_active_version(old_user.uid)
    old = store.load_conversation(conv_uid).messages
    assert old[0].text == "first question" and old[1].finished


def test_retry_keeps_the_old_answer_as_an_earlier_version(qtbot, rig, store):
    session, persistence = rig
    with qtbot.waitSignal(session.turn_finished, timeout=10_000):
        session.send("question")
    old = session.conversation.messages[1]
    with qtbot.waitSignal(session.turn_finished, timeout=10_000) as done:
        assert session.retry(RetryPlan(note="Once more."))
    persistence.flush()
    new = done.args[0]
    versions = store.versions_of(old.uid)
    assert [(v.uid, v.active) for v in versions] == [(old.uid, False), (new.uid, True)]
    back = store.load_conversation(session.conversation.uid).messages
    assert len(back) == 2 and back[1].uid == new.uid and back[1].notes == ["Once more."]


def test_regenerated_answer_saved_through_save_is_a_new_version(qtbot, rig, store):
    session, persistence = rig
    with qtbot.waitSignal(session.turn_finished, timeout=10_000):
        session.send("question")
    old = session.conversation.messages.pop()
    again = AssistantMessage(model_id="other", finish_reason="stop", parts=[AnswerPart("second try")])
    session.conversation.messages.append(again)
    persistence.save(again)
    persistence.flush()
    assert [v.uid for v in store.versions_of(old.uid)] == [old.uid, again.uid]
    assert store.load_conversation(session.conversation.uid).messages[1].answer == "second try"


def test_rename_and_delete_go_through_the_writer(qtbot, rig, store):
    session, persistence = rig
    with qtbot.waitSignal(session.turn_finished, timeout=10_000):
        session.send("question")
    uid = session.conversation.uid
    persistence.flush()
    qtbot.wait(50)  # let the queued "saved" of the answer arrive first
    with qtbot.waitSignal(persistence.saved, timeout=5000, check_params_cb=lambda u: u == uid):
        persistence.rename(uid, "Better title")
    assert session.conversation.title == "Better title" and store.list_conversations()[0].title == "Better title"
    with qtbot.waitSignal(persistence.deleted, timeout=5000):
        persistence.delete(uid)
    persistence.save(session.conversation.messages[1])  # dropped: the conversation is gone
    persistence.flush()
    assert store.list_conversations() == []


def test_snapshot_is_independent_of_later_streaming():
    msg = AssistantMessage(parts=[AnswerPart("abc")])
    msg.stats.token_times = [1.0]
    copy = snapshot(msg)
    msg.parts[0].text += "def"
    msg.stats.token_times.append(2.0)
    assert copy.parts[0].text == "abc" and copy.stats.token_times == [1.0] and copy.uid == msg.uid


def test_merge_keeps_the_newest_save_in_the_first_slot():
    a1, b1, a2, r, a3 = (_Job(None, None, key="a"), _Job(None, ("saved", "c"), key="b"),
                         _Job(None, ("saved", "c"), key="a"), _Job(None), _Job(None, None, key="a"))
    assert _merge([a1, b1, a2, r, a3]) == [a2, b1, r, a3]
    assert _merge([a2, a3])[0].done == ("saved", "c")  # a final save's signal is not lost


def test_merge_joins_deltas_and_a_whole_save_replaces_them():
    def delta_job(reset, text):
        return _Job(None, None, key="a", delta=StreamDelta("a", reset, {}, pieces=[Piece(0, text)]))

    first, second, whole = delta_job(True, "x"), delta_job(False, "y"), _Job(None, ("saved", "c"), key="a")
    [joined] = _merge([first, second])
    assert joined.delta.reset and [p.text for p in joined.delta.pieces] == ["x", "y"]
    assert _merge([delta_job(True, "x"), whole]) == [whole]
    later = delta_job(False, "z")
    assert _merge([whole, later]) == [whole, later]  # streaming again after a whole save: both, in order


class _Manual(QObject):
    """A session whose message the test grows itself (Persistence saves only when told to flush)."""

    message_added = Signal(object)
    message_changed = Signal(object)
    turn_finished = Signal(object)

    def __init__(self):
        super().__init__()
        self.conversation = Conversation(title="Manual")

    def start(self) -> AssistantMessage:
        user, msg = UserMessage("Go"), AssistantMessage(model_id="m")
        self.conversation.messages += [user, msg]
        self.message_added.emit(user)
        msg.apply(ev.BlockStart(t=1.0, marker="<think>"))
        self.message_added.emit(msg)
        return msg

    def grow(self, msg: AssistantMessage, words: range) -> None:
        for i in words:
            msg.apply(ev.ReasoningDelta(text=f" r{i}"))
            msg.apply(ev.TokenCounts(reasoning=i + 1, answer=0, t=1.0 + i))
        self.message_changed.emit(msg)


@pytest.fixture
def manual(qtbot, store):
    session = _Manual()
    persistence = Persistence(session, store, interval_ms=3_600_000)
    yield session, persistence
    persistence.close()


def test_partial_saves_carry_only_the_new_text(qtbot, manual, store, monkeypatch):
    session, persistence = manual
    deltas = []
    original = Store.save_stream

    def recording(self, conv_uid, position, delta, **kw):
        deltas.append(delta)
        return original(self, conv_uid, position, delta, **kw)

    monkeypatch.setattr(Store, "save_stream", recording)
    msg = session.start()
    assert persistence.flush()
    for start in (0, 100, 200):
        session.grow(msg, range(start, start + 100))
        assert persistence.flush()
    assert [d.reset for d in deltas] == [True, False, False, False]
    assert [d.chars for d in deltas[1:]] == [len("".join(f" r{i}" for i in range(s, s + 100))) for s in (0, 100, 200)]
    assert store.load_conversation(session.conversation.uid).messages[1] == msg


def test_a_failed_partial_save_is_joined_to_the_next_one(qtbot, manual, store, monkeypatch):
    session, persistence = manual
    errors = []
    persistence.error.connect(errors.append)
    original, calls = Store.save_stream, []

    def second_fails(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise StoreError("Could not save the message: the disk is full. Free some space.")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Store, "save_stream", second_fails)
    msg = session.start()
    persistence.flush()
    session.grow(msg, range(0, 20))
    persistence.flush()  # fails: r0..r19 are not on disk yet
    qtbot.waitUntil(lambda: errors == ["Could not save the message: the disk is full. Free some space."])
    session.grow(msg, range(20, 30))
    persistence.flush()
    back = store.load_conversation(session.conversation.uid).messages[1]
    assert back.blocks[0].text == msg.blocks[0].text == "".join(f" r{i}" for i in range(30))
    assert back.stats.token_times == msg.stats.token_times

