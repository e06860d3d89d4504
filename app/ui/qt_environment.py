"""Qt settings that must be in place before the QApplication exists.

Qt's raster engine hands every fill of 96 or more lines (a scroll bar's groove, a panel's
background) to a pool of helper threads and waits for them. In Ponder every core is already
computing the model while a window repaints, so the helpers can only run by preempting the
model's threads, and the GUI thread waits until they have. Measured during the evaluation of
a 1,060-token prompt (2 cores): the GUI thread was preempted 380–970 times and two helper
threads woke 100–550 times each; the machine switched context 790–2,430 times against
290–340 while raw llama-cpp-python evaluated the same prompt. With the pool off (Qt's own
switch, ``QT_NO_GUI_THREADPOOL``), the fills run on the GUI thread itself: 8–12 preemptions,
410–490 context switches.
"""

from __future__ import annotations

import os


def prepare_qt_environment() -> None:
    """Call before creating the QApplication; a value the user set is kept."""
    os.environ.setdefault("QT_NO_GUI_THREADPOOL", "1")
