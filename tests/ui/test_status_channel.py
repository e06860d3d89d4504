"""The test-only status channel: off by default; when on, one JSON line per state change."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import Qt

from app.backends.fake import FakeBackend
from app.controllers.chat_session import ChatSession
from app.domain.config import load_user_models
from app.domain.reasoning.markers import FAMILIES
from app.ui import status_channel
from app.ui.main_window import MainWindow

SCRIPT = ["<think>", "Weighing", " it", ".", "</think>", "\n\n", "Answer", "."]
ROOT = Path(__file__).resolve().parents[2]


def _events(stream: io.StringIO) -> list[dict]:
    lines = stream.getvalue().splitlines()
    assert all(line.startswith(status_channel.PREFIX) for line in lines), lines
    return [json.loads(line[len(status_channel.PREFIX):]) for line in lines]


def test_it_is_off_unless_the_variable_is_set(qtbot, monkeypatch):
    monkeypatch.delenv(status_channel.ENV, raising=False)
    session = ChatSession(load_user_models(), factory=lambda p: FakeBackend(p, ["ok"]))
    win = MainWindow(session)
    qtbot.addWidget(win)
    assert status_channel.attach_if_enabled(win) is None
    monkeypatch.setenv(status_channel.ENV, "0")
    assert status_channel.attach_if_enabled(win) is None
    monkeypatch.setenv(status_channel.ENV, "1")
    assert isinstance(status_channel.attach_if_enabled(win), status_channel.StatusChannel)
    session.shutdown()


def test_a_turn_and_a_panel_click_as_json_lines(qtbot):
    session = ChatSession(load_user_models(), factory=lambda p: FakeBackend(p, SCRIPT, spec=FAMILIES["think"],
                                                                            delay_s=0.05))
    win = MainWindow(session)
    qtbot.addWidget(win)
    stream = io.StringIO()
    status_channel.StatusChannel(win, stream)
    win.show()
    qtbot.waitUntil(lambda: any(e["event"] == "ready" for e in _events(stream)), timeout=5000)
    with qtbot.waitSignal(session.turn_finished, timeout=5000):
        session.send("Is 91 a prime number?")
    qtbot.waitUntil(lambda: any(e["event"] == "turn_finished" for e in _events(stream)), timeout=5000)
    events = _events(stream)
    names = [e["event"] for e in events]
    ready = events[names.index("ready")]
    assert ready["size"] == [win.width(), win.height()] and len(ready["composer"]) == 4
    assert {"event": "message_added", "role": "user", "text": "Is 91 a prime number?"} in events
    states = [e["state"] for e in events if e["event"] == "message_state"]
    assert "thinking" in states and states[-1] == "answering"
    finished = events[names.index("turn_finished")]
    assert finished["finish_reason"] == "stop" and finished["answer"].strip() == "Answer."
    panel = finished["panels"][0]
    assert panel["expanded"] is False and panel["header"].startswith("▸ Thought for") and panel["visible"]
    assert names.index("busy") < names.index("turn_finished")
    widget = win.chat.widget_for(session.conversation.messages[-1])
    qtbot.mouseClick(widget.panels[0].header, Qt.LeftButton)
    qtbot.waitUntil(lambda: any(e["event"] == "panel_toggled" for e in _events(stream)), timeout=5000)
    toggled = [e for e in _events(stream) if e["event"] == "panel_toggled"][0]["panels"][0]
    assert toggled["expanded"] and toggled["body_visible"] and toggled["header"].startswith("▾ ")
    assert "window_resized" not in [e["event"] for e in _events(stream)]
    session.shutdown()


def test_the_app_writes_nothing_of_it_in_a_normal_run(tmp_path):
    """The app for two seconds, without and with the variable: status lines only with it."""
    script = ("import sys\n"
              "from PySide6.QtCore import QTimer\n"
              "from PySide6.QtWidgets import QApplication\n"
              "qapp = QApplication(['ponder'])\n"
              "QTimer.singleShot(2000, qapp.quit)\n"
              "from app.main import main\n"
              "sys.exit(main([]))\n")
    runs = {}
    for value in (None, "1"):
        env = {**os.environ, "PONDER_HOME": str(tmp_path / str(value)), "QT_QPA_PLATFORM": "offscreen"}
        env.pop(status_channel.ENV, None)
        if value:
            env[status_channel.ENV] = value
        runs[value] = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True,
                                     text=True, timeout=120)
        assert runs[value].returncode == 0, runs[value].stderr
    assert status_channel.PREFIX not in runs[None].stderr + runs[None].stdout
    assert status_channel.PREFIX + '{"event": "ready"' in runs["1"].stderr
