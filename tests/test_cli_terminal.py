"""`ponder ask` on a terminal writes no control sequence that a model or a server sent (issue 15.3).

The model is a cloud entry of the loopback replay server; stdout and stderr are a real
pseudo-terminal (raw mode, so the terminal adds no carriage returns of its own).
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import tty

from helpers.cloud_cli import configure
from helpers.cloud_replay import cloud, memory_keyring, server  # noqa: F401 (fixtures)

HOSTILE_REASONING = "Think\x1b]0;pwned-title\x07ing\x1b]52;c;aGVsbG8=\x07 hard\r."
HOSTILE_ANSWER = "\x1b[2J\x1b[HFour\x9b31m red\x85\x00\x08 end\tok\n"
HOSTILE_ERROR = "bad request\x1b]0;owned\x07\x1b[2J here"
OURS = (b"\x1b[2m", b"\x1b[0m")  # Ponder's own dim / reset around the reasoning


def stream(cloud) -> bytes:
    objs = [{"choices": [{"index": 0, "delta": {"role": "assistant", "reasoning_content": HOSTILE_REASONING}}]},
            {"choices": [{"index": 0, "delta": {"content": HOSTILE_ANSWER}, "finish_reason": "stop"}]},
            {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 9}}]
    return b"".join(cloud.sse(o) for o in objs) + cloud.sse("[DONE]")


def env_for(home, cloud) -> dict:
    env = {k: v for k, v in os.environ.items() if k != cloud.ENV}
    env.update(PONDER_HOME=str(home), PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    env[cloud.ENV] = cloud.KEY
    return env


def on_terminal(home, cloud, *args) -> tuple[int, bytes]:
    """Run ponder with stdout and stderr on one pseudo-terminal; (exit status, what it showed)."""
    master, slave = pty.openpty()
    tty.setraw(slave)
    proc = subprocess.Popen([sys.executable, "-m", "app", *args], stdin=subprocess.DEVNULL, stdout=slave,
                            stderr=slave, env=env_for(home, cloud))
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    return proc.wait(timeout=60), shown


def without_ours(shown: bytes) -> bytes:
    for code in OURS:
        shown = shown.replace(code, b"")
    return shown


def assert_no_controls(shown: bytes) -> None:
    text = without_ours(shown).decode("utf-8")
    bad = [hex(ord(c)) for c in text if (ord(c) < 0x20 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F]
    assert not bad, (bad, text)


def test_reasoning_and_answer_reach_the_terminal_without_their_control_characters(cloud, ponder_home):
    cloud.server.script("/v1/chat/completions", cloud.Reply(pieces=cloud.odd(stream(cloud))))
    model_id = configure(ponder_home, cloud, "openai", cloud.server.url + "/v1")
    status, shown = on_terminal(ponder_home, cloud, "ask", "2+2?", "--model", model_id)
    assert status == 0, shown
    assert_no_controls(shown)
    text = without_ours(shown).decode("utf-8")
    assert "Thinking]52;c;aGVsbG8= hard." in text.replace("]0;pwned-title", "")  # the text itself stays
    assert "[2J[HFour31m red end\tok" in text
    assert shown.count(b"\x1b[2m") == 1 and shown.count(b"\x1b[0m") == 1  # Ponder's dimming is kept


def test_a_server_error_line_on_the_terminal_has_no_control_characters(cloud, ponder_home):
    body = json.dumps({"error": {"message": HOSTILE_ERROR}}).encode()
    cloud.server.script("/v1/chat/completions", cloud.Reply(status=400, content_type="application/json",
                                                            pieces=[body]))
    model_id = configure(ponder_home, cloud, "openai", cloud.server.url + "/v1")
    status, shown = on_terminal(ponder_home, cloud, "ask", "2+2?", "--model", model_id)
    assert status == 1, shown
    assert_no_controls(shown)
    assert b"bad request]0;owned[2J here" in shown


def test_json_on_a_terminal_escapes_every_control_character(cloud, ponder_home):
    cloud.server.script("/v1/chat/completions", cloud.Reply(pieces=[stream(cloud)]))
    model_id = configure(ponder_home, cloud, "openai", cloud.server.url + "/v1")
    status, shown = on_terminal(ponder_home, cloud, "ask", "2+2?", "--model", model_id, "--json")
    assert status == 0, shown
    assert_no_controls(shown)
    out = json.loads(shown.decode("utf-8"))
    assert out["answer"] == HOSTILE_ANSWER.rstrip("\n") or out["answer"] == HOSTILE_ANSWER  # the value is exact
    assert out["reasoning"] == HOSTILE_REASONING


def test_piped_output_is_passed_on_unchanged(cloud, ponder_home):
    """Only a terminal is protected: a pipe gets the model's text byte for byte."""
    cloud.server.script("/v1/chat/completions", cloud.Reply(pieces=[stream(cloud)]))
    model_id = configure(ponder_home, cloud, "openai", cloud.server.url + "/v1")
    result = subprocess.run([sys.executable, "-m", "app", "ask", "2+2?", "--model", model_id],
                            capture_output=True, env=env_for(ponder_home, cloud), timeout=60)
    assert result.returncode == 0, result.stderr
    assert HOSTILE_ANSWER.encode() in result.stdout
