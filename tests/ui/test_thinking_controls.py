"""The composer's thinking controls reach the request; Answer now works from the window."""

import pytest
from PySide6.QtCore import Qt

from app.backends.fake import FakeBackend
from app.controllers.chat_session import ChatSession
from app.domain.config import load_user_models
from app.domain.reasoning.markers import FAMILIES
from app.ui.main_window import MainWindow


def _window(qtbot, factory=None, **kw):
    session = ChatSession(load_user_models(), factory=factory, **kw)
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    return win, session


def test_controls_set_the_next_request(qtbot):
    backends = []

    def factory(p):
        backends.append(FakeBackend(p, ["ok"], spec=FAMILIES["think"]))
        return backends[-1]

    win, session = _window(qtbot, factory)
    session.set_model("smollm2-think", preload=False)
    win.switcher.model_chosen.emit("smollm2-think")
    c = win.thinking_controls
    assert not c.thinking_box.isHidden() and not c.minimum.isHidden()
    assert "model default (48)" in c.budget_box.itemText(0)
    c.budget_box.setCurrentIndex(c.budget_box.findData("custom"))
    c.custom.setValue(300)
    c.minimum.setValue(20)
    with qtbot.waitSignal(session.turn_finished, timeout=5000):
        session.send("go")
    request = backends[-1].requests[-1]
    assert (request.thinking_budget, request.min_thinking, request.thinking) == (300, 20, None)
    c.thinking_box.setChecked(False)
    with qtbot.waitSignal(session.turn_finished, timeout=5000):
        session.send("again")
    assert backends[-1].requests[-1].thinking is False
    session.shutdown()


def test_instruct_model_hides_thinking_controls(qtbot):
    win, session = _window(qtbot, lambda p: FakeBackend(p, ["ok"]))
    c = win.thinking_controls
    assert c.thinking_box.isHidden() and c.budget_box.isHidden() and c.minimum.isHidden()
    assert c.budget() is None and c.thinking() is None and c.min_thinking() == 0
    session.shutdown()


def test_cloud_budget_tooltip_shows_the_mapping(qtbot):
    win, session = _window(qtbot, lambda p: FakeBackend(p, ["ok"]))
    claude = session.config.get("claude-sonnet-thinking")
    win.thinking_controls.set_model(claude, switchable=False, reasons=True)
    assert "budget_tokens (at least 1,024)" in win.thinking_controls.budget_box.toolTip()
    session.shutdown()


@pytest.mark.model
def test_answer_now_button_while_thinking(qtbot):
    win, session = _window(qtbot, max_tokens=120)
    session.set_model("smollm2-think", preload=False)
    win.switcher.model_chosen.emit("smollm2-think")
    win.thinking_controls.budget_box.setCurrentIndex(win.thinking_controls.budget_box.findData("0"))
    win.thinking_controls.minimum.setValue(80)  # keep the tiny model thinking
    session.send("Think about the sea.")
    qtbot.waitUntil(lambda: session.current is not None and session.current.stats.reasoning_tokens >= 8,
                    timeout=60_000)
    qtbot.waitUntil(lambda: not win.composer.answer_now_button.isHidden(), timeout=5000)
    with qtbot.waitSignal(session.turn_finished, timeout=60_000) as done:
        qtbot.mouseClick(win.composer.answer_now_button, Qt.LeftButton)
    msg = done.args[0]
    assert msg.blocks[0].budget_cut and msg.stats.reasoning_tokens < 80
    assert msg.answer.strip()
    assert win.composer.answer_now_button.isHidden()
    session.shutdown()
