"""Measures how long the GUI thread's event loop was blocked (timer-lag probe).

A QTimer asks to fire every ``interval_ms``; every gap longer than that is time the GUI
thread could not process events (a stall). Report p99 and max of the excess.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Qt, QTimer


class StallProbe(QObject):
    """Start it, do the work, stop it, read ``stalls_ms``/``summary()``."""

    def __init__(self, interval_ms: int = 5, parent: QObject | None = None):
        super().__init__(parent)
        self.interval_ms = interval_ms
        self.ticks = 0
        self.stalls_ms: list[float] = []
        self._last: float | None = None
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.stalls_ms.append(max(0.0, (now - self._last) * 1000 - self.interval_ms))
        self._last = now
        self.ticks += 1

    def summary(self) -> dict:
        data = sorted(self.stalls_ms) or [0.0]
        p99 = data[min(len(data) - 1, int(0.99 * len(data)))]
        return {"ticks": self.ticks, "p99_stall_ms": round(p99, 2), "max_stall_ms": round(data[-1], 2)}
