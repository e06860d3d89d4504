"""Conversations through the SQLite store and back: every field, parts order, panel states."""

import sqlite3

import pytest

from app import paths
from app.domain.messages import AnswerPart, AssistantMessage, ReasoningBlock, UserMessage
from app.store.conversations import INTERRUPTED, open_store
from app.store.db import ConversationNotFound, StoreError
from app.store.schema import SCHEMA_VERSION


def test_file_is_in_the_data_folder_with_wal_and_foreign_keys(store):
    assert store.path == paths.data_dir() / "ponder.sqlite3" and store.path.exists()
    conn = store.db.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5


def test_round_trip_keeps_every_field_parts_order_and_panel_states(store, make_conversation):
    conv = make_conversation()
    store.save_conversation(conv)
    store.close()
    reopened, _ = open_store()
    back = reopened.load_conversation(conv.uid)
    assert back == conv  # dataclass equality: all fields, parts in order, stats incl. token_times
    first = back.messages[1]
    assert [type(p).__name__ for p in first.parts] == ["ReasoningBlock", "AnswerPart", "ReasoningBlock",
                                                       "AnswerPart", "ReasoningBlock"]
    assert [b.expanded for b in first.blocks] == [True, False, None]
    assert first.blocks[0].signature == "sig-abc123" and first.blocks[2].redacted_data == "b3BhcXVl"
    assert first.notes == ["Continued with a larger token limit (2,048)."] and first.overflow.drop_turns == 1
    assert first.answer == "There are 3 r's." and first.stats.tokens_per_s == conv.messages[1].stats.tokens_per_s
    reopened.close()


def test_round_trip_into_the_view_restores_panel_states(qtbot, store, make_conversation):
    from app.ui.chat_view import ChatView

    conv = make_conversation()
    store.save_conversation(conv)
    back = store.load_conversation(conv.uid)
    view = ChatView()
    qtbot.addWidget(view)
    view.panel_default = "auto"  # finished blocks would start collapsed: the stored choice must win
    for msg in back.messages:
        view.add_message(msg)
        if isinstance(msg, AssistantMessage):
            view.update_message(msg)
    widget = view.widget_for(back.messages[1])
    assert [p.expanded for p in widget.panels] == [True, False, False]
    assert widget.answer_text().replace("\n", "") == "There are 3 r's."


def test_list_is_newest_first_and_rename_and_delete(store, make_conversation):
    a, b = make_conversation(), make_conversation()
    b.title = "Second"
    store.save_conversation(a)
    store.save_conversation(b)
    assert [c.uid for c in store.list_conversations()] == [b.uid, a.uid]
    store.save_message(a.uid, 4, UserMessage("one more"), partial=False)  # a is now the newest
    assert [c.uid for c in store.list_conversations()] == [a.uid, b.uid]
    store.rename(b.uid, "Renamed")
    assert store.load_conversation(b.uid).title == "Renamed"
    store.delete(a.uid)
    assert [c.title for c in store.list_conversations()] == ["Renamed"]
    conn = store.db.conn
    assert conn.execute("SELECT count(*) FROM messages WHERE conversation = ?", (a.uid,)).fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM reasoning_blocks").fetchone()[0] == 3  # b's only
    with pytest.raises(ConversationNotFound):
        store.load_conversation(a.uid)
    with pytest.raises(ConversationNotFound, match="rename"):
        store.rename(a.uid, "x")


def test_streaming_updates_rewrite_one_message(store):
    conv_uid = "c1"
    user = UserMessage("Think twice.")
    msg = AssistantMessage(model_id="m")
    store.save_message(conv_uid, 0, user, partial=False, title="Think twice.")
    msg.parts = [ReasoningBlock("first draft", start=1.0), ReasoningBlock("second", start=2.0)]
    store.save_message(conv_uid, 1, msg, partial=True)
    msg.parts = [ReasoningBlock("first thought, longer now", start=1.0, end=1.5), AnswerPart("Done.")]
    msg.finish_reason = "stop"
    store.save_message(conv_uid, 1, msg, partial=False)
    back = store.load_conversation(conv_uid)
    assert back.title == "Think twice." and back.messages == [user, msg]
    rows = store.db.conn.execute("SELECT partial, version, active FROM messages WHERE uid = ?", (msg.uid,)).fetchall()
    assert rows == [(0, 1, 1)]
    assert store.db.conn.execute("SELECT count(*) FROM reasoning_blocks").fetchone()[0] == 1
    assert store.search("draft", include_reasoning=True) == []  # the index follows the rewrite
    assert len(store.search("longer", include_reasoning=True)) == 1


def test_regenerate_makes_switchable_versions(store, make_conversation):
    conv = make_conversation()
    store.save_conversation(conv)
    old = conv.messages[3]
    new = AssistantMessage(model_id="deepseek-reasoner", where="cloud", finish_reason="stop",
                           parts=[AnswerPart("Glad to help.")])
    store.save_message(conv.uid, 3, new, partial=False)  # parent: the active message at position 2
    versions = store.versions_of(old.uid)
    assert [(v.uid, v.version, v.active) for v in versions] == [(old.uid, 1, False), (new.uid, 2, True)]
    assert versions[1].model_id == "deepseek-reasoner" and versions[1].preview == "Glad to help."
    assert store.load_conversation(conv.uid).messages[3] == new
    store.set_active_version(old.uid)
    assert store.load_conversation(conv.uid).messages[3] == old
    assert len(store.load_conversation(conv.uid).messages) == 4


def test_editing_a_user_message_branches_and_keeps_the_old_branch(store, make_conversation):
    conv = make_conversation()
    store.save_conversation(conv)
    old_thread = list(conv.messages)
    edited = UserMessage("How many r's are in 'raspberry'?")
    answer = AssistantMessage(finish_reason="stop", parts=[AnswerPart("Three.")])
    store.save_message(conv.uid, 0, edited, partial=False)
    store.save_message(conv.uid, 1, answer, partial=False)
    assert store.load_conversation(conv.uid).messages == [edited, answer]
    versions = store.versions_of(edited.uid)
    assert [v.uid for v in versions] == [old_thread[0].uid, edited.uid] and versions[1].active
    store.set_active_version(old_thread[0].uid)  # the old branch, with everything after it
    assert store.load_conversation(conv.uid).messages == old_thread
    store.set_active_version(edited.uid)
    assert store.load_conversation(conv.uid).messages == [edited, answer]


def test_partial_messages_are_marked_interrupted_on_next_start(store):
    conv_uid = "c2"
    store.save_message(conv_uid, 0, UserMessage("Go"), partial=False, title="Go")
    msg = AssistantMessage(model_id="m", parts=[ReasoningBlock("halfway th", start=5.0)])
    msg.stats.t_start = 4.0
    msg.stats.token_times = [5.0, 5.5, 6.25]
    store.save_message(conv_uid, 1, msg, partial=True)
    store.close()
    reopened, notice = open_store()
    assert notice is None
    back = reopened.load_conversation(conv_uid).messages[1]
    assert back.finish_reason == INTERRUPTED and back.finished
    assert back.blocks[0].end == 6.25 and back.blocks[0].truncated  # closed where the last token came
    row = reopened.db.conn.execute("SELECT partial, interrupted FROM messages WHERE uid = ?", (msg.uid,)).fetchone()
    assert row == (0, 1)
    assert reopened.mark_interrupted_on_startup() == 0
    reopened.close()


def test_sqlite_failures_are_store_errors_with_actionable_text(store, make_conversation):
    store.db.conn.execute("PRAGMA query_only = ON")
    with pytest.raises(StoreError, match="read-only. Make it and its folder writable"):
        store.save_conversation(make_conversation())
    store.db.conn.execute("PRAGMA query_only = OFF")
    store.save_conversation(make_conversation())  # the failed transaction was rolled back
    with pytest.raises(StoreError, match="no message at position 6"):
        store.save_message("c3", 7, UserMessage("x"), partial=False)


def test_a_message_cannot_move_to_another_conversation(store, make_conversation):
    conv = make_conversation()
    store.save_conversation(conv)
    with pytest.raises(StoreError, match="another conversation"):
        store.save_message("other", 0, conv.messages[0], partial=False)
    assert isinstance(StoreError("x"), Exception) and not isinstance(StoreError("x"), sqlite3.Error)
