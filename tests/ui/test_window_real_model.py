"""The window with the real bundled model: streaming answer, responsive GUI, Stop, close."""

import time

import pytest
from PySide6.QtCore import Qt, QTimer

from app.controllers.chat_session import ChatSession
from app.domain.config import load_user_models
from app.ui.main_window import MainWindow
from helpers.models import long_prompt

pytestmark = pytest.mark.model


@pytest.fixture
def window(qtbot):
    session = ChatSession(load_user_models(), max_tokens=48)
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    yield win
    session.shutdown()


def _wait_ready(qtbot, win):
    with qtbot.waitSignal(win.session.model_ready, timeout=60_000):
        win.session.preload()


def test_answer_streams_into_the_view_while_gui_stays_responsive(qtbot, window):
    _wait_ready(qtbot, window)
    ticks = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    updates = []
    window.session.message_changed.connect(lambda m: updates.append(len(m.answer)))
    qtbot.keyClicks(window.composer.edit, "Name three colours.")
    with qtbot.waitSignal(window.session.turn_finished, timeout=120_000) as finished:
        qtbot.keyClick(window.composer.edit, Qt.Key_Return)
    timer.stop()
    msg = finished.args[0]
    assert msg.answer.strip()
    widget = window.chat.widget_for(msg)
    assert widget.answer_text().strip()[:20] in msg.answer
    assert len(ticks) >= 10, "the GUI thread stopped processing events while generating"
    assert len([u for u in updates if u]) >= 2, "the answer did not stream"
    assert window.composer.edit.toPlainText() == ""
    assert window.composer.send_button.isEnabled()


def test_stop_keeps_partial_answer_marked_stopped(qtbot, window):
    _wait_ready(qtbot, window)
    s = window.session
    s.send("Write a very long story about a lighthouse keeper.")
    qtbot.waitUntil(lambda: s.current is not None and s.current.stats.answer_tokens >= 5, timeout=60_000)
    t0 = time.monotonic()
    with qtbot.waitSignal(s.turn_finished, timeout=3_000) as finished:
        qtbot.mouseClick(window.composer.stop_button, Qt.LeftButton)
    assert time.monotonic() - t0 < 3.0
    msg = finished.args[0]
    assert msg.finish_reason == "cancelled" and msg.answer
    status = window.chat.widget_for(msg).status
    assert "Stopped" in status.text() and status.isVisible()


def test_escape_stops_during_prompt_processing(qtbot, window):
    window.activateWindow()  # Esc is a window shortcut: it needs the focused window a user presses it in
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    _wait_ready(qtbot, window)
    s = window.session
    s.send(long_prompt())
    qtbot.wait(50)
    with qtbot.waitSignal(s.turn_finished, timeout=3_000) as finished:
        qtbot.keyClick(window, Qt.Key_Escape)
    msg = finished.args[0]
    assert msg.finish_reason == "cancelled"
    assert msg.stats.generated_tokens == 0


def test_closing_mid_generation_stops_and_joins_the_thread(qtbot):
    session = ChatSession(load_user_models())
    win = MainWindow(session)
    win.show()
    with qtbot.waitSignal(session.model_ready, timeout=60_000):
        session.preload()
    session.send("Write a long story about a dragon.")
    qtbot.waitUntil(lambda: session.current is not None and session.current.stats.answer_tokens >= 3, timeout=60_000)
    win.close()
    assert not session.local_host.running
    assert session.local_host.worker.resident_ids() == []  # the model was freed
