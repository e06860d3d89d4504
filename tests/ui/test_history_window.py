"""Conversations in the window: listed, reopened with their panel states, searched,
regenerated as versions, edited as branches; the store survives a restart."""


from app.backends.fake import FakeBackend
from app.controllers.chat_session import ChatSession
from app.controllers.persistence import Persistence
from app.domain.config import load_user_models
from app.domain.reasoning.markers import FAMILIES
from app.store.conversations import open_store
from app.ui.main_window import MainWindow

SCRIPT = ["<think>", "Weighing", " it", ".", "</think>", "\n\n", "Answer", "."]


def _window(qtbot, script=SCRIPT):
    session = ChatSession(load_user_models(), factory=lambda p: FakeBackend(p, script, spec=FAMILIES["think"]))
    store, notice = open_store()
    assert notice is None
    persistence = Persistence(session, store)
    win = MainWindow(session, store=store, persistence=persistence)
    qtbot.addWidget(win)
    win.show()
    return win, session, store, persistence


def _turn(qtbot, session, text):
    with qtbot.waitSignal(session.turn_finished, timeout=5000) as done:
        assert session.send(text)
    return done.args[0]


def _close(win, session, persistence):
    session.shutdown()
    persistence.close()


def test_conversations_listed_reopened_with_panel_state(qtbot):
    win, session, store, p = _window(qtbot)
    msg = _turn(qtbot, session, "First question about tides")
    win.chat.widget_for(msg).panels[0].set_expanded(True, by_user=True)
    p.flush()
    first_uid = session.conversation.uid
    session.new_chat()
    _turn(qtbot, session, "Second chat")
    p.flush()
    win.history.refresh_history()
    titles = [win.sidebar.list.item(i).text() for i in range(win.sidebar.list.count())]
    assert titles[:2] == ["Second chat", "First question about tides"]  # newest first
    win.history.open_conversation(first_uid)
    reopened = session.conversation.messages[-1]
    assert session.conversation.uid == first_uid and reopened.reasoning == "Weighing it."
    panel = win.chat.widget_for(reopened).panels[0]
    assert panel.expanded and panel.user_touched  # the user's choice came back from the store
    _close(win, session, p)


def test_search_finds_the_conversation(qtbot):
    win, session, store, p = _window(qtbot)
    _turn(qtbot, session, "Tell me about lighthouses")
    p.flush()
    hits = store.search("lighthouses")
    assert hits and hits[0].conversation_uid == session.conversation.uid
    assert any(r for r in hits[0].ranges)
    _close(win, session, p)


def test_regenerate_keeps_both_versions_switchable(qtbot):
    win, session, store, p = _window(qtbot)
    first = _turn(qtbot, session, "Pick a number")
    with qtbot.waitSignal(session.turn_finished, timeout=5000) as again:
        win.chat.widget_for(first).regenerate_requested.emit()
    second = again.args[0]
    p.flush()
    versions = store.versions_of(second.uid)
    assert [v.uid for v in versions] == [first.uid, second.uid] and versions[1].active
    win.history.switch_version(first.uid)
    assert session.conversation.messages[-1].uid == first.uid
    _close(win, session, p)


def test_edit_continues_from_the_edited_message_and_keeps_the_old_branch(qtbot):
    win, session, store, p = _window(qtbot)
    _turn(qtbot, session, "Original question")
    original = session.conversation.messages[0]
    with qtbot.waitSignal(session.turn_finished, timeout=5000):
        assert session.edit_user_message(original, "Edited question")
    p.flush()
    assert [m.text for m in session.conversation.messages if m.role == "user"] == ["Edited question"]
    versions = store.versions_of(session.conversation.messages[0].uid)
    assert {v.preview for v in versions} >= {"Original question", "Edited question"}
    _close(win, session, p)


def test_history_survives_a_restart(qtbot):
    win, session, store, p = _window(qtbot)
    _turn(qtbot, session, "Remember me")
    uid = session.conversation.uid
    _close(win, session, p)
    win2, session2, store2, p2 = _window(qtbot)
    assert [c.uid for c in store2.list_conversations()] == [uid]
    win2.history.open_conversation(uid)
    assert session2.conversation.messages[-1].answer.strip() == "Answer."
    assert win2.chat.widget_for(session2.conversation.messages[-1]).panels
    _close(win2, session2, p2)


def test_export_and_import_from_the_window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("PONDER_TEST_SECRET_KEY", "sk-never-in-exports-123")
    win, session, store, p = _window(qtbot)
    _turn(qtbot, session, "Export me")
    win.history.export_conversation(tmp_path / "c.md", "markdown")
    win.history.export_conversation(tmp_path / "c.json", "json")
    md = (tmp_path / "c.md").read_text()
    assert "<details>" in md and "Weighing it." in md and "Answer." in md
    assert "sk-never-in-exports-123" not in md + (tmp_path / "c.json").read_text()
    win.history.import_conversation(tmp_path / "c.json")
    imported = session.conversation
    assert imported.messages[-1].reasoning == "Weighing it." and len(store.list_conversations()) == 2
    _close(win, session, p)
