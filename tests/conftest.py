"""Suite-wide fixtures: every test runs with PONDER_HOME in a temporary folder, Qt offscreen."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest


@pytest.fixture(autouse=True)
def ponder_home(tmp_path, monkeypatch):
    """Point PONDER_HOME at a fresh temporary folder so no test touches real user folders."""
    home = tmp_path / "ponder-home"
    monkeypatch.setenv("PONDER_HOME", str(home))
    return home
