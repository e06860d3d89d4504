"""A folder given as a model path is called a folder (issue 15.13), in `ponder ask` and in the window."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace

import pytest

from app import paths
from app.errors import ModelFileError

MODELS_TOML = """default = "dir"

[[model]]
id = "dir"
label = "A folder"
role = "instruct"
backend = "llama"
path = "{path}"
"""


def test_resolve_model_path_says_it_is_a_folder_and_what_it_holds(tmp_path):
    (tmp_path / "qwen-q4.gguf").write_bytes(b"GGUF")
    with pytest.raises(ModelFileError) as info:
        paths.resolve_model_path(str(tmp_path))
    message = str(info.value)
    assert message.startswith(f"The model path {tmp_path} is a folder, not a GGUF file (it holds qwen-q4.gguf).")
    assert "not found" not in message and info.value.path == tmp_path


def test_ask_with_a_folder_as_model_path_is_one_line(ponder_home, tmp_path):
    (ponder_home / "config").mkdir(parents=True)
    (ponder_home / "config" / "models.toml").write_text(MODELS_TOML.format(path=tmp_path), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "app", "ask", "hi"], capture_output=True, text=True,
                            env={**os.environ, "PONDER_HOME": str(ponder_home)}, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr == f"ponder: The model path {tmp_path} is a folder, not a GGUF file. " \
                            'Set "path" in models.toml to the .gguf file itself.\n'


def test_the_window_says_the_model_path_is_a_folder(qtbot, tmp_path):
    from app.controllers.chat_session import ChatSession
    from app.domain.config import load_user_models
    from app.ui.main_window import MainWindow

    config = load_user_models()
    config = replace(config, models=tuple(replace(m, path=str(tmp_path)) if m.id == config.default else m
                                          for m in config.models))
    session = ChatSession(config, max_tokens=8)
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(session.turn_finished, timeout=30_000) as failed:
        session.send("hello")
    msg = failed.args[0]
    assert msg.finish_reason == "error" and f"The model path {tmp_path} is a folder" in msg.error
    assert win.errors.isVisibleTo(win) and "is a folder, not a GGUF file" in win.errors.text()
    session.shutdown()
