"""Ponder's log (issue 15.15): one rotating file in the logs folder, the level from the
environment or the setting, no key and no message text, and uncaught errors written to it."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading

import pytest

from app import logs
from helpers.cloud_cli import configure
from helpers.cloud_replay import cloud, memory_keyring, server  # noqa: F401 (fixtures)

SECRET_PROMPT = "my-diary-entry-Q7XK3 about the surprise party"
SECRET_REASONING = "pondering-the-diary-R8YL4"
SECRET_ANSWER = "the-reply-text-Z9WM5"


@pytest.fixture
def log_file(ponder_home, monkeypatch):
    monkeypatch.delenv(logs.LEVEL_ENV, raising=False)
    path = logs.configure()
    yield path
    logs.shutdown()
    logs.set_level("info")


def read(path) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return path.read_text(encoding="utf-8") if path.exists() else ""


def test_the_log_is_ponder_log_in_the_logs_folder(log_file, ponder_home):
    assert log_file == ponder_home / "logs" / "ponder.log"
    logging.getLogger("ponder.store").info("opened %s", "the database")
    logging.getLogger("app.backends.cloud.base").warning("a cloud warning")
    text = read(log_file)
    assert " INFO ponder.store: opened the database" in text
    assert " WARNING app.backends.cloud.base: a cloud warning" in text


def test_other_libraries_are_kept_from_warning_up(log_file):
    logging.getLogger("httpx").info('HTTP Request: POST https://example.org/v1 "HTTP/1.1 200 OK"')
    logging.getLogger("httpx").warning("a library warning")
    text = read(log_file)
    assert "HTTP Request" not in text and "a library warning" in text


def test_the_level_comes_from_the_environment_then_the_setting(log_file, monkeypatch):
    chat = logging.getLogger("ponder.turn")
    logs.set_level("warning")
    chat.info("info-under-warning")
    monkeypatch.setenv(logs.LEVEL_ENV, "debug")
    logs.set_level("warning")  # the environment wins
    chat.debug("debug-from-the-environment")
    monkeypatch.setenv(logs.LEVEL_ENV, "chatty")
    logs.set_level(None)
    chat.debug("debug-after-a-bad-level")
    chat.info("info-after-a-bad-level")
    text = read(log_file)
    assert "info-under-warning" not in text and "debug-from-the-environment" in text
    assert "debug-after-a-bad-level" not in text and "info-after-a-bad-level" in text
    assert "PONDER_LOG_LEVEL='CHATTY' is not a log level" in text


def test_the_file_rotates(log_file, monkeypatch):
    chat = logging.getLogger("ponder.turn")
    for n in range(logs.MAX_BYTES // 500 + 50):
        chat.info("%05d %s", n, "x" * 500)
    rotated = sorted(p.name for p in log_file.parent.iterdir())
    assert rotated[:2] == ["ponder.log", "ponder.log.1"]
    assert log_file.stat().st_size <= logs.MAX_BYTES


def test_with_no_usable_logs_folder_nothing_is_written_and_nothing_printed(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "home"
    blocker.write_text("")
    monkeypatch.setenv("PONDER_HOME", str(blocker))
    try:
        assert logs.configure() is None
        logging.getLogger("ponder.turn").error("would go to Python's last-resort handler on stderr")
        assert capsys.readouterr().err == ""
        assert "Ponder cannot use its logs folder" in logs.problem() and "no log was written" in logs.where()
    finally:
        logs.shutdown()


# -- what a turn leaves in the log ---------------------------------------------------------------


def cloud_stream(cloud) -> bytes:
    objs = [{"choices": [{"index": 0, "delta": {"role": "assistant", "reasoning_content": SECRET_REASONING}}]},
            {"choices": [{"index": 0, "delta": {"content": SECRET_ANSWER}, "finish_reason": "stop"}]},
            {"choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 6}}]
    return b"".join(cloud.sse(o) for o in objs) + cloud.sse("[DONE]")


def ask(home, cloud, *args, level=None):
    env = {k: v for k, v in os.environ.items() if k not in (cloud.ENV, logs.LEVEL_ENV)}
    env.update(PONDER_HOME=str(home), PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    env[cloud.ENV] = cloud.KEY
    if level:
        env[logs.LEVEL_ENV] = level
    return subprocess.run([sys.executable, "-m", "app", "ask", *args], capture_output=True, text=True, env=env,
                          timeout=60)


@pytest.mark.parametrize("level", [None, "debug"])
def test_a_turn_logs_neither_the_key_nor_any_text_of_the_conversation(cloud, ponder_home, level):
    cloud.server.script("/v1/chat/completions", cloud.Reply(pieces=[cloud_stream(cloud)]))
    model_id = configure(ponder_home, cloud, "openai", cloud.server.url + "/v1")
    result = ask(ponder_home, cloud, SECRET_PROMPT, "--model", model_id, "--system", "system-text-S1Q2",
                 "--json", level=level)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["answer"] == SECRET_ANSWER
    text = (ponder_home / "logs" / "ponder.log").read_text(encoding="utf-8")
    assert f"INFO ponder.cli: ask: model {model_id} (openai), a prompt of {len(SECRET_PROMPT)} characters" in text
    assert "INFO ponder.cli: ask: stop, 12 prompt + " in text
    for secret in (cloud.KEY, SECRET_PROMPT, "Q7XK3", SECRET_REASONING, SECRET_ANSWER, "system-text-S1Q2"):
        assert secret not in text, secret


def test_a_failed_turn_logs_its_error_without_the_key(cloud, ponder_home):
    body = json.dumps({"error": {"message": f"Incorrect API key provided: {cloud.KEY}"}}).encode()
    cloud.server.script("/v1/chat/completions", cloud.Reply(status=401, content_type="application/json",
                                                            pieces=[body]))
    model_id = configure(ponder_home, cloud, "openai", cloud.server.url + "/v1")
    result = ask(ponder_home, cloud, SECRET_PROMPT, "--model", model_id)
    assert result.returncode == 1
    text = (ponder_home / "logs" / "ponder.log").read_text(encoding="utf-8")
    assert "ask: error" in text and cloud.KEY not in text and SECRET_PROMPT not in text


# -- uncaught errors ------------------------------------------------------------------------------

BUG = """
import sys
from app.domain.conversation import Conversation
def add_user(self, text):
    raise RuntimeError("a bug in Ponder")
Conversation.add_user = add_user
from app.main import main
sys.exit(main(["ask", "hi"]))
"""


def test_an_unexpected_error_in_the_cli_is_one_line_and_its_traceback_goes_to_the_log(ponder_home):
    env = {**os.environ, "PONDER_HOME": str(ponder_home)}
    result = subprocess.run([sys.executable, "-c", BUG], capture_output=True, text=True, env=env, timeout=60)
    log_path = ponder_home / "logs" / "ponder.log"
    assert result.returncode == 1
    assert result.stderr == f"ponder: unexpected error (RuntimeError: a bug in Ponder); the details are in {log_path}.\n"
    text = log_path.read_text(encoding="utf-8")
    assert "CRITICAL ponder.crash: Unexpected error\nTraceback (most recent call last):" in text
    assert "in cmd_ask\n    conversation.add_user(prompt)\n" in text and "RuntimeError: a bug in Ponder" in text


def test_uncaught_exceptions_of_threads_and_the_main_thread_reach_the_log_and_the_listeners(log_file, monkeypatch):
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    logs.install_crash_hooks()
    seen: list[logs.Crash] = []
    remove = logs.add_crash_listener(seen.append)
    try:
        def fail():
            raise ValueError("thread trouble")

        worker = threading.Thread(target=fail, name="ponder-writer")
        worker.start()
        worker.join()
        try:
            raise KeyError("main trouble")
        except KeyError as exc:
            sys.excepthook(type(exc), exc, exc.__traceback__)
    finally:
        remove()
    assert [(c.summary, c.thread) for c in seen] == [("ValueError: thread trouble", "ponder-writer"),
                                                     ("KeyError: 'main trouble'", None)]
    assert all(c.log_path == log_file and "Traceback (most recent call last)" in c.details for c in seen)
    text = read(log_file)
    assert "Unexpected error in thread ponder-writer" in text and "ValueError: thread trouble" in text
    assert "KeyError: 'main trouble'" in text
