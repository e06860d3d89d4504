"""`ponder --self-test` checks settings.toml and the conversation store too (issue 15.14): a
broken settings file, a store that cannot open and a turn that is not saved each fail it with
the reason.

A broken store is made the way a bad build would break it: the store code is patched in the
self-test's own process (a schema SQLite cannot create, a save that fails) before it runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def self_test(home: Path, prelude: str = "", timeout: float = 240) -> subprocess.CompletedProcess:
    env = {**os.environ, "PONDER_HOME": str(home)}
    env.pop("QT_QPA_PLATFORM", None)
    code = f"import sys\n{prelude}\nfrom app.main import main\nsys.exit(main(['--self-test']))\n"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=timeout)


def failed_line(result) -> str:
    assert "self-test OK" not in result.stdout, result.stdout
    return result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("text, says", [
    ("memory_budget_gb = inf\n", 'line 1: "memory_budget_gb" in settings must be a number more than 0'),
    ('panel_default = "auto"\npanel_defualt = "auto"\n', 'line 2: unknown key "panel_defualt"'),
    ("max_tokens = [\n", "settings.toml"),
])
def test_a_broken_settings_file_fails_the_self_test(ponder_home, text, says):
    (ponder_home / "config").mkdir(parents=True)
    (ponder_home / "config" / "settings.toml").write_text(text, encoding="utf-8")
    result = self_test(ponder_home, timeout=120)
    assert result.returncode == 2, result.stderr
    line = failed_line(result)
    assert "self-test FAILED: " in line and says in line


BROKEN_SCHEMA = """
import app.store.schema as schema
schema.MIGRATIONS[0] = "CREATE VIRTUAL TABLE t USING no_such_module(x);"
"""

FAILING_SAVE = """
from app.store.conversations import Store
from app.store.db import StoreError
def save_message(self, *args, **kwargs):
    raise StoreError("Could not save the message: the disk is full.")
Store.save_message = save_message
"""


def test_a_store_that_cannot_open_fails_the_self_test(ponder_home):
    result = self_test(ponder_home, BROKEN_SCHEMA, timeout=120)
    assert result.returncode == 6, result.stderr
    assert "self-test FAILED: the conversation store does not open (OperationalError: no such module: " \
           "no_such_module)" in failed_line(result)


@pytest.mark.model
def test_a_turn_the_store_does_not_save_fails_the_self_test(ponder_home):
    result = self_test(ponder_home, FAILING_SAVE)
    assert result.returncode == 6, result.stderr
    assert failed_line(result).endswith(
        "self-test FAILED: the answered turn was not saved: Could not save the message: the disk is full.")


@pytest.mark.model
def test_the_self_test_leaves_no_database_in_the_users_data_folder(ponder_home):
    result = self_test(ponder_home)
    assert result.returncode == 0, result.stderr
    data = ponder_home / "data"
    assert not data.exists() or not any(data.iterdir())  # its database was a temporary one
