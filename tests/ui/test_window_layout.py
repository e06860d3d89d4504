"""The window's layout: it never resizes itself, the chat starts below the model row, and a
thinking panel's header shows its state (chevron, hover, accessible name)."""

from PySide6.QtCore import QPoint, Qt

from app import paths
from app.backends.fake import FakeBackend
from app.controllers.chat_session import ChatSession
from app.controllers.persistence import Persistence
from app.domain.config import load_user_models
from app.domain.reasoning.markers import FAMILIES
from app.store.conversations import open_store
from app.ui.main_window import MainWindow

STYLE = (paths.resources_dir() / "style.qss").read_text(encoding="utf-8")
SHORT = ["<think>", "Weighing", " it", ".", "</think>", "\n\n", "Answer", "."]
# thinks for thousands of tokens in a small context: the gauge's forecast warning appears
LONG_THINKING = ["<think>"] + [" step"] * 3000


def _window(qtbot, script, *, width=920, **backend):
    session = ChatSession(load_user_models(), factory=lambda p: FakeBackend(p, script, spec=FAMILIES["think"],
                                                                            **backend))
    store, _ = open_store()
    persistence = Persistence(session, store)
    win = MainWindow(session, store=store, persistence=persistence)  # with the history sidebar, as in the app
    win.setStyleSheet(STYLE)
    qtbot.addWidget(win)
    win.resize(width, 760)
    win.show()
    qtbot.waitExposed(win)
    return win


def _close(win):
    win.session.shutdown()
    win.persistence.close()


def _bottom(widget, win) -> int:
    return widget.mapTo(win, QPoint(0, widget.height())).y()


def test_the_window_keeps_its_size_while_thinking_warns_and_hints_show(qtbot):
    win = _window(qtbot, LONG_THINKING, prompt_tokens=10, n_ctx=2048, delay_s=0.002)
    size = win.size()
    win.session.send("Think very hard about this")
    qtbot.waitUntil(lambda: win.gauge.forecast.warning, timeout=10_000)
    qtbot.wait(50)
    assert win.size() == size
    assert not win.gauge.warning_label.isHidden()  # on a line of its own, wrapped
    win.session.stop()
    qtbot.waitUntil(lambda: not win.session.busy, timeout=5000)
    win.composer.edit.setPlainText("Prove that the sum of the first n odd numbers is n^2, step by step, by induction.")
    qtbot.waitUntil(lambda: not win.task_hint.isHidden(), timeout=3000)
    win.model_status.failed("A model entry with a very long label that someone typed into models.toml " * 2,
                            "details")
    qtbot.wait(50)
    assert win.size() == size
    _close(win)


def test_a_long_thinking_header_is_elided_inside_the_chat(qtbot):
    win = _window(qtbot, SHORT, width=720, n_ctx=8192)  # the narrowest the window gets
    size = win.size()
    with qtbot.waitSignal(win.session.turn_finished, timeout=5000) as done:
        win.session.send("Is 91 a prime number?")
    msg = done.args[0]
    msg.blocks[0].budget_cut = True  # the longest header there is: "… · cut at the thinking budget"
    msg.blocks[0].tokens = 1_234_567
    win.chat.update_message(msg)
    panel = win.chat.widget_for(msg).panels[0]
    qtbot.wait(50)
    header = panel.header
    assert "cut at the thinking budget" in header.text()
    assert header.shown_text().endswith("…") and header.text() in header.toolTip()
    viewport = win.chat.viewport()
    assert header.mapTo(viewport, QPoint(header.width(), 0)).x() <= viewport.width()  # not clipped
    assert win.size() == size
    _close(win)


def test_the_chat_viewport_starts_below_the_model_row(qtbot):
    win = _window(qtbot, SHORT)
    for i in range(8):  # enough to scroll
        with qtbot.waitSignal(win.session.turn_finished, timeout=5000):
            win.session.send(f"Question {i}")
    bar = win.chat.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=3000)
    bar.setValue(bar.maximum() // 2)
    viewport_top = win.chat.viewport().mapTo(win, QPoint(0, 0)).y()
    assert _bottom(win.switcher, win) + 4 <= viewport_top  # a gap, not the chat flush against the dropdown
    assert viewport_top >= _bottom(win.model_row, win)
    assert win.model_row.testAttribute(Qt.WA_StyledBackground)  # a bar of its own (style.qss #modelRow)
    _close(win)


def test_the_thinking_header_shows_its_state(qtbot):
    win = _window(qtbot, SHORT)
    with qtbot.waitSignal(win.session.turn_finished, timeout=5000) as done:
        win.session.send("Is 91 a prime number?")
    panel = win.chat.widget_for(done.args[0]).panels[0]
    header = panel.header
    qtbot.waitUntil(lambda: header.isVisible(), timeout=3000)
    assert not panel.expanded and header.shown_text().startswith("▸ Thought for")
    assert "collapsed" in header.accessibleName()
    qtbot.mouseClick(header, Qt.LeftButton)
    assert panel.expanded and header.shown_text().startswith("▾ Thought for")
    assert "expanded" in header.accessibleName()
    assert header.text().startswith("Thought for")  # the text itself carries no chevron
    header.setFocus()
    qtbot.keyClick(header, Qt.Key_Space)
    assert not panel.expanded and header.shown_text().startswith("▸ ")
    _close(win)


def test_the_thinking_header_highlights_on_hover(qtbot):
    win = _window(qtbot, SHORT)
    with qtbot.waitSignal(win.session.turn_finished, timeout=5000) as done:
        win.session.send("Is 91 a prime number?")
    header = win.chat.widget_for(done.args[0]).panels[0].header
    qtbot.waitUntil(lambda: header.isVisible(), timeout=3000)
    win.composer.edit.setFocus()
    assert header.testAttribute(Qt.WA_Hover) and header.cursor().shape() == Qt.PointingHandCursor
    qtbot.mouseMove(win.composer.edit)
    qtbot.waitUntil(lambda: not header.underMouse(), timeout=3000)
    away = header.grab().toImage()
    qtbot.mouseMove(header, header.rect().center())
    qtbot.waitUntil(lambda: header.underMouse(), timeout=3000)
    header.repaint()
    assert header.grab().toImage() != away
    _close(win)


def test_a_stopped_answer_is_marked_in_colour(qtbot):
    from PySide6.QtGui import QColor, QPalette

    win = _window(qtbot, ["word "] * 2000, delay_s=0.005)
    win.session.send("Write a long story")
    qtbot.waitUntil(lambda: win.session.current is not None and bool(win.session.current.answer), timeout=5000)
    with qtbot.waitSignal(win.session.turn_finished, timeout=5000) as done:
        win.session.stop()
    status = win.chat.widget_for(done.args[0]).status
    assert status.text().startswith("Stopped.")
    assert status.palette().color(QPalette.WindowText) == QColor("#b0441c")  # style.qss [finish="cancelled"]
    _close(win)
