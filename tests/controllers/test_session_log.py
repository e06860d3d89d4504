"""The window's turns in the log (issue 15.15): ids, counts and finish reasons, no text."""

from __future__ import annotations

import logging

import pytest

from app import logs
from app.controllers.session_log import log_session
from helpers.fake_session import fake_session

SECRET_PROMPT = "tell nobody: the code is 4-8-15-16"
SCRIPT = ["<think>", "secret-thought-K2", "</think>", "\n\n", "secret-answer-J7", "."]


@pytest.fixture
def log_file(ponder_home, monkeypatch):
    monkeypatch.delenv(logs.LEVEL_ENV, raising=False)
    path = logs.configure()
    yield path
    logs.shutdown()


def test_a_window_turn_is_logged_without_its_text(qtbot, log_file):
    session = fake_session(SCRIPT)
    log_session(session)
    with qtbot.waitSignal(session.turn_finished, timeout=10_000):
        session.send(SECRET_PROMPT)
    session.shutdown()
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = log_file.read_text(encoding="utf-8")
    assert "INFO ponder.session: loading smollm2-135m" in text
    assert "INFO ponder.session: turn of smollm2-135m: stop, " in text and " answer tokens in " in text
    for secret in (SECRET_PROMPT, "4-8-15-16", "secret-thought-K2", "secret-answer-J7"):
        assert secret not in text
