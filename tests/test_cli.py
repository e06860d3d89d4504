"""`ponder ask` end to end on the real model, and `ponder models`."""

import json
import os
import subprocess
import sys

import pytest

from app.domain.steering import GRACE_TOKENS

STATS_KEYS = {"prompt_tokens", "reasoning_tokens", "answer_tokens", "ttft_s", "first_answer_s", "thinking_s",
              "total_s", "tokens_per_s"}
SEGMENTS = {"system", "history", "carried_reasoning", "tools", "reasoning", "answer", "free"}


def ponder(*args, home, timeout=180):
    env = {**os.environ, "PONDER_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


@pytest.mark.model
def test_ask_json_follows_the_interface(ponder_home):
    result = ponder("ask", "What is the capital of France?", "--json", "--max-tokens", "40", home=ponder_home)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["model"] == "smollm2-135m"
    assert isinstance(out["answer"], str) and out["answer"].strip()
    assert out["reasoning"] == "" and out["reasoning_truncated"] is False
    assert out["finish_reason"] in ("stop", "length")
    assert STATS_KEYS <= out["stats"].keys()
    stats, ctx = out["stats"], out["context"]
    assert stats["answer_tokens"] > 0 and stats["reasoning_tokens"] == 0 and stats["prompt_tokens"] > 0
    assert stats["ttft_s"] > 0 and stats["total_s"] >= stats["ttft_s"]
    assert ctx["n_ctx"] == 8192 and set(ctx["segments"]) == SEGMENTS
    assert ctx["used"] == stats["prompt_tokens"] + stats["answer_tokens"]
    assert sum(v for k, v in ctx["segments"].items() if k != "free") == ctx["used"]
    assert ctx["segments"]["free"] == ctx["n_ctx"] - ctx["used"]


@pytest.mark.model
def test_ask_reasoning_model_prints_reasoning_apart(ponder_home):
    result = ponder("ask", "What is 2 plus 2?", "--model", "smollm2-think", "--thinking-budget", "16",
                    "--max-tokens", "60", home=ponder_home)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("> ")  # reasoning, prefixed when not on a terminal
    answer_lines = [line for line in lines if line and not line.startswith("> ")]
    assert answer_lines, result.stdout


def test_unknown_model_is_a_one_line_error(ponder_home):
    result = ponder("ask", "hi", "--model", "nope", home=ponder_home)
    assert result.returncode != 0
    assert result.stderr.startswith("ponder: ") and "nope" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_models_json_lists_builtin_entries(ponder_home):
    result = ponder("models", "--json", home=ponder_home)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    ids = {m["id"] for m in out["models"]}
    assert {"smollm2-135m", "smollm2-think"} <= ids and out["default"] == "smollm2-135m"
    assert (ponder_home / "config" / "models.toml").exists()


@pytest.mark.model
def test_ask_json_reasoning_fields(ponder_home):
    result = ponder("ask", "Is 9 a prime number?", "--model", "smollm2-think", "--thinking-budget", "6",
                    "--max-tokens", "40", "--temperature", "0", "--json", home=ponder_home)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    stats = out["stats"]
    assert out["reasoning"].strip() and out["answer"].strip()
    assert out["finish_reason"] in ("budget", "length")
    assert 6 <= stats["reasoning_tokens"] <= 6 + GRACE_TOKENS  # cut on a token boundary, in the grace window
    assert stats["injected_tokens"] > 0 and stats["answer_tokens"] > 0
    assert 0 < stats["thinking_s"] <= stats["first_answer_s"] <= stats["total_s"]
    assert out["reasoning_truncated"] is False and out["blocks"][0]["budget_cut"] is True
    ctx = out["context"]
    assert ctx["segments"]["reasoning"] == stats["reasoning_tokens"] + stats["injected_tokens"]


def test_ask_with_an_unreadable_model_file_is_a_one_line_error(ponder_home, tmp_path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a model at all")
    config = ponder_home / "config"
    config.mkdir(parents=True)
    (config / "models.toml").write_text(
        'default = "bad"\n\n[[model]]\nid = "bad"\nlabel = "Bad"\nrole = "instruct"\nbackend = "llama"\n'
        f'path = "{bad}"\n')
    result = ponder("ask", "hi", home=ponder_home)
    assert result.returncode != 0
    assert result.stderr.startswith("ponder: ") and "not a GGUF model file" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
