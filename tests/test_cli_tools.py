"""`ponder ask --tools ... --yes --json`: the same tool loop headless, reported in the JSON."""

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.model


def ask(home, *args):
    env = {**os.environ, "PONDER_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "app", "ask", *args], capture_output=True, text=True, env=env,
                          timeout=180)


def configure_hermes(home):
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "models.toml").write_text(
        'default = "m"\n\n[[model]]\nid = "m"\nlabel = "M"\nrole = "instruct"\nbackend = "llama"\n'
        'path = "bundled:smollm2"\ntool_format = "hermes"\ntemperature = 0.0\n', encoding="utf-8")


def test_an_unknown_tool_is_one_line(ponder_home):
    configure_hermes(ponder_home)
    out = ask(ponder_home, "hi", "--tools", "weather")
    assert out.returncode != 0 and "no tool or MCP server named" in out.stderr and "calculator" in out.stderr
    assert "Traceback" not in out.stderr


def test_tools_in_the_json_report(ponder_home):
    configure_hermes(ponder_home)
    out = ask(ponder_home, "What is 6 times 7? Call the calculator.", "--tools", "calculator", "--json",
              "--max-tokens", "48")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["context"]["segments"]["tools"] > 20  # the calculator's schema was in the prompt
