"""Coalesce many update requests into at most one call per interval (qutebrowser's Throttle).

A request after a quiet interval fires at once; one that comes sooner is held until the
interval since the last call has passed. So a stream whose updates are already an interval
apart wakes the GUI once per update, not once for the update and once more for a timer.

Signals:
    fired() — at most once per ``interval_ms``; never later than one interval after a request.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Qt, QTimer, Signal

# How often a streaming message is drawn at most, and how long the model worker may hold fast
# local tokens before it hands them on (:func:`app.controllers.turn_runner.drive_turn`): one
# GUI wake-up per frame. On a machine whose every core decodes, each wake-up takes its time
# from llama.cpp's threads; 20 frames a second still show a 100 tok/s stream as it comes.
FRAME_S = 0.05


class Throttle(QObject):
    """``request()`` as often as you like; ``fired`` comes at most every ``interval_ms``."""

    fired = Signal()

    def __init__(self, interval_ms: int = round(FRAME_S * 1000), parent: QObject | None = None):
        super().__init__(parent)
        self._interval_s = interval_ms / 1000
        self._last = float("-inf")  # when fired was last emitted (monotonic seconds)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._fire)

    def request(self) -> None:
        if self._timer.isActive():
            return
        wait = self._last + self._interval_s - time.monotonic()
        if wait <= 0:
            self._fire()
        else:
            self._timer.start(max(1, round(wait * 1000)))

    def fire_now(self) -> None:
        """Fire now, pending request or not; the next interval starts now."""
        self._timer.stop()
        self._fire()

    def flush(self) -> None:
        """Fire now if a request is pending (e.g. when the turn ends)."""
        if self._timer.isActive():
            self._timer.stop()
            self._fire()

    def _fire(self) -> None:
        self._last = time.monotonic()
        self.fired.emit()
