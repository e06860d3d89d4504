"""Partial saves write only what is new; the text is indexed once, when the message is final."""

import json
import os
import statistics
import time

import pytest

from app.domain import events as ev
from app.domain.messages import AnswerPart, AssistantMessage, ReasoningBlock, UserMessage
from app.store.conversations import INTERRUPTED, open_store
from app.store.rows import raw_layout, rebuild_raw
from app.store.stream import MARKUP, StreamTracker

CONV = "c-stream"


def _start(store) -> AssistantMessage:
    store.save_message(CONV, 0, UserMessage("Think."), partial=False, title="Think.")
    msg = AssistantMessage(model_id="m")
    msg.apply(ev.TurnStarted(t=1.0, model_id="m", prompt_tokens=3, n_ctx=4096))
    msg.apply(ev.BlockStart(t=1.0, marker="<think>"))
    return msg


def _reason(msg: AssistantMessage, words: range) -> None:
    for i in words:
        msg.apply(ev.ReasoningDelta(text=f" r{i}"))
        msg.apply(ev.TokenCounts(reasoning=i + 1, answer=0, t=1.0 + i / 100))


def _finish(msg: AssistantMessage, answer: str = " The answer.") -> None:
    msg.apply(ev.BlockEnd(t=9.0, marker="</think>"))
    msg.apply(ev.AnswerDelta(text=answer))
    msg.apply(ev.TurnFinished(t=9.5, finish_reason="stop"))


def _chunks(store, uid):
    return store.db.conn.execute("SELECT part, text, in_raw, times IS NOT NULL FROM stream_chunks "
                                 "WHERE message = ? ORDER BY id", (uid,)).fetchall()


def test_each_partial_save_appends_only_the_new_text_and_times(store):
    msg, tracker = _start(store), StreamTracker()
    _reason(msg, range(0, 5))
    first = tracker.delta(msg)
    assert first.reset and [(p.part, p.text) for p in first.pieces] == [(MARKUP, "<think>"),
                                                                         (0, " r0 r1 r2 r3 r4")]
    store.save_stream(CONV, 1, first)
    _reason(msg, range(5, 8))
    second = tracker.delta(msg)
    assert not second.reset and [(p.part, p.text) for p in second.pieces] == [(0, " r5 r6 r7")]
    assert second.times == msg.stats.token_times[5:] and list(second.blocks) == [0]  # its token count grew
    store.save_stream(CONV, 1, second)
    assert _chunks(store, msg.uid) == [(-1, "<think>", 1, 0), (0, " r0 r1 r2 r3 r4", 1, 1), (0, " r5 r6 r7", 1, 1)]
    row = store.db.conn.execute("SELECT text, raw, token_times, partial FROM messages WHERE uid = ?",
                                (msg.uid,)).fetchone()
    assert row == ("", "", None, 1)  # nothing of the text is in the row while it streams
    assert store.db.conn.execute("SELECT text FROM reasoning_blocks WHERE message = ?", (msg.uid,)).fetchone() == ("",)
    back = store.load_conversation(CONV).messages[1]
    assert back == msg  # text, raw output, token times and block counts, rebuilt from the chunks


def test_the_search_index_sees_a_message_once_when_it_is_final(store):
    msg, tracker = _start(store), StreamTracker()
    _reason(msg, range(40))
    store.save_stream(CONV, 1, tracker.delta(msg))
    _reason(msg, range(40, 80))
    store.save_stream(CONV, 1, tracker.delta(msg))
    assert store.search("r42", include_reasoning=True) == []  # partial text is not indexed
    _finish(msg, " Quasars shine.")
    store.save_message(CONV, 1, msg, partial=False)
    assert [h.kind for h in store.search("r42", include_reasoning=True)] == ["reasoning"]
    assert [h.message_uid for h in store.search("quasars")] == [msg.uid]
    assert _chunks(store, msg.uid) == []
    raw, layout = store.db.conn.execute("SELECT raw, raw_layout FROM messages WHERE uid = ?", (msg.uid,)).fetchone()
    assert raw == "" and json.loads(layout) == ["<think>", [0, len(msg.parts[0].text)], "</think>",
                                                [1, len(" Quasars shine.")]]
    back = store.load_conversation(CONV).messages[1]
    assert back == msg and back.raw == msg.raw
    assert store.integrity_check() == "ok"
    store.db.conn.execute("INSERT INTO reasoning_fts(reasoning_fts) VALUES ('integrity-check')")
    store.db.conn.execute("INSERT INTO message_fts(message_fts) VALUES ('integrity-check')")


def test_a_change_that_is_not_an_append_resets_the_stream(store):
    msg, tracker = _start(store), StreamTracker()
    _reason(msg, range(10))
    store.save_stream(CONV, 1, tracker.delta(msg))
    msg.parts.insert(0, ReasoningBlock(start=0.5, end=0.5, hidden_tokens=3, redacted=True))
    msg.parts[1].text = "rewritten thoughts"
    delta = tracker.delta(msg)
    assert delta.reset and delta.n_blocks == 2
    store.save_stream(CONV, 1, delta)
    assert store.load_conversation(CONV).messages[1] == msg
    _reason(msg, range(10, 12))
    later = tracker.delta(msg)
    assert not later.reset and [p.text for p in later.pieces] == [" r10 r11"]
    store.save_stream(CONV, 1, later)
    assert store.load_conversation(CONV).messages[1] == msg


def test_text_missing_from_the_raw_output_is_kept_apart(store):
    msg = AssistantMessage(model_id="m", parts=[AnswerPart("no raw for this")])  # built, not streamed
    tracker = StreamTracker()
    store.save_message(CONV, 0, UserMessage("Hi"), partial=False)
    store.save_stream(CONV, 1, tracker.delta(msg))
    msg.parts[0].text_buffer.append(" and more")
    store.save_stream(CONV, 1, tracker.delta(msg))
    assert _chunks(store, msg.uid) == [(0, "no raw for this", 0, 0), (0, " and more", 0, 0)]
    back = store.load_conversation(CONV).messages[1]
    assert back == msg and back.raw == ""


@pytest.mark.parametrize(("raw", "texts"), [
    ("<think>abc</think>def", ["abc", "def"]),
    ("abc", ["abc"]),
    ("<think>\n\n</think>\n\nanswer", ["\n\n", "answer"]),
    ("x<m>x</m>x", ["x", "x", "x"]),
    ("", ["", ""]),
])
def test_raw_layout_rebuilds_the_raw_output(raw, texts):
    layout = raw_layout(raw, texts)
    assert layout is not None and rebuild_raw(layout, texts) == raw
    assert sum(len(item) for item in layout if isinstance(item, str)) == len(raw) - sum(map(len, texts))


def test_raw_output_that_is_not_the_parts_is_stored_as_it_is(store):
    msg = AssistantMessage(model_id="m", raw="<tool>call</tool>", parts=[AnswerPart("The result.")],
                           finish_reason="stop")
    assert raw_layout(msg.raw, ["The result."]) is None
    store.save_message(CONV, 0, UserMessage("Hi"), partial=False)
    store.save_message(CONV, 1, msg, partial=False)
    assert store.db.conn.execute("SELECT raw, raw_layout FROM messages WHERE uid = ?",
                                 (msg.uid,)).fetchone() == ("<tool>call</tool>", None)
    assert store.load_conversation(CONV).messages[1].raw == msg.raw


def test_a_streamed_message_left_partial_is_written_whole_at_the_next_start(store):
    msg, tracker = _start(store), StreamTracker()
    _reason(msg, range(30))
    store.save_stream(CONV, 1, tracker.delta(msg))
    _reason(msg, range(30, 50))
    store.save_stream(CONV, 1, tracker.delta(msg))
    store.close()
    reopened, notice = open_store()
    assert notice is None
    back = reopened.load_conversation(CONV).messages[1]
    assert back.finish_reason == INTERRUPTED and back.blocks[0].text == msg.blocks[0].text
    assert back.stats.token_times == msg.stats.token_times and back.raw == msg.raw
    assert _chunks(reopened, msg.uid) == []
    assert [h.message_uid for h in reopened.search("r33", include_reasoning=True)] == [msg.uid]
    assert reopened.integrity_check() == "ok"
    reopened.close()


def _wal_pages(path) -> int:
    wal = path.with_name(path.name + "-wal")
    return (os.path.getsize(wal) - 32) // (24 + 4096) if wal.exists() else 0


def test_a_partial_save_costs_the_same_late_in_a_long_trace(store):
    """Pages written and CPU per save near 1k and near 30k tokens (the goal, 1.1x, is ``ponder bench store-cost``)."""
    msg, tracker = _start(store), StreamTracker()
    pages: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for start in range(0, 30_000, 16):
        _reason(msg, range(start, start + 16))
        delta = tracker.delta(msg)
        store.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the WAL then holds what this save wrote
        t0 = time.thread_time()
        store.save_stream(CONV, 1, delta)
        cpu[start + 16] = time.thread_time() - t0
        pages[start + 16] = _wal_pages(store.path)
    early = [n for n in pages if 1_000 < n <= 2_000]
    late = [n for n in pages if 29_000 < n <= 30_000]
    assert statistics.mean(pages[n] for n in late) <= 1.5 * statistics.mean(pages[n] for n in early)
    assert statistics.median(cpu[n] for n in late) <= 3 * statistics.median(cpu[n] for n in early)
    assert store.load_conversation(CONV).messages[1] == msg
