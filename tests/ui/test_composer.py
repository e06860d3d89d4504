"""The composer: Enter sends, Shift+Enter breaks the line, Stop and Answer now while busy."""

from PySide6.QtCore import Qt

from app.ui.composer import Composer


def test_enter_sends_and_clears_shift_enter_breaks_the_line(qtbot):
    c = Composer()
    qtbot.addWidget(c)
    sent = []
    c.send_requested.connect(sent.append)
    qtbot.keyClicks(c.edit, "first line")
    qtbot.keyClick(c.edit, Qt.Key_Return, Qt.ShiftModifier)
    qtbot.keyClicks(c.edit, "second")
    assert sent == [] and c.edit.toPlainText() == "first line\nsecond"
    qtbot.keyClick(c.edit, Qt.Key_Return)
    assert sent == ["first line\nsecond"] and c.edit.toPlainText() == ""


def test_blank_text_is_not_sent(qtbot):
    c = Composer()
    qtbot.addWidget(c)
    sent = []
    c.send_requested.connect(sent.append)
    qtbot.keyClicks(c.edit, "   ")
    qtbot.keyClick(c.edit, Qt.Key_Return)
    c.send_button.click()
    assert sent == []


def test_busy_disables_send_enables_stop_and_keeps_the_draft(qtbot):
    c = Composer()
    qtbot.addWidget(c)
    sent, stopped = [], []
    c.send_requested.connect(sent.append)
    c.stop_requested.connect(lambda: stopped.append(1))
    c.set_busy(True)
    assert not c.send_button.isEnabled() and c.stop_button.isEnabled()
    qtbot.keyClicks(c.edit, "next question")
    qtbot.keyClick(c.edit, Qt.Key_Return)
    assert sent == [] and c.edit.toPlainText() == "next question"  # written meanwhile, kept
    c.stop_button.click()
    assert stopped == [1]
    c.set_busy(False)
    assert c.send_button.isEnabled() and not c.stop_button.isEnabled()


def test_answer_now_shows_only_while_thinking(qtbot):
    c = Composer()
    qtbot.addWidget(c)
    c.show()
    asked = []
    c.answer_now_requested.connect(lambda: asked.append(1))
    c.set_busy(True)
    c.set_thinking(True)
    assert c.answer_now_button.isVisible() and not c.send_button.isVisible()
    c.answer_now_button.click()
    assert asked == [1]
    c.set_busy(False)  # the turn ended: back to Send
    assert not c.answer_now_button.isVisible() and c.send_button.isVisible()
