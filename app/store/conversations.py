"""The conversation store: domain conversations in and out of SQLite (no Qt).

A :class:`Store` is one connection; it may be used from any one thread at a time (it holds
a lock). The persistence controller writes through its own :meth:`Store.clone` on a writer
thread while the GUI thread reads through the main one (WAL lets both run at once).

Branches: every message row knows its ``parent`` (the previous message of the thread).
Saving a *new* message at a position whose parent already has a child makes it a new
version of that child (regenerate an answer, edit a user message) and the active one; the
old versions and everything after them stay in the database (:meth:`Store.versions_of`,
:meth:`Store.set_active_version`). :meth:`Store.load_conversation` follows the active versions.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from app.domain.conversation import Conversation
from app.domain.messages import AssistantMessage, Message, ReasoningBlock, ToolCallPart, TurnStats, UserMessage
from app.domain.tools.records import round_tokens_from_json
from app.store.db import MEMORY, ConversationNotFound, Database, StoreError, describe, open_database
from app.store.rows import (INTERRUPTED, STAT_FIELDS, apply_extra, block_from_row, block_meta, message_extra,
                            message_meta, pack_times, part_text, parts_from_layout, provider_state_json, raw_layout,
                            rebuild_raw, tool_from_row, tool_meta, unpack_times)
from app.store.stream import StreamDelta, StreamTracker

__all__ = ["INTERRUPTED", "INTERRUPTED_NOTE", "ConversationInfo", "SearchHit", "Store", "Version", "apply_extra",
           "message_extra", "memory_store", "open_store"]

log = logging.getLogger("ponder.store")

INTERRUPTED_NOTE = "Interrupted: Ponder closed before this answer was finished."
"""What a view may show under an interrupted message."""

_AUTO = object()
_BLOCK_COLUMNS = ("idx", "text", "t_start", "t_end", "tokens", "truncated", "budget_cut", "hidden_tokens",
                  "redacted", "signature", "redacted_data", "expanded", "paused_for_call", "mentions")
_TOOL_COLUMNS = ("idx", "call_id", "name", "arguments", "raw",
                 "in_reasoning", "call_error", "state", "round", "reach", "approved", "t_start", "t_end",
                 "result_text", "result_error", "duration_s", "truncated_from")
_MESSAGE_COLUMNS = ("uid", "role", "text", "layout", "model_id", "location", "raw", "raw_layout", "finish_reason",
                    "error", "stats", "token_times", "partial", "interrupted", "extra", "provider_state")


class ConversationInfo(NamedTuple):
    """One row of the history list."""

    uid: str
    title: str
    updated: float  # unix seconds


class Version(NamedTuple):
    """One version of a message (see :meth:`Store.versions_of`)."""

    uid: str
    version: int  # 1, 2, ... in the order they were made
    active: bool
    role: str
    model_id: str
    preview: str  # the first line of the text, shortened
    created: float


@dataclass(frozen=True)
class SearchHit:
    """A message that matches a search: ``snippet`` with the matches at ``ranges`` (start, end)."""

    conversation_uid: str
    title: str
    message_uid: str
    kind: str  # "user" | "answer" | "reasoning"
    snippet: str
    ranges: tuple[tuple[int, int], ...]
    updated: float


class Store:
    """Conversations, their messages (all versions) and reasoning blocks in one SQLite file."""

    def __init__(self, db: Database):
        self.db = db

    @property
    def path(self) -> Path | None:
        """The database file (None for the in-memory fallback)."""
        return self.db.path

    def clone(self) -> Store:
        """Another connection to the same file, for another thread (self when in memory)."""
        if self.db.path is None:
            return self
        return Store(Database(self.db.path))

    def close(self) -> None:
        self.db.close()

    # -- writing -----------------------------------------------------------------------------
    def save_conversation(self, conv: Conversation) -> None:
        """Write the title and every message of ``conv`` (the active thread), in one transaction."""
        with self._writing("save the conversation") as conn:
            now = time.time()
            conn.execute(
                "INSERT INTO conversations (uid, title, created, updated) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(uid) DO UPDATE SET title = excluded.title, updated = excluded.updated",
                (conv.uid, conv.title, now, now),
            )
            parent = None
            for position, msg in enumerate(conv.messages):
                partial = isinstance(msg, AssistantMessage) and not msg.finished
                self._save_message(conn, conv.uid, position, msg, partial=partial, parent_uid=parent, now=now)
                parent = msg.uid

    def save_message(self, conv_uid: str, position: int, msg: Message, *, partial: bool,
                     parent_uid: str | None | object = _AUTO, title: str = "") -> None:
        """Insert or update one message whole.

        ``parent_uid`` is the previous message of the thread; by default the active message
        at ``position - 1``. A message new to the database whose parent already has children
        becomes their newest, active version. The conversation row is created when missing,
        with ``title``. ``partial`` marks a message still being streamed: its text then goes
        to ``stream_chunks`` like a reset :meth:`save_stream` (it is searchable once saved
        with ``partial=False``). While streaming, :meth:`save_stream` writes only what is new.
        """
        with self._writing("save the message") as conn:
            now = time.time()
            parent_uid = self._touch(conn, conv_uid, position, parent_uid, title, now)
            self._save_message(conn, conv_uid, position, msg, partial=partial, parent_uid=parent_uid, now=now)

    def save_stream(self, conv_uid: str, position: int, delta: StreamDelta, *,
                    parent_uid: str | None | object = _AUTO, title: str = "") -> None:
        """Append what a streaming message gained (a :class:`~app.store.stream.StreamDelta`); it stays partial.

        Costs O(delta): the message's small columns are updated, its new text and token times
        are appended as ``stream_chunks`` rows, nothing is re-indexed. A ``reset`` delta drops
        what was streamed before. Arguments as for :meth:`save_message`.
        """
        with self._writing("save the message") as conn:
            now = time.time()
            parent_uid = self._touch(conn, conv_uid, position, parent_uid, title, now)
            self._write_stream(conn, conv_uid, position, delta, parent_uid=parent_uid, now=now)

    def rename(self, uid: str, title: str) -> None:
        with self._writing("rename the conversation") as conn:
            if conn.execute("UPDATE conversations SET title = ? WHERE uid = ?", (title, uid)).rowcount == 0:
                raise ConversationNotFound(f"The conversation to rename is no longer in the database ({uid}).")

    def delete(self, uid: str) -> None:
        """Delete a conversation with all its messages and versions (no error if already gone)."""
        with self._writing("delete the conversation") as conn:
            conn.execute("DELETE FROM conversations WHERE uid = ?", (uid,))

    def set_active_version(self, message_uid: str) -> None:
        """Make this version the one its thread follows (reload the conversation to see it)."""
        with self._writing("switch the message version") as conn:
            row = conn.execute("SELECT conversation, parent FROM messages WHERE uid = ?", (message_uid,)).fetchone()
            if row is None:
                raise ConversationNotFound(f"That message version is no longer in the database ({message_uid}).")
            conn.execute("UPDATE messages SET active = (uid = ?) WHERE conversation = ? AND parent IS ?",
                         (message_uid, row[0], row[1]))

    def mark_interrupted_on_startup(self) -> int:
        """Flag messages left partial by a process that died; returns how many.

        Call once at start, before anything streams. Their streamed text is written into
        their rows (and so into the search index) and their ``finish_reason`` becomes
        ``"interrupted"`` (see :data:`INTERRUPTED_NOTE`).
        """
        with self._writing("mark interrupted messages") as conn:
            rows = conn.execute(f"SELECT position, conversation, parent, {', '.join(_MESSAGE_COLUMNS)} "
                                "FROM messages WHERE partial = 1 AND role = 'assistant'").fetchall()
            for position, conv_uid, parent, *row in rows:
                record = dict(zip(_MESSAGE_COLUMNS, row))
                uid = record["uid"]
                msg = _message_from_row(record, self._blocks([uid], conn).get(uid, []),
                                        self._chunks([uid], conn).get(uid), self._tools([uid], conn).get(uid, []))
                msg.finish_reason = msg.finish_reason or INTERRUPTED
                self._save_message(conn, conv_uid, position, msg, partial=False, parent_uid=parent, now=None)
            return len(rows) + conn.execute(
                "UPDATE messages SET partial = 0, interrupted = 1, "
                "finish_reason = CASE WHEN role = 'assistant' THEN ? ELSE finish_reason END WHERE partial = 1",
                (INTERRUPTED,),
            ).rowcount

    # -- reading -----------------------------------------------------------------------------
    def list_conversations(self) -> list[ConversationInfo]:
        """All conversations, most recently updated first."""
        rows = self._read("list the conversations",
                          "SELECT uid, title, updated FROM conversations ORDER BY updated DESC, rowid DESC")
        return [ConversationInfo(*r) for r in rows]

    def load_conversation(self, uid: str) -> Conversation:
        """The conversation with its active thread rebuilt as domain messages."""
        head = self._read("load the conversation", "SELECT title FROM conversations WHERE uid = ?", (uid,))
        if not head:
            raise ConversationNotFound(f"The conversation is no longer in the database ({uid}).")
        cols = ", ".join(f"m.{c}" for c in _MESSAGE_COLUMNS)
        rows = self._read("load the conversation", f"""
            WITH RECURSIVE thread(uid) AS (
                SELECT uid FROM messages WHERE conversation = ?1 AND parent IS NULL AND active = 1
                UNION
                SELECT m.uid FROM messages m JOIN thread t ON m.parent = t.uid
                WHERE m.active = 1 AND m.conversation = ?1
            )
            SELECT m.position, {cols} FROM messages m JOIN thread USING (uid) ORDER BY m.position, m.version DESC
        """, (uid,))
        seen: set[int] = set()
        thread = []
        for position, *row in rows:
            if position not in seen:  # defensive: one message per position
                seen.add(position)
                thread.append(dict(zip(_MESSAGE_COLUMNS, row)))
        assistant = [r["uid"] for r in thread if r["role"] == "assistant"]
        blocks = self._blocks(assistant)
        tools = self._tools(assistant)
        chunks = self._chunks([r["uid"] for r in thread if r["partial"]])
        messages = [_message_from_row(r, blocks.get(r["uid"], []), chunks.get(r["uid"]), tools.get(r["uid"], []))
                    for r in thread]
        return Conversation(messages=messages, title=head[0][0], uid=uid)

    def versions_of(self, message_uid: str) -> list[Version]:
        """All versions of a message (itself and its siblings), oldest first."""
        rows = self._read("list the message versions", """
            SELECT s.uid, s.version, s.active, s.role, s.model_id, substr(s.text, 1, 200), s.created
            FROM messages m JOIN messages s ON s.conversation = m.conversation AND s.parent IS m.parent
            WHERE m.uid = ? ORDER BY s.version
        """, (message_uid,))
        if not rows:
            raise ConversationNotFound(f"That message is no longer in the database ({message_uid}).")
        return [Version(u, v, bool(a), role, model, _preview(text), created)
                for u, v, a, role, model, text, created in rows]

    def search(self, query: str, include_reasoning: bool = False, limit: int = 50) -> list[SearchHit]:
        """Messages matching every word of ``query`` (the last word as a prefix), best first.

        SQLite ranks (bm25); the snippets and match ranges are made here, because FTS5's
        ``snippet()`` takes ~0.1 s per long trace when a short prefix matches thousands of words.
        """
        match = fts_query(query)
        if not match:
            return []
        ranked = ["SELECT 'm', rowid, bm25(message_fts) FROM message_fts WHERE message_fts MATCH ?1"]
        if include_reasoning:
            ranked.append("SELECT 'r', rowid, bm25(reasoning_fts) FROM reasoning_fts WHERE reasoning_fts MATCH ?1")
        rows = self._read("search the conversations", " UNION ALL ".join(ranked) + " ORDER BY 3 LIMIT ?2",
                          (match, limit))
        found: dict[tuple[str, int], tuple] = {}
        for kind, table in (("m", "messages x"), ("r", "reasoning_blocks x JOIN messages m ON m.uid = x.message")):
            ids = [rowid for k, rowid, _score in rows if k == kind]
            if not ids:
                continue
            owner = "x" if kind == "m" else "m"
            details = self._read("search the conversations", f"""
                SELECT x.id, {owner}.conversation, c.title, {owner}.uid, {owner}.role, x.text, c.updated
                FROM {table} JOIN conversations c ON c.uid = {owner}.conversation
                WHERE x.id IN ({", ".join("?" * len(ids))})""", ids)
            for rowid, *rest in details:
                found[(kind, rowid)] = tuple(rest)
        pattern = highlight_pattern(query)
        hits = []
        for kind, rowid, _score in rows:
            if (kind, rowid) not in found:
                continue
            conv, title, msg_uid, role, text, updated = found[(kind, rowid)]
            snippet, ranges = make_snippet(text, pattern)
            label = "reasoning" if kind == "r" else ("answer" if role == "assistant" else "user")
            hits.append(SearchHit(conv, title, msg_uid, label, snippet, ranges, updated))
        return hits

    def integrity_check(self) -> str:
        """``PRAGMA integrity_check``: "ok" when the file is sound."""
        rows = self._read("check the database", "PRAGMA integrity_check")
        return "\n".join(str(r[0]) for r in rows)

    # -- internals ---------------------------------------------------------------------------
    def _writing(self, action: str):
        return _Guard(self.db, action)

    def _read(self, action: str, sql: str, params: Iterable = ()) -> list[tuple]:
        with self.db.lock:
            try:
                return self.db.conn.execute(sql, tuple(params)).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(describe(exc, action, self.db.path)) from exc

    def _blocks(self, message_uids: list[str], conn: sqlite3.Connection | None = None
                ) -> dict[str, list[ReasoningBlock]]:
        out: dict[str, list[ReasoningBlock]] = {}
        cols = ", ".join(_BLOCK_COLUMNS)
        for rows in self._by_message(message_uids, conn, "load the reasoning",
                                            f"SELECT message, {cols} FROM reasoning_blocks "
                                            "WHERE message IN ({marks}) ORDER BY message, idx"):
            for message, *row in rows:
                out.setdefault(message, []).append(block_from_row(dict(zip(_BLOCK_COLUMNS, row))))
        return out

    def _tools(self, message_uids: list[str], conn: sqlite3.Connection | None = None
               ) -> dict[str, list[ToolCallPart]]:
        out: dict[str, list[ToolCallPart]] = {}
        cols = ", ".join(_TOOL_COLUMNS)
        for rows in self._by_message(message_uids, conn, "load the tool calls",
                                            f"SELECT message, {cols} FROM tool_calls "
                                            "WHERE message IN ({marks}) ORDER BY message, idx"):
            for message, *row in rows:
                out.setdefault(message, []).append(tool_from_row(dict(zip(_TOOL_COLUMNS, row))))
        return out

    def _chunks(self, message_uids: list[str], conn: sqlite3.Connection | None = None) -> dict[str, list[tuple]]:
        """The ``stream_chunks`` of partial messages: uid -> [(part, text, in_raw, times)] in order."""
        out: dict[str, list[tuple]] = {}
        for rows in self._by_message(message_uids, conn, "load the message",
                                            "SELECT message, part, text, in_raw, times FROM stream_chunks "
                                            "WHERE message IN ({marks}) ORDER BY message, id"):
            for message, *row in rows:
                out.setdefault(message, []).append(tuple(row))
        return out

    def _by_message(self, uids: list[str], conn: sqlite3.Connection | None, action: str, sql: str):
        for i in range(0, len(uids), 500):
            chunk = uids[i:i + 500]
            query, params = sql.format(marks=", ".join("?" * len(chunk))), chunk
            yield conn.execute(query, params).fetchall() if conn is not None else self._read(action, query, params)

    def _touch(self, conn: sqlite3.Connection, conv_uid: str, position: int, parent_uid, title: str,
               now: float) -> str | None:
        """Create or touch the conversation row; the parent uid (looked up when ``_AUTO``)."""
        conn.execute(
            "INSERT INTO conversations (uid, title, created, updated) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(uid) DO UPDATE SET updated = excluded.updated",
            (conv_uid, title, now, now),
        )
        if parent_uid is _AUTO:
            return self._active_at(conn, conv_uid, position - 1) if position > 0 else None
        return parent_uid

    @staticmethod
    def _active_at(conn: sqlite3.Connection, conv_uid: str, position: int) -> str | None:
        """The active thread's message at ``position`` (walks the thread from the start)."""
        parent = None
        for _ in range(position + 1):
            row = conn.execute("SELECT uid FROM messages WHERE conversation = ? AND parent IS ? AND active = 1 "
                               "ORDER BY version DESC LIMIT 1", (conv_uid, parent)).fetchone()
            if row is None:
                raise StoreError(f"Could not save the message: the conversation has no message at position "
                                 f"{position} to continue from.")
            parent = row[0]
        return parent

    @classmethod
    def _save_message(cls, conn: sqlite3.Connection, conv_uid: str, position: int, msg: Message, *, partial: bool,
                      parent_uid: str | None, now: float | None) -> None:
        """Write ``msg`` whole (``partial``: as a reset stream, its text in chunks); ``now`` None keeps ``updated``."""
        if partial and isinstance(msg, AssistantMessage):
            cls._write_stream(conn, conv_uid, position, StreamTracker().delta(msg), parent_uid=parent_uid,
                              now=now)
            return
        values = _row_from_message(msg)
        values.update(partial=int(partial))
        cls._upsert_row(conn, conv_uid, position, values, parent_uid=parent_uid, now=now)
        if isinstance(msg, AssistantMessage):
            blocks = msg.blocks
            for idx, block in enumerate(blocks):
                cls._upsert_block(conn, msg.uid, _row_from_block(idx, block))
            conn.execute("DELETE FROM reasoning_blocks WHERE message = ? AND idx >= ?", (msg.uid, len(blocks)))
            calls = msg.tool_calls
            for idx, part in enumerate(calls):
                cls._upsert_tool(conn, msg.uid, {"idx": idx, **tool_meta(part)})
            conn.execute("DELETE FROM tool_calls WHERE message = ? AND idx >= ?", (msg.uid, len(calls)))
            conn.execute("DELETE FROM stream_chunks WHERE message = ?", (msg.uid,))

    @classmethod
    def _write_stream(cls, conn: sqlite3.Connection, conv_uid: str, position: int, delta: StreamDelta, *,
                      parent_uid: str | None, now: float | None) -> None:
        uid = delta.uid
        values = {**delta.row, "partial": 1}
        if delta.reset:
            values.update(text="", raw="", raw_layout=None, token_times=None)
        cls._upsert_row(conn, conv_uid, position, values, parent_uid=parent_uid, now=now)
        for idx, meta in delta.blocks.items():
            cls._upsert_block(conn, uid, {"idx": idx, **meta, **({"text": ""} if delta.reset else {})})
        for idx, meta in delta.tools.items():
            cls._upsert_tool(conn, uid, {"idx": idx, **meta})
        if delta.reset:
            conn.execute("DELETE FROM reasoning_blocks WHERE message = ? AND idx >= ?", (uid, delta.n_blocks))
            conn.execute("DELETE FROM tool_calls WHERE message = ? AND idx >= ?", (uid, delta.n_tools))
            conn.execute("DELETE FROM stream_chunks WHERE message = ?", (uid,))
        rows = [(uid, p.part, int(p.in_raw), p.text, None) for p in delta.pieces]
        if delta.times:
            if rows:
                rows[-1] = rows[-1][:4] + (pack_times(delta.times),)
            else:
                rows.append((uid, -1, 1, "", pack_times(delta.times)))
        conn.executemany("INSERT INTO stream_chunks (message, part, in_raw, text, times) VALUES (?, ?, ?, ?, ?)",
                         rows)

    @staticmethod
    def _upsert_tool(conn: sqlite3.Connection, message_uid: str, row: dict) -> None:
        sets = ", ".join(f"{k} = excluded.{k}" for k in row if k != "idx")
        conn.execute(
            f"INSERT INTO tool_calls (message, {', '.join(row)}) "
            f"VALUES (:message, {', '.join(':' + k for k in row)}) "
            f"ON CONFLICT(message, idx) DO UPDATE SET {sets}",
            {**row, "message": message_uid},
        )

    @staticmethod
    def _upsert_block(conn: sqlite3.Connection, message_uid: str, row: dict) -> None:
        sets = ", ".join(f"{k} = excluded.{k}" for k in row if k != "idx")
        conn.execute(
            f"INSERT INTO reasoning_blocks (message, {', '.join(row)}) "
            f"VALUES (:message, {', '.join(':' + k for k in row)}) "
            f"ON CONFLICT(message, idx) DO UPDATE SET {sets}",
            {**row, "message": message_uid},
        )

    @staticmethod
    def _upsert_row(conn: sqlite3.Connection, conv_uid: str, position: int, values: dict, *,
                    parent_uid: str | None, now: float | None) -> None:
        """Update the message row with ``values``, or insert it as the newest, active version."""
        existing = conn.execute("SELECT conversation FROM messages WHERE uid = ?", (values["uid"],)).fetchone()
        if existing is not None:
            if existing[0] != conv_uid:
                raise StoreError(f"Could not save the message: it belongs to another conversation ({existing[0]}).")
            sets = ", ".join(f"{k} = :{k}" for k in values if k != "uid")
            if now is not None:
                sets += ", updated = :updated"
            conn.execute(f"UPDATE messages SET {sets} WHERE uid = :uid", {**values, "updated": now})
            return
        now = time.time() if now is None else now
        version = conn.execute("SELECT COALESCE(MAX(version), 0) + 1 FROM messages "
                               "WHERE conversation = ? AND parent IS ?", (conv_uid, parent_uid)).fetchone()[0]
        if version > 1:
            conn.execute("UPDATE messages SET active = 0 WHERE conversation = ? AND parent IS ?",
                         (conv_uid, parent_uid))
        values = {**values, "conversation": conv_uid, "position": position, "parent": parent_uid,
                  "version": version, "active": 1, "created": now, "updated": now}
        conn.execute(f"INSERT INTO messages ({', '.join(values)}) VALUES ({', '.join(':' + k for k in values)})",
                     values)


class _Guard:
    """A write transaction whose sqlite3 errors become StoreError (PonderErrors pass through)."""

    def __init__(self, db: Database, action: str):
        self.db, self.action = db, action
        self._tx = None

    def __enter__(self) -> sqlite3.Connection:
        self._tx = self.db.transaction()
        try:
            return self._tx.__enter__()
        except sqlite3.Error as exc:
            raise StoreError(describe(exc, self.action, self.db.path)) from exc

    def __exit__(self, kind, exc, tb) -> bool:
        try:
            self._tx.__exit__(kind, exc, tb)
        except sqlite3.Error as err:
            raise StoreError(describe(err, self.action, self.db.path)) from err
        if isinstance(exc, sqlite3.Error):
            raise StoreError(describe(exc, self.action, self.db.path)) from exc
        return False


def open_store(path: Path | None = None, *, mark_interrupted: bool = True) -> tuple[Store, str | None]:
    """The store at ``path`` (default: the data folder); never raises.

    Returns ``(store, notice)``: ``notice`` is a sentence for the UI when the database was
    damaged (moved aside, a fresh one started) or could not be used, else None. Messages left
    partial by a process that died are flagged interrupted unless ``mark_interrupted`` is False.
    """
    db, notice = open_database(path)
    store = Store(db)
    if mark_interrupted:
        try:
            store.mark_interrupted_on_startup()
        except StoreError as exc:
            notice = f"{notice} {exc}" if notice else str(exc)
    if notice:
        log.warning("%s", notice)
    return store, notice


def memory_store() -> Store:
    """An empty store in memory (tests, and sessions that must not save)."""
    return Store(Database(MEMORY).migrated())


# -- search helpers ----------------------------------------------------------------------------
_WORD = re.compile(r"[^\W_]+")  # what the unicode61 tokenizer calls a token


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def fts_query(text: str) -> str:
    """An FTS5 query matching all words of ``text``, the last one as a prefix; "" if no words.

    Words are quoted, so operators and punctuation a user types are taken literally. A
    one-letter last word is not a prefix (it would match most of the index: ~1 s on 70 MB).
    """
    words = _words(text)
    if not words:
        return ""
    quoted = [f'"{w}"' for w in words]
    if _as_prefix(text, words):
        quoted[-1] += "*"
    return " ".join(quoted)


def _as_prefix(text: str, words: list[str]) -> bool:
    return not text[-1:].isspace() and len(words[-1]) >= 2


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    """``ch`` without accents, still one character (so folded text keeps every index)."""
    base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
    return base[0] if len(base) >= 1 else ch


def fold(text: str) -> str:
    """``text`` with accents removed character by character (same length), like the index sees it."""
    if text.isascii():
        return text
    return text.translate({ord(c): _fold_char(c) for c in set(text) if not c.isascii()})


def highlight_pattern(query: str) -> re.Pattern | None:
    """A regex finding the query's words (the last as a prefix) in :func:`fold`-ed text."""
    words = _words(fold(query))
    if not words:
        return None
    prefix = _as_prefix(query, words)
    alts = [re.escape(w) + (r"[^\W_]*" if prefix and i == len(words) - 1 else "") for i, w in enumerate(words)]
    return re.compile(r"(?<![^\W_])(?:" + "|".join(sorted(alts, key=len, reverse=True)) + r")(?![^\W_])",
                      re.IGNORECASE)


def make_snippet(text: str, pattern: re.Pattern | None, width: int = 160) -> tuple[str, tuple[tuple[int, int], ...]]:
    """About ``width`` characters of ``text`` around its first match, and the match ranges in it."""
    folded = fold(text)
    first = pattern.search(folded) if pattern is not None else None
    start = 0 if first is None else max(0, first.start() - width // 4)
    if start:
        space = text.rfind(" ", max(0, start - 20), start)
        start = space + 1 if space >= 0 else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.find(" ", end, end + 20)
        end = space if space >= 0 else end
    lead = "…" if start else ""
    ranges = []
    if pattern is not None:
        for m in pattern.finditer(folded, start, end):
            ranges.append((m.start() - start + len(lead), min(m.end(), end) - start + len(lead)))
    body = re.sub(r"\s", " ", text[start:end])  # one line; same length
    return lead + body + ("…" if end < len(text) else ""), tuple(ranges)


# -- rows <-> domain ---------------------------------------------------------------------------
def _preview(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= 80 else first[:79] + "…"


def _row_from_message(msg: Message) -> dict:
    """All columns of a message saved whole (its raw output as a layout over the parts when it can be)."""
    if isinstance(msg, UserMessage):
        return {"uid": msg.uid, "role": "user", "text": msg.text, "layout": "[]", "model_id": "", "location": "",
                "raw": "", "raw_layout": None, "finish_reason": None, "error": None, "stats": "{}",
                "token_times": None, "interrupted": 0, "extra": "{}", "provider_state": None}
    texts = [part_text(p) for p in msg.parts]
    raw = msg.raw
    derived = raw_layout(raw, texts)
    return {**message_meta(msg), "text": "".join(t for t, p in zip(texts, msg.parts) if not isinstance(p, ReasoningBlock)),
            "raw": raw if derived is None else "", "raw_layout": None if derived is None else json.dumps(derived),
            "token_times": pack_times(msg.stats.token_times), "provider_state": provider_state_json(msg)}


def _row_from_block(idx: int, b: ReasoningBlock) -> dict:
    return {"idx": idx, "text": b.text, **block_meta(b)}


def _message_from_row(r: dict, blocks: list[ReasoningBlock], chunks: list[tuple] | None = None,
                      tools: list[ToolCallPart] = ()) -> Message:
    """A message from its row, blocks and tool calls; ``chunks`` are its ``stream_chunks`` rows while it is partial."""
    if r["role"] == "user":
        return UserMessage(r["text"], uid=r["uid"])
    known = json.loads(r["stats"] or "{}")
    times = unpack_times(r["token_times"])
    texts: dict[int, str] | None = None
    raw = r["raw"]
    if chunks:
        texts, raw, times = _streamed(chunks, times)
    parts = parts_from_layout(json.loads(r["layout"] or "[]"), blocks, texts, r["text"], list(tools))
    if not chunks and r["raw_layout"] is not None:
        raw = rebuild_raw(json.loads(r["raw_layout"]), [part_text(p) for p in parts])
    stats = TurnStats(**{k: v for k, v in known.items() if k in STAT_FIELDS}, token_times=times)
    stats.round_tokens = round_tokens_from_json(stats.round_tokens)
    msg = AssistantMessage(model_id=r["model_id"], where=r["location"], parts=parts, raw=raw, stats=stats,
                           finish_reason=r["finish_reason"], error=r["error"], uid=r["uid"])
    apply_extra(msg, json.loads(r["extra"] or "{}"))
    if r.get("provider_state"):
        msg.provider_state = json.loads(r["provider_state"])
    if r["interrupted"] or r["finish_reason"] == INTERRUPTED:
        _close_interrupted(msg)
    return msg


def _streamed(chunks: list[tuple], times: list[float]) -> tuple[dict[int, str], str, list[float]]:
    """Part texts, raw output and token times of a partial message from its chunks (part, text, in_raw, times)."""
    texts: dict[int, list[str]] = {}
    raw: list[str] = []
    for part, text, in_raw, blob in chunks:
        if part >= 0:
            texts.setdefault(part, []).append(text)
        if in_raw:
            raw.append(text)
        if blob:
            times.extend(unpack_times(blob))
    return {p: "".join(t) for p, t in texts.items()}, "".join(raw), times


def _close_interrupted(msg: AssistantMessage) -> None:
    """An interrupted message ends where its last token arrived; an open block is cut there."""
    stats = msg.stats
    last = stats.token_times[-1] if stats.token_times else (stats.t_first_token or stats.t_start)
    if msg.finish_reason is None:
        msg.finish_reason = INTERRUPTED
    if stats.t_end is None:
        stats.t_end = last
    for block in msg.blocks:
        if block.end is None:
            block.end = max(last, block.start)
            block.truncated = True
