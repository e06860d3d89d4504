"""Ctrl-C and SIGTERM on `ponder ask` (issue 15.9, 15.11): at any moment one clean end —
the partial result (JSON too), exit status 130 or 143, one line on stderr, no traceback.

The real bundled model; the log (PONDER_LOG_LEVEL=debug) tells the test when the process
has started, when the model starts loading and when the first token arrived.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

LONG = "Write a very long story about a dragon, at least 2000 words."
STARTED = "starts: ask"
LOADING = "ask: model smollm2-135m"
FIRST_TOKEN = "ask: the first token arrived"


def start(home, *args) -> subprocess.Popen:
    env = {**os.environ, "PONDER_HOME": str(home), "PONDER_LOG_LEVEL": "debug"}
    return subprocess.Popen([sys.executable, "-m", "app", "ask", *args], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def wait_for_log(home, proc, text: str, timeout: float = 60.0) -> None:
    log = home / "logs" / "ponder.log"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and text in log.read_text(encoding="utf-8"):
            return
        if proc.poll() is not None:
            raise AssertionError(f"ended before {text!r}: {proc.returncode} {proc.stderr.read()}")
        time.sleep(0.005)
    proc.kill()
    raise AssertionError(f"no {text!r} in the log within {timeout} s")


def finish(proc, timeout: float = 60.0) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def assert_one_clean_line(err: str, signum: int) -> None:
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"ponder: stopped by {'Ctrl-C' if signum == signal.SIGINT else 'SIGTERM'}"), err


@pytest.mark.model
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_mid_answer_prints_the_partial_json_and_exits_128_plus_its_number(ponder_home, signum):
    proc = start(ponder_home, LONG, "--max-tokens", "2000", "--temperature", "0", "--json")
    wait_for_log(ponder_home, proc, FIRST_TOKEN)
    time.sleep(0.5)
    proc.send_signal(signum)
    status, out, err = finish(proc)
    assert status == 128 + signum, err
    report = json.loads(out)
    assert report["finish_reason"] == "cancelled"
    assert report["answer"].strip() and 0 < report["stats"]["answer_tokens"] < 2000
    assert_one_clean_line(err, signum)
    assert "the answer is partial" in err


@pytest.mark.model
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_mid_answer_keeps_the_printed_text(ponder_home, signum):
    proc = start(ponder_home, LONG, "--max-tokens", "2000", "--temperature", "0")
    wait_for_log(ponder_home, proc, FIRST_TOKEN)
    time.sleep(0.5)
    proc.send_signal(signum)
    status, out, err = finish(proc)
    assert status == 128 + signum, err
    assert len(out.strip()) > 10
    assert_one_clean_line(err, signum)


@pytest.mark.model
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_while_the_model_loads_ends_the_turn_as_cancelled(ponder_home, signum):
    proc = start(ponder_home, LONG, "--max-tokens", "2000", "--json")
    wait_for_log(ponder_home, proc, LOADING)
    proc.send_signal(signum)
    status, out, err = finish(proc)
    assert status == 128 + signum, err
    assert json.loads(out)["finish_reason"] == "cancelled"
    assert_one_clean_line(err, signum)


@pytest.mark.model
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("delay", [0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.45, 0.7])
def test_a_signal_in_the_first_moments_is_one_line_and_no_traceback(ponder_home, signum, delay):
    """From the first line of the log on: imports, models.toml, the model load, the turn."""
    proc = start(ponder_home, LONG, "--max-tokens", "2000", "--json")
    wait_for_log(ponder_home, proc, STARTED)
    time.sleep(delay)
    proc.send_signal(signum)
    status, out, err = finish(proc)
    assert status == 128 + signum, (delay, err)
    assert_one_clean_line(err, signum)
    if out:  # the turn had begun (the model was loading or answering): its partial result
        assert json.loads(out)["finish_reason"] == "cancelled"


SECOND_SIGNAL = """
import os, signal, sys, time
from app.cli_signals import guard
guard.install()
with guard.stopping(lambda: print("stop pressed", flush=True)):  # a turn that does not stop
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.2)
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(30)
print("not reached")
"""


def test_a_second_signal_leaves_at_once_when_the_turn_does_not_stop():
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", SECOND_SIGNAL], capture_output=True, text=True, timeout=30)
    assert time.monotonic() - started < 20
    assert result.returncode == 130
    assert result.stdout == "stop pressed\n" and result.stderr == "ponder: stopped by Ctrl-C\n"
