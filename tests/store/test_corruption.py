"""A damaged or unreadable database is moved aside, a fresh one started, and the UI told."""

import re

from app import paths
from app.domain.messages import UserMessage
from app.store.conversations import open_store

NOTICE = re.compile(r"The conversation database was damaged; a copy was kept at (.+ponder\.sqlite3\.corrupt-\d{8}-\d{6}) "
                    r"and a new one started\.")


def _check_fresh_and_copy(notice, original: bytes | None):
    match = NOTICE.fullmatch(notice or "")
    assert match, notice
    copy = paths.data_dir() / match.group(1).rsplit("/", 1)[-1]
    assert copy.exists()
    if original is not None:
        assert copy.read_bytes() == original
    return copy


def test_garbage_file_is_kept_aside_and_a_new_database_started():
    path = paths.data_dir() / "ponder.sqlite3"
    garbage = b"this is not a database at all\n" * 200
    path.write_bytes(garbage)
    store, notice = open_store()
    _check_fresh_and_copy(notice, garbage)
    assert store.path == path and store.integrity_check() == "ok"
    store.save_message("c", 0, UserMessage("works again"), partial=False, title="t")
    assert [c.title for c in store.list_conversations()] == ["t"]
    store.close()
    again, notice = open_store()  # the next start is quiet
    assert notice is None and len(again.list_conversations()) == 1
    again.close()


def test_damaged_pages_inside_a_valid_header_are_detected(store, make_conversation):
    for _ in range(20):
        store.save_conversation(make_conversation())
    store.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    path = paths.data_dir() / "ponder.sqlite3"
    data = bytearray(path.read_bytes())
    assert len(data) > 8 * 4096
    for offset in range(2 * 4096, len(data), 4096):  # scribble over every page but the first
        data[offset + 40: offset + 400] = b"\xa5" * 360
    path.write_bytes(bytes(data))
    reopened, notice = open_store()
    _check_fresh_and_copy(notice, bytes(data))
    assert reopened.list_conversations() == [] and reopened.integrity_check() == "ok"
    reopened.close()


def test_unreadable_path_is_moved_aside_too():
    path = paths.data_dir() / "ponder.sqlite3"
    path.mkdir()  # e.g. something that is not a file at all
    (path / "junk").write_text("x")
    store, notice = open_store()
    copy = _check_fresh_and_copy(notice, None)
    assert copy.is_dir() and path.is_file()
    store.close()


def test_a_stale_wal_of_the_damaged_file_does_not_leak_into_the_new_one():
    path = paths.data_dir() / "ponder.sqlite3"
    path.write_bytes(b"\x00garbage" * 100)
    path.with_name("ponder.sqlite3-wal").write_bytes(b"old wal" * 100)
    store, notice = open_store()
    _check_fresh_and_copy(notice, b"\x00garbage" * 100)
    assert store.list_conversations() == [] and store.integrity_check() == "ok"
    store.close()


def test_a_folder_that_cannot_hold_the_database_gives_an_in_memory_store(tmp_path):
    target = tmp_path / "missing-folder" / "ponder.sqlite3"
    store, notice = open_store(target)
    assert notice.startswith(f"The conversation database could not be created at {target}")
    assert "will not be saved" in notice and store.path is None
    store.save_message("c", 0, UserMessage("still works"), partial=False)
    assert store.load_conversation("c").messages[0].text == "still works"


def test_only_damage_moves_a_file_aside_not_a_full_disk_or_a_lock():
    import sqlite3

    from app.store.db import _damaged

    assert _damaged(sqlite3.DatabaseError("file is not a database"))
    assert _damaged(sqlite3.DatabaseError("database disk image is malformed"))
    assert _damaged(sqlite3.OperationalError("unable to open database file"))
    assert not _damaged(sqlite3.OperationalError("database is locked"))
    assert not _damaged(sqlite3.OperationalError("database or disk is full"))
    assert not _damaged(sqlite3.OperationalError("attempt to write a readonly database"))
