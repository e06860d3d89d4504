"""Cold start: from process start to the window shown and ready for input (model excluded).

Runs ``python -m app --startup-probe`` in a fresh process (offscreen, temporary PONDER_HOME);
the app prints when its first event-loop pass after ``show()`` runs, then quits.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time


def bench_startup(runs: int = 3, command: list[str] | None = None) -> dict:
    command = command or [sys.executable, "-m", "app"]
    wall, internal = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as home:
            env = {**os.environ, "PONDER_HOME": home, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
            t0 = time.perf_counter()
            proc = subprocess.Popen([*command, "--startup-probe"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True, env=env)
            line = proc.stdout.readline()
            wall.append(time.perf_counter() - t0)
            proc.wait(timeout=60)
            if not line.startswith("window ready after"):
                raise RuntimeError(f"no start-up line: {line!r} {proc.stderr.read()[-2000:]}")
            internal.append(float(line.split()[3]))
    return {
        "process_to_window_ready_s": [round(x, 3) for x in wall],
        "median_s": round(statistics.median(wall), 3),
        "in_process_s_median": round(statistics.median(internal), 3),
    }
