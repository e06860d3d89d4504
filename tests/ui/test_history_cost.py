"""The history sidebar's tooltip gives what a conversation's answers cost (read from the store)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from PySide6.QtCore import QEvent
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip

from app.backends.fake import FakeBackend
from app.controllers.chat_session import ChatSession
from app.controllers.persistence import Persistence
from app.domain.config import load_user_models
from app.domain.conversation import Conversation
from app.domain.messages import AnswerPart, AssistantMessage, TurnStats, UserMessage
from app.domain.profiles import ModelProfile, Price
from app.store.conversations import open_store
from app.ui.main_window import MainWindow

PRICE = Price(input=2.0, output=8.0, checked="2026-12-01")


def answer(model: str, prompt: int, out: int, where: str = "api.example.com") -> AssistantMessage:
    return AssistantMessage(model_id=model, where=where, parts=[AnswerPart("ok")], finish_reason="stop",
                            stats=TurnStats(prompt_tokens=prompt, input_tokens=prompt, answer_tokens=out))


def test_sidebar_tooltip_and_exports_have_the_conversation_cost(qtbot, tmp_path):
    config = load_user_models()
    config = replace(config, models=config.models + (
        ModelProfile("paid", "Paid", "cloud", "openai", base_url="https://api.example.com/v1", model="m",
                     price=PRICE),))
    store, _ = open_store()
    paid = Conversation(title="Paid chat", messages=[UserMessage("q"), answer("paid", 1000, 500),
                                                      UserMessage("q2"), answer("paid", 2000, 250)])
    local = Conversation(title="Local chat", messages=[UserMessage("q"), answer("smollm2-135m", 30, 5, "local")])
    store.save_conversation(paid)
    store.save_conversation(local)
    session = ChatSession(config, factory=lambda p: FakeBackend(p, ["ok"]))
    win = MainWindow(session, store=store, persistence=Persistence(session, store))
    qtbot.addWidget(win)
    win.show()
    expected = (3000 * 2.0 + 750 * 8.0) / 1e6
    tip = win.sidebar.tooltip_text(paid.uid)
    assert tip.startswith("Paid chat\n") and tip.endswith(f"\nCost: ${expected:.4f} (all versions of its answers)")
    assert "Cost" not in win.sidebar.tooltip_text(local.uid)  # a local model costs no money
    # and on hover, as the user sees it
    row = next(i for i in range(win.sidebar.list.count()) if win.sidebar.list.item(i).text() == "Paid chat")
    viewport = win.sidebar.list.viewport()
    where = win.sidebar.list.visualItemRect(win.sidebar.list.item(row)).center()
    QApplication.sendEvent(viewport, QHelpEvent(QEvent.ToolTip, where, viewport.mapToGlobal(where)))
    assert f"Cost: ${expected:.4f}" in QToolTip.text()
    QToolTip.hideText()
    # the window's exports carry the costs too
    session.open_conversation(store.load_conversation(paid.uid))
    win.history.export_conversation(tmp_path / "paid.json", "json")
    win.history.export_conversation(tmp_path / "paid.md", "markdown")
    data = json.loads((tmp_path / "paid.json").read_text())
    assert data["cost"]["totals"]["USD"] == pytest.approx(expected) and data["messages"][1]["cost"]["total"] > 0
    assert f"*Cost of the answers: ${expected:.4f}, at the prices in models.toml.*" in (tmp_path / "paid.md").read_text()
    session.shutdown()
    win.persistence.close()
