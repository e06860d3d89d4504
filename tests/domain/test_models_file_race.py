"""First run, several Ponders at once (issue 15.10): each gets a whole models.toml and none
blames the folder's permissions.

Processes on a fresh PONDER_HOME are released together at one instant (they import first,
then wait for it), so their first-run writes of models.toml overlap.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from app.domain.config import builtin_models_path

ROUNDS = 12
PROCESSES = 4

RACER = """
import sys, time
from app.domain.config import ensure_models_file, load_models
go = float(sys.argv[1])
while time.time() < go - 0.01:
    time.sleep(0.002)
while time.time() < go:
    pass
config = load_models(ensure_models_file())
print(len(config.models))
"""


def race(home) -> list[subprocess.CompletedProcess]:
    env = {**os.environ, "PONDER_HOME": str(home)}
    go = time.time() + 1.0  # after every racer has imported
    racers = [subprocess.Popen([sys.executable, "-c", RACER, repr(go)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env) for _ in range(PROCESSES)]
    results = []
    for proc in racers:
        out, err = proc.communicate(timeout=60)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return results


def test_processes_starting_together_all_read_a_whole_models_file(tmp_path):
    builtin = builtin_models_path().read_bytes()
    failures = []
    for n in range(ROUNDS):
        home = tmp_path / f"home-{n}"
        for result in race(home):
            if result.returncode != 0:
                failures.append(result.stderr.strip().splitlines()[-1])
        assert (home / "config" / "models.toml").read_bytes() == builtin
        assert sorted(p.name for p in (home / "config").iterdir()) == ["models.toml"]  # no temporary left
    assert not failures, f"{len(failures)} of {ROUNDS * PROCESSES} failed: {failures[0]}"


def test_an_unwritable_config_folder_is_named_as_such(tmp_path, monkeypatch):
    """Not a race: the folder itself cannot take the file (a file stands where it should be)."""
    from app.domain.config import ensure_models_file
    from app.errors import FolderError

    monkeypatch.setenv("PONDER_HOME", str(tmp_path))
    (tmp_path / "config").mkdir()
    monkeypatch.setattr("app.domain.config.tempfile.mkstemp",
                        lambda **kw: (_ for _ in ()).throw(PermissionError(13, "Permission denied")))
    with pytest.raises(FolderError) as info:
        ensure_models_file()
    assert info.value.folder == tmp_path / "config" and "Permission denied" in str(info.value)
