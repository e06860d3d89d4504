"""The history binding: what the sidebar's requests do to the session and the store."""

import pytest

from app.backends.fake import FakeBackend
from app.controllers.chat_session import ChatSession
from app.controllers.persistence import Persistence
from app.domain.config import load_user_models
from app.store.conversations import open_store
from app.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot, tmp_path):
    store, _ = open_store(tmp_path / "history.sqlite3")
    session = ChatSession(load_user_models(), factory=lambda p: FakeBackend(p, ["Fine", "."]))
    persistence = Persistence(session, store)
    win = MainWindow(session, store=store, persistence=persistence)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()


def _chat(qtbot, win, text):
    with qtbot.waitSignal(win.session.turn_finished, timeout=5000):
        win.session.send(text)
    win.persistence.flush()
    return win.session.conversation.uid


def test_deleting_the_open_conversation_starts_a_new_one(qtbot, window):
    uid = _chat(qtbot, window, "first")
    window.history.delete_conversation(uid)
    window.persistence.flush()
    assert window.session.conversation.uid != uid and window.session.conversation.messages == []
    assert uid not in {c.uid for c in window.store.list_conversations()}


def test_a_conversation_that_cannot_be_loaded_is_a_message(qtbot, window):
    window.history.open_conversation("no-such-conversation")
    assert not window.errors.isHidden() and window.errors.text()


def test_a_search_shows_hits_and_clearing_it_lists_the_history_again(qtbot, window):
    from app.ui.history_sidebar import UID_ROLE

    whales = _chat(qtbot, window, "about whales")
    window.session.new_chat()
    other = _chat(qtbot, window, "about bees")
    bar = window.sidebar

    def rows():
        return [bar.list.item(i).data(UID_ROLE) for i in range(bar.list.count())]

    qtbot.waitUntil(lambda: set(rows()) == {whales, other}, timeout=3000)
    bar.search.setText("whales")
    qtbot.waitUntil(lambda: rows() == [whales], timeout=3000)
    bar.search.setText("")
    qtbot.waitUntil(lambda: set(rows()) == {whales, other}, timeout=3000)


def test_export_writes_the_open_conversation(qtbot, window, tmp_path):
    _chat(qtbot, window, "export me")
    window.history.export_conversation(tmp_path / "c.md", "markdown")
    window.history.export_conversation(tmp_path / "c.json", "json")
    assert "export me" in (tmp_path / "c.md").read_text() and "Fine." in (tmp_path / "c.json").read_text()
