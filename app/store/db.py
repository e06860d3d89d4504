"""The SQLite connection of the conversation store: pragmas, migrations, transactions, errors.

No Qt here. :func:`open_database` never raises: a damaged or unreadable file is moved aside
(``ponder.sqlite3.corrupt-<timestamp>``) and a fresh database started; a file Ponder cannot
use for another reason (in use, written by a newer Ponder) is left alone and an in-memory
database is used for the session. Either way a notice string for the UI comes back.
Everything else raises :class:`StoreError` with a sentence the user can act on.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app import paths
from app.errors import FolderError, PonderError
from app.store.schema import MIGRATIONS, SCHEMA_VERSION, statements

DB_NAME = "ponder.sqlite3"
MEMORY = ":memory:"


class StoreError(PonderError):
    """The conversation database could not be read or written; the text says what to do."""


class ConversationNotFound(StoreError):
    """A conversation or message uid that is not in the database."""


class _Damaged(Exception):
    """Internal: the file is not a usable SQLite database (moved aside by open_database)."""


def default_path() -> Path:
    """``<data folder>/ponder.sqlite3``."""
    return paths.data_dir() / DB_NAME


def describe(exc: sqlite3.Error, action: str, path: Path | None) -> str:
    """A user-facing sentence for an SQLite error met while doing ``action``."""
    text = str(exc)
    where = f" ({path})" if path else ""
    low = text.lower()
    if "full" in low:
        return f"Could not {action}: the disk is full. Free some space; the database is{where or ' in memory'}."
    if "readonly" in low or "read-only" in low:
        return f"Could not {action}: the conversation database{where} is read-only. Make it and its folder writable."
    if "locked" in low or "busy" in low:
        return (f"Could not {action}: the conversation database{where} is in use by another program "
                "(another Ponder window?). Close it and try again.")
    if "disk i/o" in low or "unable to open" in low:
        return f"Could not {action}: the conversation database{where} cannot be accessed ({text}). Check the disk and its permissions."
    return f"Could not {action}: {text} (database{where})."


class Database:
    """One SQLite connection with Ponder's pragmas, used by one thread at a time (a lock).

    ``transaction()`` is ``BEGIN IMMEDIATE`` … ``COMMIT`` (rolled back on error) and nests.
    """

    def __init__(self, path: Path | str = MEMORY):
        self.path: Path | None = None if str(path) == MEMORY else Path(path)
        self.lock = threading.RLock()
        self._depth = 0
        try:
            self.conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=5.0)
        except sqlite3.Error as exc:
            raise StoreError(describe(exc, "open the conversation database", self.path)) from exc
        try:
            if self.path is not None:
                self.conn.execute("PRAGMA journal_mode = WAL").fetchone()
                self.conn.execute("PRAGMA synchronous = NORMAL")  # WAL: survives a process crash
            self.conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error:
            self.conn.close()
            raise

    # -- plumbing ----------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All statements inside commit together or not at all."""
        with self.lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self.conn
                finally:
                    self._depth -= 1
                return
            self.conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self.conn
                self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
            finally:
                self._depth = 0

    def user_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def migrated(self) -> Database:
        """Bring the schema up to date (see :func:`migrate`); returns self."""
        migrate(self.conn)
        return self

    def close(self) -> None:
        with self.lock:
            self.conn.close()


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Apply the migration steps from the database's version up to ``target``; returns it.

    Each step runs in its own transaction together with its ``PRAGMA user_version``.
    """
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"The conversation database was written by a newer version of Ponder (schema {version}, "
            f"this Ponder knows up to {SCHEMA_VERSION}). Update Ponder to open it."
        )
    while version < target:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for stmt in statements(MIGRATIONS[version]):
                conn.execute(stmt)
            conn.execute(f"PRAGMA user_version = {version + 1}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        version += 1
    return version


def _open_checked(path: Path) -> Database:
    """Open, check and migrate ``path``.

    Raises _Damaged when the file is not a usable database (corrupt, not SQLite, cannot be
    opened), StoreError when it is fine but cannot be used now (in use, disk full, newer schema).
    """
    db = None
    try:
        db = Database(path)
        row = db.conn.execute("PRAGMA quick_check").fetchone()
        if row is None or row[0] != "ok":
            raise _Damaged(f"quick_check: {row[0] if row else 'no answer'}")
        migrate(db.conn)
        return db
    except (_Damaged, StoreError, sqlite3.Error) as exc:
        if db is not None:
            db.close()
        cause = exc.__cause__ if isinstance(exc, StoreError) else exc
        if not isinstance(cause, sqlite3.Error):
            raise
        if _damaged(cause):
            raise _Damaged(str(cause)) from exc
        raise StoreError(describe(cause, "open the conversation database", path)) from exc


def _damaged(exc: sqlite3.Error) -> bool:
    """Corrupt or not a database at all, as opposed to full, read-only, busy or locked."""
    if "unable to open" in str(exc).lower():
        return True
    return isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError)


def _move_aside(path: Path) -> Path:
    """Move ``path`` (and its -wal/-shm files) to ``<name>.corrupt-<timestamp>``; the copy's path."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    try:
        os.replace(path, target)
    except OSError:
        if path.is_dir():
            raise
        shutil.copy2(path, target)  # e.g. a file we may read but not rename
        path.unlink()
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            # a stale WAL next to the fresh file must not be replayed into it
            os.replace(side, target.with_name(target.name + suffix))
    return target


def open_database(path: Path | None = None) -> tuple[Database, str | None]:
    """The database at ``path`` (default: the data folder), migrated; never raises (a data
    folder that cannot be created gives an in-memory database and a notice too).

    Returns ``(database, notice)``; ``notice`` is None when all went well, else a sentence
    for the UI saying what happened.
    """
    try:
        path = Path(path) if path is not None else default_path()
    except FolderError as exc:  # the data folder cannot be created: no history, but Ponder runs
        return Database(MEMORY).migrated(), (
            f"History is off: {exc} Conversations of this session will not be saved."
        )
    try:
        return _open_checked(path), None
    except StoreError as exc:  # in use, or made by a newer Ponder: leave the file alone
        return Database(MEMORY).migrated(), f"{exc} Conversations of this session will not be saved."
    except _Damaged as exc:
        if not path.exists():  # nothing to move aside: the folder is the problem
            return Database(MEMORY).migrated(), (
                f"The conversation database could not be created at {path} ({exc}). Check that the folder "
                "exists and is writable. Conversations of this session will not be saved."
            )
    try:
        copy = _move_aside(path)
    except OSError as exc:
        return Database(MEMORY).migrated(), (
            f"The conversation database {path} is damaged or unreadable and could not be moved aside "
            f"({exc.strerror or exc}). Conversations of this session will not be saved; "
            "move or delete the file and restart Ponder."
        )
    try:
        db = _open_checked(path)
    except (StoreError, _Damaged) as exc:
        return Database(MEMORY).migrated(), (
            f"The conversation database was damaged; a copy was kept at {copy}, but a new one could not be "
            f"started ({exc}). Conversations of this session will not be saved."
        )
    return db, f"The conversation database was damaged; a copy was kept at {copy} and a new one started."
