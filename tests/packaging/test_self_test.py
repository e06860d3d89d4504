"""`ponder --self-test` from the source tree: one answer through the full pipeline, or a reason.

(The same flag on the built app is what packaging/smoke_test.sh and `make package-test` run.)
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUMMARY = re.compile(
    r"^Ponder \S+ self-test OK: model (?P<model>\S+), (?P<tokens>\d+) tokens, (?P<rate>[\d.]+|n/a) tokens/s, "
    r"(?P<seconds>[\d.]+) s \(load [\d.]+ s, total [\d.]+ s\)$"
)


def self_test(home: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    env = {**os.environ, "PONDER_HOME": str(home)}
    env.pop("QT_QPA_PLATFORM", None)  # the self-test must choose offscreen by itself
    return subprocess.run([sys.executable, "-m", "app", "--self-test"], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=timeout)


@pytest.mark.model
def test_self_test_answers_with_the_bundled_model_and_prints_one_line(ponder_home):
    result = self_test(ponder_home)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.stdout
    match = SUMMARY.match(lines[0])
    assert match, lines[0]
    assert match["model"] == "smollm2-135m"
    assert int(match["tokens"]) > 0 and float(match["seconds"]) > 0
    assert "(packaged)" not in lines[0]  # the source tree says so only when frozen
    assert (ponder_home / "config" / "models.toml").is_file()  # PONDER_HOME was honoured


def test_missing_default_model_fails_with_the_reason(ponder_home):
    config = ponder_home / "config"
    config.mkdir(parents=True)
    (config / "models.toml").write_text(
        'default = "gone"\n\n'
        "[[model]]\n"
        'id = "gone"\n'
        'label = "A model that was deleted"\n'
        'role = "instruct"\n'
        'backend = "llama"\n'
        'path = "models/deleted.gguf"\n',
        encoding="utf-8",
    )
    result = self_test(ponder_home, timeout=120)
    assert result.returncode not in (0, 1), result.stderr  # a diagnosed failure, not a crash
    last = result.stderr.strip().splitlines()[-1]
    assert "self-test FAILED" in last
    assert "gone" in last and str(config / "models" / "deleted.gguf") in last
    assert result.stdout == ""


def test_broken_models_toml_fails_before_loading_anything(ponder_home):
    config = ponder_home / "config"
    config.mkdir(parents=True)
    (config / "models.toml").write_text('default = "x"\ntemprature = 3\n', encoding="utf-8")
    result = self_test(ponder_home, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "self-test FAILED" in result.stderr and "temprature" in result.stderr
