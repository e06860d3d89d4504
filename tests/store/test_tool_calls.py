"""Tool calls in the store: saved with their message, streamed as they change, back in order on reopening."""

import json
import sqlite3

from app import paths
from app.domain import events as ev
from app.domain.conversation import Conversation
from app.domain.messages import AnswerPart, AssistantMessage, ReasoningBlock, ToolCallPart, UserMessage
from app.store.conversations import INTERRUPTED, open_store
from app.store.db import migrate
from app.store.stream import StreamTracker
from helpers import tool_turns as tt

CONV = "c-tools"


def _tool_conversation(events=tt.WHOLE) -> Conversation:
    conv = Conversation(title="Tools", uid=CONV)
    conv.add_user("What is 6*7, and what is in /?")
    msg = conv.add_assistant("m")
    tt.apply(msg, events)
    msg.apply(ev.ProviderState("anthropic", [{"type": "thinking", "thinking": "x", "signature": "sig"}]))
    return conv


def test_a_tool_turn_comes_back_whole_and_in_order(store):
    conv = _tool_conversation()
    store.save_conversation(conv)
    back = store.load_conversation(CONV).messages[1]
    msg = conv.messages[1]
    assert [type(p) for p in back.parts] == [ReasoningBlock, ToolCallPart, ReasoningBlock, ToolCallPart,
                                            ReasoningBlock, ToolCallPart, ReasoningBlock, AnswerPart]
    assert back == msg  # every field: calls, edited arguments, results, states, rounds, times, result tokens
    calc, denied, ran = back.tool_calls
    assert calc.result.text == "42" and calc.round == 1 and back.result_tokens(calc) == msg.result_tokens(msg.tool_calls[0]) == 9
    assert back.stats.round_tokens == {1: 9, 2: 11, 3: 21}  # int rounds again, though JSON keys are text
    assert denied.state == "denied" and denied.approved is False and denied.reach == tt.REACH
    assert ran.call.arguments == {"code": "print(sum(range(11)))"}  # as the user edited it before Run
    assert back.blocks[0].paused_for_call and back.blocks[0].mentions == msg.blocks[0].mentions != []
    assert back.provider_state == {"anthropic": [{"type": "thinking", "thinking": "x", "signature": "sig"}]}
    assert back.calls == msg.calls and back.stats.tool_result_tokens == msg.stats.tool_result_tokens > 0


def test_streaming_saves_write_a_call_only_when_it_changed(store):
    conv = Conversation(title="Tools", uid=CONV)
    store.save_message(CONV, 0, conv.add_user("Go"), partial=False, title="Tools")
    msg = conv.add_assistant("m")
    tracker = StreamTracker()
    tt.apply(msg, tt.START + tt.ROUND_1[:7])  # the calculator call is open (writing)
    first = tracker.delta(msg)
    assert first.reset and list(first.tools) == [0] and first.tools[0]["state"] == "writing"
    store.save_stream(CONV, 1, first)
    tt.apply(msg, [ev.ReasoningDelta("")])  # nothing of the call changed
    assert tracker.delta(msg).tools == {}
    tt.apply(msg, tt.ROUND_1[7:11])  # parsed, running, finished
    second = tracker.delta(msg)
    assert list(second.tools) == [0] and second.tools[0]["result_text"] == "42"
    store.save_stream(CONV, 1, second)
    tt.apply(msg, tt.ROUND_1[11:])  # the thought goes on after the result
    third = tracker.delta(msg)
    assert third.tools == {} and json.loads(third.row["stats"])["round_tokens"] == {"1": 9}
    store.save_stream(CONV, 1, third)
    tt.apply(msg, tt.ROUND_2[:4])  # python waits for approval
    fourth = tracker.delta(msg)
    assert list(fourth.tools) == [1] and fourth.tools[1]["state"] == "awaiting-approval"  # the calculator's row is left alone
    store.save_stream(CONV, 1, fourth)
    back = store.load_conversation(CONV).messages[1]
    assert back == msg and [p.state for p in back.tool_calls] == ["done", "awaiting-approval"]
    rows = store.db.conn.execute("SELECT idx, name, state FROM tool_calls WHERE message = ? ORDER BY idx",
                                 (msg.uid,)).fetchall()
    assert rows == [(0, "calculator", "done"), (1, "python", "awaiting-approval")]


def test_the_provider_state_is_written_when_it_changed_only(store):
    msg = AssistantMessage(model_id="m")
    tracker = StreamTracker()
    tt.apply(msg, tt.START)
    assert tracker.delta(msg).row["provider_state"] is None  # the first (reset) delta sets the column
    msg.apply(ev.AnswerDelta("a"))
    assert "provider_state" not in tracker.delta(msg).row
    msg.apply(ev.ProviderState("gemini", {"thoughtSignature": "abc"}))
    assert json.loads(tracker.delta(msg).row["provider_state"]) == {"gemini": {"thoughtSignature": "abc"}}
    msg.apply(ev.AnswerDelta("b"))
    assert "provider_state" not in tracker.delta(msg).row


def test_deltas_that_queued_up_keep_a_provider_state_the_later_one_did_not_carry(store):
    msg = AssistantMessage(model_id="m")
    tracker = StreamTracker()
    tt.apply(msg, tt.START)
    tracker.delta(msg)
    msg.apply(ev.ProviderState("gemini", {"thoughtSignature": "abc"}))
    first = tracker.delta(msg)
    msg.apply(ev.AnswerDelta("b"))
    merged = first.then(tracker.delta(msg))
    assert json.loads(merged.row["provider_state"]) == {"gemini": {"thoughtSignature": "abc"}}


def test_a_message_that_died_while_a_tool_ran_is_reopened_with_its_cards(store):
    conv = Conversation(title="Tools", uid=CONV)
    store.save_message(CONV, 0, conv.add_user("Go"), partial=False, title="Tools")
    msg = conv.add_assistant("m")
    tt.apply(msg, tt.START + tt.ROUND_1[:10])  # the calculator is running
    store.save_stream(CONV, 1, StreamTracker().delta(msg))
    store.close()
    again, _ = open_store()  # the next start marks it interrupted
    back = again.load_conversation(CONV).messages[1]
    assert back.finish_reason == INTERRUPTED
    assert [(p.call.name, p.state) for p in back.tool_calls] == [("calculator", "running")]
    assert again.db.conn.execute("SELECT count(*) FROM stream_chunks").fetchone()[0] == 0
    again.close()


def test_a_version_4_database_gets_the_tool_tables_and_keeps_its_data():
    path = paths.data_dir() / "ponder.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, target=4) == 4
    conn.execute("INSERT INTO conversations VALUES ('c1', 'Old chat', 1.0, 2.0)")
    conn.execute("INSERT INTO messages (uid, conversation, position, role, text, created, updated) "
                 "VALUES ('u1', 'c1', 0, 'user', 'Hi', 1.0, 1.0)")
    conn.execute("INSERT INTO messages (uid, conversation, position, parent, role, text, layout, finish_reason, "
                 "created, updated) VALUES ('a1', 'c1', 1, 'u1', 'assistant', 'Hello.', '[\"r\", 6]', 'stop', 2.0, 2.0)")
    conn.execute("INSERT INTO reasoning_blocks (message, idx, text, t_start, t_end, tokens) "
                 "VALUES ('a1', 0, 'Greet back.', 1.5, 1.9, 3)")
    conn.close()
    store, notice = open_store()
    assert notice is None and store.db.user_version() == 5
    _user, answer = store.load_conversation("c1").messages
    assert answer.answer == "Hello." and answer.blocks[0].text == "Greet back."
    assert answer.tool_calls == [] and answer.provider_state == {} and answer.blocks[0].mentions == []
    conv = _tool_conversation()
    store.save_conversation(conv)
    assert store.load_conversation(CONV).messages[1] == conv.messages[1]
    assert store.integrity_check() == "ok"
    store.close()


def test_deleting_a_conversation_deletes_its_tool_calls(store):
    store.save_conversation(_tool_conversation())
    store.delete(CONV)
    assert store.db.conn.execute("SELECT count(*) FROM tool_calls").fetchone()[0] == 0


def test_a_regenerated_answer_without_tools_drops_no_other_versions_calls(store):
    conv = _tool_conversation()
    store.save_conversation(conv)
    plain = AssistantMessage(model_id="m", finish_reason="stop", parts=[AnswerPart("42.")])
    store.save_message(CONV, 1, plain, partial=False)  # a new version of the answer
    assert store.load_conversation(CONV).messages[1] == plain
    store.set_active_version(conv.messages[1].uid)
    assert store.load_conversation(CONV).messages[1].tool_calls == conv.messages[1].tool_calls


def test_user_messages_are_unaffected(store):
    store.save_message(CONV, 0, UserMessage("plain"), partial=False)
    assert store.load_conversation(CONV).messages[0].text == "plain"
