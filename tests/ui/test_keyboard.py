"""The window by keyboard alone: Tab follows the reading order, the switcher and panels work."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from app.backends.fake import FakeBackend
from app.controllers.chat_session import ChatSession
from app.controllers.persistence import Persistence
from app.domain.config import load_user_models
from app.domain.reasoning.markers import FAMILIES
from app.store.conversations import open_store
from app.ui.main_window import MainWindow

SCRIPT = ["<think>", "Weighing", " it", ".", "</think>", "\n\n", "Answer", "."]


def _window(qtbot):
    session = ChatSession(load_user_models(), factory=lambda p: FakeBackend(p, SCRIPT, spec=FAMILIES["think"]))
    store, _ = open_store()
    win = MainWindow(session, store=store, persistence=Persistence(session, store))
    qtbot.addWidget(win)
    win.show()
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)
    return win


def _tab_through(qtbot, start, n):
    start.setFocus()
    seen = [QApplication.focusWidget()]
    for _ in range(n):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key_Tab)
        seen.append(QApplication.focusWidget())
    return seen


def test_tab_follows_the_reading_order_through_the_messages(qtbot):
    win = _window(qtbot)
    for question in ("First question", "Second question"):
        with qtbot.waitSignal(win.session.turn_finished, timeout=5000):
            win.session.send(question)
    first, second = (win.chat.widget_for(m) for m in win.session.conversation.messages[1::2])
    qtbot.waitUntil(lambda: second.panels[0].header.isVisible() and second.answer_views[0].isVisible(), timeout=3000)
    seen = _tab_through(qtbot, win.switcher, 14)
    expected = [win.switcher, win.chat, first.trace_button, first.panels[0].header, *first.answer_views,
                second.trace_button, second.panels[0].header, *second.answer_views, win.gauge.carry]
    assert seen[:len(expected)] == expected
    rest = seen[len(expected):]
    assert win.composer.edit in rest and win.sidebar.new_button in rest
    assert rest.index(win.composer.edit) < rest.index(win.sidebar.new_button)
    win.session.shutdown()
    win.persistence.close()


def test_switcher_and_panel_headers_by_keyboard(qtbot):
    win = _window(qtbot)
    qtbot.keyClick(win, Qt.Key_O, Qt.AltModifier)  # the "Model:" label's mnemonic
    assert QApplication.focusWidget() is win.switcher
    with qtbot.waitSignal(win.switcher.model_chosen, timeout=3000) as chosen:
        qtbot.keyClick(win.switcher, Qt.Key_Down)  # past the "Reasoning" heading, which is not selectable
    assert chosen.args == ["smollm2-think"] and win.session.profile.id == "smollm2-think"
    with qtbot.waitSignal(win.session.turn_finished, timeout=5000) as done:
        win.session.send("Is 91 a prime number?")
    panel = win.chat.widget_for(done.args[0]).panels[0]
    panel.header.setFocus()
    qtbot.keyClick(panel.header, Qt.Key_Return)
    assert panel.expanded and panel.header.shown_text().startswith("▾ ")
    qtbot.keyClick(panel.header, Qt.Key_Space)
    assert not panel.expanded
    win.session.shutdown()
    win.persistence.close()


def test_a_new_chat_takes_the_old_messages_out_of_the_window_at_once(qtbot):
    """Deleted widgets stay in layouts and the focus chain until the event loop deletes them;
    the chat's Tab order must never be threaded through them (Qt crashed on that)."""
    from app.backends.fake import FakeBackend
    from app.controllers.chat_session import ChatSession
    from app.domain.config import load_user_models
    from app.domain.reasoning.markers import FAMILIES
    from app.ui.main_window import MainWindow

    session = ChatSession(load_user_models(),
                          factory=lambda p: FakeBackend(p, ["<think>", "hm", "</think>", "ok"], spec=FAMILIES["think"]))
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(session.turn_finished, timeout=5000):
        session.send("first")
    old = list(win.chat.widgets.values())
    old_children = [c for w in old for c in w.findChildren(QWidget)]
    assert any(c.focusPolicy() & Qt.TabFocus for c in old_children)  # a panel header, Trace
    session.new_chat()
    threaded = []
    real = QWidget.setTabOrder
    try:
        QWidget.setTabOrder = staticmethod(lambda a, b: (threaded.append(b), real(a, b)))
        session.send("second")  # before the event loop has deleted the old widgets
    finally:
        QWidget.setTabOrder = staticmethod(real)
    layout = win.chat._layout
    shown = [layout.itemAt(i).widget() for i in range(layout.count())]
    assert not any(w in shown for w in old)
    assert all(w.isHidden() for w in old)
    assert threaded and not any(c in threaded for c in old_children)
    with qtbot.waitSignal(session.turn_finished, timeout=5000):
        pass
    session.shutdown()
