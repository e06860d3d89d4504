"""Suite-wide fixtures: every test runs with PONDER_HOME in a temporary folder, Qt offscreen."""

import os
import sys
from pathlib import Path

import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Also for module- and session-scoped fixtures, which run before the per-test fixture below.
os.environ["PONDER_HOME"] = tempfile.mkdtemp(prefix="ponder-tests-")
sys.path.insert(0, str(Path(__file__).parent))  # for `helpers`

import pytest


@pytest.fixture(autouse=True)
def ponder_home(tmp_path, monkeypatch):
    """Point PONDER_HOME at a fresh temporary folder so no test touches real user folders."""
    home = tmp_path / "ponder-home"
    monkeypatch.setenv("PONDER_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def collect_qt_garbage_on_the_gui_thread():
    """Qt objects a test leaves in reference cycles are freed here, on the GUI thread.

    Otherwise Python's cyclic collector may free them later from whichever thread happens to
    allocate (a model worker), and Qt warns that timers cannot be stopped from another thread.
    """
    yield
    import gc

    gc.collect()
