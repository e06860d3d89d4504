"""`ponder ask` as a subprocess against a cloud entry of the replay server, configured under PONDER_HOME."""

from __future__ import annotations

import os
import subprocess
import sys

MODELS_TOML = """\
default = "{id}"

[[model]]
id = "{id}"
label = "Replay cloud"
role = "cloud"
backend = "{backend}"
base_url = "{base_url}"
model = "{model}"
api_key_env = "{env}"
context_window = 16384
enabled = true
{extra}
"""


def configure(home, cloud, backend: str, base_url: str, model: str = "replay-model", extra: str = "") -> str:
    model_id = f"replay-{backend}"
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "models.toml").write_text(MODELS_TOML.format(
        id=model_id, backend=backend, base_url=base_url, model=model, env=cloud.ENV, extra=extra))
    return model_id


def ponder(home, *args: str, key: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PONDER_TEST_CLOUD_KEY"}
    env.update(PONDER_HOME=str(home), PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    if key:
        env["PONDER_TEST_CLOUD_KEY"] = key
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, env=env, timeout=60)


def deepseek_stream(cloud) -> bytes:
    objs = [{"choices": [{"index": 0, "delta": {"role": "assistant", "reasoning_content": "Two plus two"}}]},
            {"choices": [{"index": 0, "delta": {"reasoning_content": " is four."}}]},
            {"choices": [{"index": 0, "delta": {"content": "4"}, "finish_reason": "stop"}]},
            {"choices": [], "usage": {"prompt_tokens": 14, "completion_tokens": 40,
                                      "completion_tokens_details": {"reasoning_tokens": 39}}}]
    return b"".join(cloud.sse(o) for o in objs) + cloud.sse("[DONE]")
