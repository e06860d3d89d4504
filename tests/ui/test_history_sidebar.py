"""The history sidebar: list, choose, new chat, search with highlights, inline rename, confirmed delete."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from app.store.conversations import SearchHit
from app.ui.history_sidebar import TITLE_ROLE, UID_ROLE, HistorySidebar, highlight_html

ROWS = [("c3", "Newest chat", 300.0), ("c2", "", 200.0), ("c1", "Oldest <b>chat</b>", 100.0)]


@pytest.fixture
def answers():
    return []


@pytest.fixture
def sidebar(qtbot, answers):
    def confirm(parent, title):  # stands in for the QMessageBox question
        answers.append(title)
        return confirm.reply

    confirm.reply = True
    bar = HistorySidebar(confirm=confirm, search_delay_ms=10)
    bar.confirm_stub = confirm
    qtbot.addWidget(bar)
    bar.set_conversations(ROWS)
    bar.show()
    return bar


def _texts(bar):
    return [bar.list.item(i).text() for i in range(bar.list.count())]


def test_lists_conversations_in_the_given_order_with_untitled_fallback(sidebar):
    assert _texts(sidebar) == ["Newest chat", "Untitled", "Oldest <b>chat</b>"]
    assert sidebar.empty.isHidden()
    sidebar.set_conversations([])
    assert sidebar.list.count() == 0 and not sidebar.empty.isHidden()


def test_click_chooses_and_new_chat_button_requests(qtbot, sidebar):
    item = sidebar.list.item(1)
    rect = sidebar.list.visualItemRect(item)
    with qtbot.waitSignal(sidebar.conversation_chosen, timeout=1000) as chosen:
        qtbot.mouseClick(sidebar.list.viewport(), Qt.LeftButton, pos=rect.center())
    assert chosen.args == ["c2"]
    with qtbot.waitSignal(sidebar.new_chat_requested, timeout=1000):
        qtbot.mouseClick(sidebar.new_button, Qt.LeftButton)


def test_search_is_debounced_and_clearing_restores_the_list(qtbot, sidebar):
    emitted = []
    sidebar.search_changed.connect(emitted.append)
    qtbot.keyClicks(sidebar.search, "stra")
    qtbot.waitUntil(lambda: emitted == ["stra"], timeout=1000)  # one signal for four keystrokes
    hit = SearchHit("c1", "Fruit & letters", "m1", "answer", "There are 3 r's in strawberry <3",
                    ((19, 29),), 100.0)
    sidebar.set_search_results([hit])
    assert sidebar.list.count() == 1
    label = sidebar.list.itemWidget(sidebar.list.item(0))
    assert isinstance(label, QLabel)
    html = label.text()
    assert '<b style="background-color:#fde68a;color:#111827">strawberry</b> &lt;3' in html
    assert "Fruit &amp; letters" in html and "Answer" in html
    with qtbot.waitSignal(sidebar.conversation_chosen, timeout=1000) as chosen:
        sidebar.list.itemClicked.emit(sidebar.list.item(0))
    assert chosen.args == ["c1"]
    sidebar.set_search_results([])
    assert not sidebar.empty.isHidden() and sidebar.empty.text() == "No matches."
    with qtbot.waitSignal(sidebar.search_changed, timeout=1000) as cleared:
        sidebar.search.clear()
    assert cleared.args == [""] and _texts(sidebar) == ["Newest chat", "Untitled", "Oldest <b>chat</b>"]


def test_include_reasoning_toggle_searches_again(qtbot, sidebar):
    qtbot.keyClicks(sidebar.search, "zeta")
    qtbot.waitSignal(sidebar.search_changed, timeout=1000).wait()
    with qtbot.waitSignal(sidebar.search_changed, timeout=1000) as again:
        sidebar.reasoning_box.setChecked(True)
    assert again.args == ["zeta"] and sidebar.include_reasoning


def test_results_arriving_after_the_search_was_cleared_are_ignored(sidebar):
    sidebar.set_search_results([SearchHit("c1", "t", "m", "user", "x", (), 1.0)])
    assert _texts(sidebar) == ["Newest chat", "Untitled", "Oldest <b>chat</b>"]


def test_inline_rename_from_the_context_menu(qtbot, sidebar):
    renamed = []
    sidebar.rename_requested.connect(lambda uid, title: renamed.append((uid, title)))
    menu = sidebar.context_menu("c3")
    assert [a.text() for a in menu.actions()] == ["Rename", "Delete…"]
    menu.actions()[0].trigger()
    editor = sidebar.list.findChild(type(sidebar.search))  # the inline QLineEdit editor
    assert editor is not None and editor.isVisible() and editor.text() == "Newest chat"
    editor.selectAll()
    qtbot.keyClicks(editor, "  Plans for Tuesday ")
    qtbot.keyClick(editor, Qt.Key_Return)  # the delegate commits with a queued call
    qtbot.waitUntil(lambda: renamed == [("c3", "Plans for Tuesday")], timeout=1000)
    assert _texts(sidebar)[0] == "Plans for Tuesday" and sidebar.list.item(0).data(TITLE_ROLE) == "Plans for Tuesday"


def test_a_list_update_waits_while_a_title_is_being_edited(qtbot, sidebar):
    renamed = []
    sidebar.rename_requested.connect(lambda uid, title: renamed.append((uid, title)))
    sidebar.start_rename("c1")
    editor = sidebar.list.findChild(type(sidebar.search))
    editor.selectAll()
    qtbot.keyClicks(editor, "Kept")
    sidebar.set_conversations([("c4", "Brand new", 400.0), *ROWS])  # e.g. a turn finished meanwhile
    assert editor.isVisible() and sidebar.list.count() == 3
    qtbot.keyClick(editor, Qt.Key_Return)
    qtbot.waitUntil(lambda: _texts(sidebar) == ["Brand new", "Newest chat", "Untitled", "Kept"],
                    timeout=1000)
    assert renamed == [("c1", "Kept")]


def test_empty_or_unchanged_rename_is_not_requested(qtbot, sidebar):
    renamed = []
    sidebar.rename_requested.connect(lambda *a: renamed.append(a))
    sidebar.list.item(0).setText("   ")
    sidebar.list.item(0).setText("Newest chat")
    assert renamed == [] and _texts(sidebar)[0] == "Newest chat"


def test_delete_asks_first(qtbot, sidebar, answers):
    deleted = []
    sidebar.delete_requested.connect(deleted.append)
    sidebar.confirm_stub.reply = False
    sidebar.context_menu("c1").actions()[1].trigger()
    assert deleted == [] and answers == ["Oldest <b>chat</b>"]
    sidebar.confirm_stub.reply = True
    sidebar.list.setCurrentRow(1)
    qtbot.keyClick(sidebar, Qt.Key_Delete)
    assert deleted == ["c2"] and answers[-1] == "Untitled"


def test_set_current_selects_without_choosing(qtbot, sidebar):
    chosen = []
    sidebar.conversation_chosen.connect(chosen.append)
    sidebar.set_current("c2")
    assert sidebar.list.currentItem().data(UID_ROLE) == "c2" and chosen == []
    sidebar.set_conversations(ROWS[:2])
    assert sidebar.list.currentItem().data(UID_ROLE) == "c2"


def test_highlight_html_escapes_and_marks():
    assert highlight_html("a<b>c", [(1, 4)]) == 'a<b style="background-color:#fde68a;color:#111827">&lt;b&gt;</b>c'
    assert highlight_html("abc", []) == "abc"
