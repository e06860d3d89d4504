"""Qt's helper threads for big fills stay off: every core is computing the model already."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PAINT = """
import os, sys
if sys.argv[1] == "prepared":
    from app.ui.qt_environment import prepare_qt_environment
    prepare_qt_environment()
from PySide6.QtWidgets import QApplication, QScrollArea, QWidget
app = QApplication([])
inner = QWidget(); inner.resize(600, 5000)
area = QScrollArea(); area.setWidget(inner); area.resize(800, 700)
for _ in range(3):
    area.grab()  # the scroll bar's groove: a fill of hundreds of lines
names = [open(f"/proc/self/task/{t}/comm").read().strip() for t in os.listdir("/proc/self/task")]
print(sum(n == "Thread (pooled)" for n in names))
"""


def pooled_threads(mode: str) -> int:
    env = {k: v for k, v in os.environ.items() if k != "QT_NO_GUI_THREADPOOL"}
    env["QT_QPA_PLATFORM"] = "offscreen"
    out = subprocess.run([sys.executable, "-c", PAINT, mode], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120, check=True)
    return int(out.stdout.split()[-1])


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="counts threads through /proc")
def test_big_fills_run_on_the_gui_thread():
    assert pooled_threads("plain") >= 1  # Qt does hand them to helper threads by default
    assert pooled_threads("prepared") == 0


def test_a_value_the_user_set_is_kept(monkeypatch):
    from app.ui.qt_environment import prepare_qt_environment

    monkeypatch.setenv("QT_NO_GUI_THREADPOOL", "")
    prepare_qt_environment()
    assert os.environ["QT_NO_GUI_THREADPOOL"] == ""
    monkeypatch.delenv("QT_NO_GUI_THREADPOOL")
    prepare_qt_environment()
    assert os.environ["QT_NO_GUI_THREADPOOL"] == "1"
