"""Switching to a model that is already resident (``ponder bench switch``): time from the
dropdown's choice to the model being ready again, through the worker thread."""

from __future__ import annotations

import statistics
import time

from PySide6.QtCore import QEventLoop, QTimer

from app.bench.harness import Pipeline


def _switch(pipe: Pipeline, model_id: str) -> float:
    loop = QEventLoop()
    pipe.session.model_ready.connect(loop.quit)
    QTimer.singleShot(120_000, loop.quit)
    t0 = time.perf_counter()
    pipe.session.set_model(model_id)
    loop.exec()
    pipe.session.model_ready.disconnect(loop.quit)
    return (time.perf_counter() - t0) * 1000


def bench_switch(runs: int = 5, a: str = "smollm2-135m", b: str = "smollm2-think") -> dict:
    pipe = Pipeline(a)
    pipe.load()
    first_load = _switch(pipe, b)  # b loads now; both are resident afterwards
    times = [_switch(pipe, m) for _ in range(runs) for m in (a, b)]
    pipe.close()
    return {"first_load_ms": round(first_load, 1), "resident_switch_ms": [round(t, 2) for t in times],
            "resident_switch_ms_max": round(max(times), 2), "resident_switch_ms_median": round(statistics.median(times), 2)}
