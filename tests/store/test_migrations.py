"""Databases made with older schema versions are upgraded on open, their data intact and searchable."""

import json
import sqlite3
import struct

from app import paths
from app.domain.messages import UserMessage
from app.store.conversations import INTERRUPTED, open_store
from app.store.db import migrate
from app.store.schema import SCHEMA_VERSION


def _make_v1(path):
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, target=1) == 1
    conn.execute("INSERT INTO conversations VALUES ('c1', 'Old chat', 1.0, 2.0)")
    conn.execute("INSERT INTO messages (uid, conversation, position, role, text, created, updated) "
                 "VALUES ('u1', 'c1', 0, 'user', 'What is a quasar?', 1.0, 1.0)")
    conn.execute("INSERT INTO messages (uid, conversation, position, parent, role, text, layout, model_id, location, "
                 "finish_reason, stats, created, updated) VALUES ('a1', 'c1', 1, 'u1', 'assistant', "
                 "'A very bright galactic nucleus.', '[\"r\", 31]', 'm1', 'local', 'stop', "
                 "'{\"answer_tokens\": 6}', 2.0, 2.0)")
    conn.execute("INSERT INTO reasoning_blocks (message, idx, text, t_start, t_end, tokens, expanded) "
                 "VALUES ('a1', 0, 'Recall accretion disks.', 1.5, 1.9, 4, 1)")
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "message_fts" not in tables  # version 1 has no search index
    conn.close()


def test_version_1_is_upgraded_with_data_intact():
    path = paths.data_dir() / "ponder.sqlite3"
    _make_v1(path)
    store, notice = open_store()
    assert notice is None
    conn = store.db.conn
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
    conv = store.load_conversation("c1")
    assert conv.title == "Old chat"
    user, answer = conv.messages
    assert user.text == "What is a quasar?"
    assert answer.blocks[0].text == "Recall accretion disks." and answer.blocks[0].expanded is True
    assert answer.answer == "A very bright galactic nucleus." and answer.stats.answer_tokens == 6
    assert answer.notes == [] and answer.overflow is None  # v3's column got its default
    # the v2 index was built from the old rows
    assert [h.message_uid for h in store.search("quasar")] == ["u1"]
    assert [h.kind for h in store.search("accretion", include_reasoning=True)] == ["reasoning"]
    assert store.integrity_check() == "ok"
    store.close()


def test_a_newer_schema_is_left_alone_with_a_notice():
    path = paths.data_dir() / "ponder.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE future (x)")
    conn.execute("INSERT INTO future VALUES (42)")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    store, notice = open_store()
    assert "newer version of Ponder" in notice and "will not be saved" in notice
    assert store.path is None  # an in-memory session store
    store.save_message("c", 0, UserMessage("hi"), partial=False)
    store.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 5
    assert conn.execute("SELECT x FROM future").fetchall() == [(42,)]
    assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 1  # nothing of ours added
    conn.close()
    assert not list(path.parent.glob("*.corrupt-*"))


def test_version_3_is_upgraded_without_loss_including_a_message_left_partial():
    path = paths.data_dir() / "ponder.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, target=3) == 3
    times = struct.pack("<3d", 5.0, 5.5, 6.25)
    conn.execute("INSERT INTO conversations VALUES ('c1', 'Old chat', 1.0, 2.0)")
    conn.execute("INSERT INTO messages (uid, conversation, position, role, text, created, updated) "
                 "VALUES ('u1', 'c1', 0, 'user', 'Explain pulsars.', 1.0, 1.0)")
    for uid, parent, position, text, partial, finish in (("a1", "u1", 1, "Spinning neutron stars.", 0, "'stop'"),
                                                          ("u2", "a1", 2, None, 0, None),
                                                          ("a2", "u2", 3, "Their beams sweep", 1, "NULL")):
        if text is None:
            conn.execute("INSERT INTO messages (uid, conversation, position, parent, role, text, created, updated) "
                         f"VALUES ('{uid}', 'c1', {position}, '{parent}', 'user', 'And magnetars?', 2.0, 2.0)")
            continue
        conn.execute("INSERT INTO messages (uid, conversation, position, parent, role, text, layout, raw, "
                     f"finish_reason, token_times, partial, created, updated) VALUES ('{uid}', 'c1', {position}, "
                     f"'{parent}', 'assistant', ?, ?, ?, {finish}, ?, {partial}, 2.0, 2.0)",
                     (text, json.dumps(["r", len(text)]), f"<think>hmm</think>{text}", times))
        conn.execute("INSERT INTO reasoning_blocks (message, idx, text, t_start, t_end, tokens) "
                     f"VALUES ('{uid}', 0, 'hmm', 4.0, {'4.5' if not partial else 'NULL'}, 1)")
    conn.close()

    store, notice = open_store()  # upgrades, then marks the partial message interrupted
    assert notice is None and store.db.user_version() == SCHEMA_VERSION == 5
    _user, done, _user2, cut = store.load_conversation("c1").messages
    assert done.answer == "Spinning neutron stars." and done.raw == "<think>hmm</think>Spinning neutron stars."
    assert done.stats.token_times == [5.0, 5.5, 6.25] and done.blocks[0].end == 4.5
    assert cut.answer == "Their beams sweep" and cut.finish_reason == INTERRUPTED
    assert cut.raw == "<think>hmm</think>Their beams sweep" and cut.stats.token_times == [5.0, 5.5, 6.25]
    assert [h.message_uid for h in store.search("beams")] == ["a2"]
    assert [h.message_uid for h in store.search("neutron")] == ["a1"]
    assert store.integrity_check() == "ok"
    store.close()
