"""The SQLite schema of the conversation database, as a list of migrations.

``MIGRATIONS[i]`` takes a database from version ``i`` to ``i + 1`` (``PRAGMA user_version``);
version 1 is the first schema Ponder shipped. Add a step at the end to change the schema;
never edit a step that has shipped.

Tables (version 5):

- ``conversations``: uid, title, created, updated (unix seconds).
- ``messages``: one row per message *version*. ``parent`` is the uid of the previous message
  of the thread (NULL for the first); messages with the same parent are siblings (the
  versions made by regenerating an answer or editing a user message), numbered by
  ``version``; exactly one sibling is ``active`` and the shown thread follows the active
  ones. ``text`` is the user's text or the assistant's answer (all answer runs joined);
  ``layout`` is the order of the parts, a JSON list where ``"r"`` stands for the next
  reasoning block and an integer for an answer run of that many characters. ``stats`` is
  :class:`~app.domain.messages.TurnStats` as JSON without ``token_times``, which is a BLOB
  of float64 (little-endian). ``partial`` is 1 while the message is being streamed;
  ``interrupted`` is set at the next start when the process died meanwhile.
- ``reasoning_blocks``: the blocks of a message by ``idx`` with their timings, token counts,
  provider signature / redacted payload and the panel's ``expanded`` state (NULL: default).
- ``message_fts`` / ``reasoning_fts`` (version 2): FTS5 indexes over ``messages.text`` and
  ``reasoning_blocks.text`` (external content, kept in step by triggers).
- ``messages.extra`` (version 3): small per-message details as JSON (the notes on how a
  retried prompt was made to fit, the context overflow a message reported).
- ``stream_chunks`` and ``messages.raw_layout`` (version 4): what makes a partial save cost
  the same at 30,000 tokens as at 1,000 (see :mod:`app.store.stream`).

  While a message is ``partial`` its row and its blocks' rows hold everything but their text:
  ``text`` is '', ``token_times`` NULL, and each save appends ``stream_chunks`` rows instead —
  ``(part, text, in_raw, times)`` in ``id`` order: ``part`` is the index of the part the text
  belongs to (-1: only in the raw output, e.g. a marker), ``in_raw`` whether it is part of
  the raw output too, ``times`` the token arrival times that came with it. So nothing is
  rewritten, and the search index (whose triggers follow ``text``) sees a message once, when
  its final save (or the next start, for a message whose process died) writes the whole
  text into the rows and deletes its chunks. A message is searchable once it is finished.

  ``raw_layout`` is the raw output as a JSON list over the parts' texts (see
  :mod:`app.store.rows`), so the text is not stored twice; ``raw`` then is ''. NULL means
  ``raw`` holds the raw output itself (rows written before version 4, or output that is
  not the parts' text with markup between).
- ``tool_calls`` (version 5): the tool calls of a message by ``idx`` (their order among its
  calls); the ``layout`` says where each goes among the parts (``"t"``). A row holds the call
  as the model wrote it (``name``, ``arguments`` as JSON, ``raw``, ``in_reasoning``,
  ``call_error``), what happened to it (``state``, ``round``, ``reach``, ``approved``,
  ``t_start``, ``t_end``) and its result (``result_text`` NULL until it
  finished; ``result_error``, ``duration_s``, ``truncated_from``). A streaming save writes a
  row only when the call changed. ``reasoning_blocks.paused_for_call`` and ``.mentions``
  (JSON ``[[offset, tool], ...]``) say where the thinking stopped for a call and which calls
  it only mentioned; ``messages.provider_state`` is what a cloud provider needs back in a tool
  loop, the backend's own JSON by backend name (NULL: none), written when it changed.
"""

from __future__ import annotations

import sqlite3

V1 = """
CREATE TABLE conversations (
    uid TEXT PRIMARY KEY,
    title TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    updated REAL NOT NULL
);

CREATE TABLE messages (
    id INTEGER PRIMARY KEY,  -- explicit, so VACUUM keeps it (the FTS index refers to it)
    uid TEXT NOT NULL UNIQUE,
    conversation TEXT NOT NULL REFERENCES conversations(uid) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    parent TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    active INTEGER NOT NULL DEFAULT 1,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    text TEXT NOT NULL DEFAULT '',
    layout TEXT NOT NULL DEFAULT '[]',
    model_id TEXT NOT NULL DEFAULT '',
    location TEXT NOT NULL DEFAULT '',
    raw TEXT NOT NULL DEFAULT '',
    finish_reason TEXT,
    error TEXT,
    stats TEXT NOT NULL DEFAULT '{}',
    token_times BLOB,
    partial INTEGER NOT NULL DEFAULT 0,
    interrupted INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    updated REAL NOT NULL
);

CREATE TABLE reasoning_blocks (
    id INTEGER PRIMARY KEY,
    message TEXT NOT NULL REFERENCES messages(uid) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    text TEXT NOT NULL DEFAULT '',
    t_start REAL NOT NULL DEFAULT 0,
    t_end REAL,
    tokens INTEGER NOT NULL DEFAULT 0,
    truncated INTEGER NOT NULL DEFAULT 0,
    budget_cut INTEGER NOT NULL DEFAULT 0,
    hidden_tokens INTEGER NOT NULL DEFAULT 0,
    redacted INTEGER NOT NULL DEFAULT 0,
    signature TEXT NOT NULL DEFAULT '',
    redacted_data TEXT NOT NULL DEFAULT '',
    expanded INTEGER,
    UNIQUE (message, idx)
);
"""

_TOKENIZE = "tokenize = 'unicode61 remove_diacritics 2'"

V2 = f"""
CREATE INDEX messages_by_conversation ON messages(conversation, position);
CREATE INDEX messages_by_parent ON messages(parent);
CREATE INDEX conversations_by_updated ON conversations(updated);

CREATE VIRTUAL TABLE message_fts USING fts5(
    text, content = 'messages', content_rowid = 'id', {_TOKENIZE}
);
CREATE TRIGGER message_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO message_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER message_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO message_fts(message_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER message_fts_update AFTER UPDATE OF text ON messages WHEN old.text IS NOT new.text BEGIN
    INSERT INTO message_fts(message_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO message_fts(rowid, text) VALUES (new.id, new.text);
END;

CREATE VIRTUAL TABLE reasoning_fts USING fts5(
    text, content = 'reasoning_blocks', content_rowid = 'id', {_TOKENIZE}
);
CREATE TRIGGER reasoning_fts_insert AFTER INSERT ON reasoning_blocks BEGIN
    INSERT INTO reasoning_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER reasoning_fts_delete AFTER DELETE ON reasoning_blocks BEGIN
    INSERT INTO reasoning_fts(reasoning_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER reasoning_fts_update AFTER UPDATE OF text ON reasoning_blocks
WHEN old.text IS NOT new.text BEGIN
    INSERT INTO reasoning_fts(reasoning_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO reasoning_fts(rowid, text) VALUES (new.id, new.text);
END;

INSERT INTO message_fts(message_fts) VALUES ('rebuild');
INSERT INTO reasoning_fts(reasoning_fts) VALUES ('rebuild');
"""

V3 = """
ALTER TABLE messages ADD COLUMN extra TEXT NOT NULL DEFAULT '{}';
"""

V4 = """
ALTER TABLE messages ADD COLUMN raw_layout TEXT;

CREATE TABLE stream_chunks (
    id INTEGER PRIMARY KEY,
    message TEXT NOT NULL REFERENCES messages(uid) ON DELETE CASCADE,
    part INTEGER NOT NULL,
    in_raw INTEGER NOT NULL DEFAULT 1,
    text TEXT NOT NULL DEFAULT '',
    times BLOB
);
CREATE INDEX stream_chunks_by_message ON stream_chunks(message, id);
"""

V5 = """
CREATE TABLE tool_calls (
    id INTEGER PRIMARY KEY,
    message TEXT NOT NULL REFERENCES messages(uid) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    call_id TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL DEFAULT '',
    arguments TEXT NOT NULL DEFAULT '{}',
    raw TEXT NOT NULL DEFAULT '',
    in_reasoning INTEGER NOT NULL DEFAULT 0,
    call_error TEXT,
    state TEXT NOT NULL DEFAULT 'writing',
    round INTEGER NOT NULL DEFAULT 1,
    reach TEXT NOT NULL DEFAULT '',
    approved INTEGER,
    t_start REAL,
    t_end REAL,
    result_text TEXT,
    result_error INTEGER NOT NULL DEFAULT 0,
    duration_s REAL NOT NULL DEFAULT 0,
    truncated_from INTEGER,
    UNIQUE (message, idx)
);

ALTER TABLE reasoning_blocks ADD COLUMN paused_for_call INTEGER NOT NULL DEFAULT 0;
ALTER TABLE reasoning_blocks ADD COLUMN mentions TEXT NOT NULL DEFAULT '[]';
ALTER TABLE messages ADD COLUMN provider_state TEXT;
"""

MIGRATIONS: list[str] = [V1, V2, V3, V4, V5]
"""``MIGRATIONS[i]`` upgrades a database from version ``i`` to ``i + 1``."""

SCHEMA_VERSION = len(MIGRATIONS)


def statements(script: str) -> list[str]:
    """Split a script into complete statements (trigger bodies keep their semicolons).

    Needed because ``executescript`` commits first, and a migration must run inside one
    transaction together with its ``PRAGMA user_version``.
    """
    out: list[str] = []
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out
