"""One turn, one path: `ponder ask` and the window report the same turn, local and cloud."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace

import pytest

from app.controllers.chat_session import ChatSession
from app.domain.config import load_models
from app.domain.report import turn_report
from app.ui.main_window import MainWindow
from helpers.cloud_cli import configure, deepseek_stream, ponder
from helpers.cloud_replay import run_until

TIMES = ("ttft_s", "first_answer_s", "thinking_s", "total_s", "tokens_per_s")


def timeless(report: dict) -> dict:
    """A turn report without what depends on the clock."""
    out = {**report, "stats": {k: v for k, v in report["stats"].items() if k not in TIMES}}
    out["blocks"] = [{k: v for k, v in b.items() if k != "seconds"} for b in report["blocks"]]
    return out


def _window_turn(qtbot, config, prompt: str, wait) -> dict:
    session = ChatSession(config, max_tokens=40)
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    done = []
    session.turn_finished.connect(done.append)
    assert session.send(prompt)
    wait(lambda: bool(done))
    report = turn_report(done[0])
    session.shutdown()
    return report


@pytest.mark.model
def test_the_same_greedy_local_turn_gives_the_same_report(qtbot, ponder_home):
    args = ["ask", "What is 3 plus 4?", "--model", "smollm2-think", "--max-tokens", "40", "--temperature", "0",
            "--json"]
    out = subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PONDER_HOME": str(ponder_home)})
    assert out.returncode == 0, out.stderr
    from app.domain.config import load_user_models

    config = load_user_models()
    config = replace(config, default="smollm2-think", models=tuple(replace(m, temperature=0.0) for m in config.models))
    window = _window_turn(qtbot, config, "What is 3 plus 4?", lambda p: qtbot.waitUntil(p, timeout=60_000))
    cli = json.loads(out.stdout)
    assert cli["stats"]["reasoning_tokens"] > 0 and cli["answer"]
    assert timeless(window) == timeless(cli)


def test_the_same_replayed_cloud_turn_gives_the_same_report(qtbot, qloop, cloud, ponder_home):
    path = "/v1/chat/completions"
    cloud.server.script(path, cloud.Reply(pieces=cloud.odd(deepseek_stream(cloud))),
                        cloud.Reply(pieces=cloud.odd(deepseek_stream(cloud))))
    model_id = configure(ponder_home, cloud, "openai", cloud.server.url + "/v1")
    result = ponder(ponder_home, "ask", "What is 2+2?", "--model", model_id, "--json", "--max-tokens", "40",
                    key=cloud.KEY)
    assert result.returncode == 0, result.stderr

    config = load_models(ponder_home / "config" / "models.toml")
    window = _window_turn(qtbot, config, "What is 2+2?", lambda p: run_until(qloop, p))
    cli = json.loads(result.stdout)
    assert cli["reasoning"] == "Two plus two is four." and cli["where"] == cloud.server.host
    assert timeless(window) == timeless(cli)
    assert cloud.server.requests[0]["json"] == cloud.server.requests[1]["json"]  # and both sent the same
