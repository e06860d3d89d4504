"""Runaway detection in the window with real inference: the tiny model loops at temperature
0 on this prompt (see tests/domain/runaway_traces/model/smollm2-plan-t0-loop.json); the
banner appears while it thinks and its Answer now cuts the thinking."""

import pytest
from dataclasses import replace

from app.controllers.chat_session import ChatSession
from app.domain.config import load_user_models
from app.ui.main_window import MainWindow

pytestmark = pytest.mark.model

PROMPT = "Plan a three-day trip to Rome for a family with two children, with a budget. Think it through."


def test_loop_banner_and_answer_now(qtbot):
    config = load_user_models()
    config = replace(config, default="smollm2-think", models=tuple(
        replace(m, temperature=0.0, reasoning=replace(m.reasoning, budget=0)) if m.id == "smollm2-think" else m
        for m in config.models))
    session = ChatSession(config, max_tokens=700)
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    session.min_thinking = 600  # keep it thinking until the loop shows
    session.send(PROMPT)
    qtbot.waitUntil(lambda: session.current is not None and session.current.loop_alarm is not None, timeout=120_000)
    msg = session.current
    widget = win.chat.widget_for(msg)
    qtbot.waitUntil(lambda: not widget.loop_banner.isHidden(), timeout=5000)
    assert "repeating itself" in msg.loop_alarm.message
    assert msg.loop_alarm.at - msg.loop_alarm.start <= 300
    with qtbot.waitSignal(session.turn_finished, timeout=60_000):
        widget.loop_banner.answer_now_requested.emit()
    assert msg.blocks[0].budget_cut and msg.answer.strip()
    assert widget.loop_banner.isHidden()
    session.shutdown()
