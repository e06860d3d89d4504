"""`ponder models --json`: GGUF facts, memory estimates and fit verdicts; bad files are per-model errors."""

import json
import os
import subprocess
import sys

import pytest

FIT_STATUSES = {"fits", "tight", "won't fit"}


def ponder(*args, home, timeout=120):
    env = {**os.environ, "PONDER_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


@pytest.fixture
def models_toml(ponder_home):
    folder = ponder_home / "config"
    folder.mkdir(parents=True)
    return folder / "models.toml"


def test_builtin_local_entries_have_file_facts_and_fit(ponder_home):
    result = ponder("models", "--json", home=ponder_home)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    machine = out["machine"]
    assert 0 < machine["available_bytes"] <= machine["total_bytes"]
    by_id = {m["id"]: m for m in out["models"]}
    for model_id in ("smollm2-135m", "smollm2-think"):
        m = by_id[model_id]
        assert "error" not in m
        assert m["path"].endswith("SmolLM2-135M-Instruct.Q4_1.gguf")
        assert 90e6 < m["size_bytes"] < 110e6
        assert m["architecture"] == "llama"
        assert 130e6 < m["parameters"] < 140e6
        assert m["quantization"] == "Q4_1"
        assert m["training_context"] == 8192 and m["n_ctx"] == 8192
        assert m["supports_thinking"] is False and m["forced_open"] is False
        mem = m["memory"]
        assert mem["weights_bytes"] > 90e6 and mem["kv_cache_bytes"] == 2 * 30 * 8192 * 3 * 64 * 2
        assert mem["total_bytes"] == mem["weights_bytes"] + mem["kv_cache_bytes"] + mem["overhead_bytes"]
        assert m["fit"]["verdict"] in FIT_STATUSES
        assert "Needs about" in m["fit"]["explanation"] and "8,192 tokens" in m["fit"]["explanation"]
    cloud = by_id["deepseek-reasoner"]
    assert cloud["base_url"] == "https://api.deepseek.com/v1" and cloud["model"] == "deepseek-reasoner"
    assert "memory" not in cloud and "fit" not in cloud


def test_unreadable_model_files_are_errors_of_that_model(ponder_home, models_toml, tmp_path):
    missing = tmp_path / "nowhere" / "model.gguf"
    not_gguf = tmp_path / "notes.gguf"
    not_gguf.write_text("this is not a model")
    models_toml.write_text(f"""
default = "small"

[[model]]
id = "small"
role = "instruct"
backend = "llama"
path = "bundled:smollm2"
n_ctx = 2048

[[model]]
id = "gone"
role = "reasoning"
backend = "llama"
path = "{missing}"

[[model]]
id = "junk"
role = "instruct"
backend = "llama"
path = "{not_gguf}"

[[model]]
id = "server"
role = "cloud"
backend = "openai"
base_url = "http://127.0.0.1:8080/v1"
model = "local"
""")
    result = ponder("models", "--json", home=ponder_home)
    assert result.returncode == 0, result.stderr
    by_id = {m["id"]: m for m in json.loads(result.stdout)["models"]}
    assert by_id["small"]["n_ctx"] == 2048 and by_id["small"]["fit"]["verdict"] in FIT_STATUSES
    assert by_id["small"]["memory"]["kv_cache_bytes"] == 2 * 30 * 2048 * 3 * 64 * 2
    gone = by_id["gone"]
    assert "not found" in gone["error"] and str(missing) in gone["error"] and "fit" not in gone
    assert "not a GGUF model file" in by_id["junk"]["error"]
    assert by_id["server"]["needs_key"] is None and "error" not in by_id["server"]

    text = ponder("models", home=ponder_home)
    assert text.returncode == 0, text.stderr
    assert "error: Model file not found" in text.stdout and "Q4_1" in text.stdout
