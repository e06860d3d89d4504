"""Coalesce many update requests into at most one call per interval (qutebrowser's Throttle).

A request after a quiet interval fires at once; one that comes sooner is held until the
interval since the last call has passed. "After a quiet interval" has a slack of a quarter
interval, so updates that come an interval apart, give or take the scheduler's jitter, fire
as they come: a stream already paced at the interval wakes the GUI once per update, not once
for the update and again for a timer a millisecond later.

With ``hold_ms`` the timer is only a fallback: a held request fires on the first later
request that is due (with the same slack), or after ``hold_ms`` if none comes. A slower
throttle (the context gauge) then fires on one of a faster stream's wake-ups, not between them.

Signals:
    fired() — never sooner than three quarters of ``interval_ms`` after the last; under a
        steady stream of requests (without ``hold_ms``) ``interval_ms`` apart.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Qt, QTimer, Signal

# How often a streaming message is drawn at most, and how long the model worker may hold fast
# local tokens before it hands them on (:func:`app.controllers.turn_runner.drive_turn`): one
# GUI wake-up per frame. On a machine whose every core decodes, each wake-up takes its time
# from llama.cpp's threads; 20 frames a second still show a 100 tok/s stream as it comes.
FRAME_S = 0.05
SLACK = 0.25  # of the interval: a request this close to being due is due


class Throttle(QObject):
    """``request()`` as often as you like; ``fired`` comes at most every ``interval_ms``."""

    fired = Signal()

    def __init__(self, interval_ms: int = round(FRAME_S * 1000), parent: QObject | None = None, *,
                 hold_ms: int | None = None):
        super().__init__(parent)
        self._interval_s = interval_ms / 1000
        self._hold_ms = hold_ms
        self._last = float("-inf")  # when fired was last emitted (monotonic seconds)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._fire)

    def request(self) -> None:
        wait = self._last + self._interval_s - time.monotonic()
        if wait <= self._interval_s * SLACK and (self._hold_ms is not None or not self._timer.isActive()):
            self._fire()
        elif not self._timer.isActive():
            self._timer.start(self._hold_ms if self._hold_ms is not None else max(1, round(wait * 1000)))

    def fire_now(self) -> None:
        """Fire now, pending request or not; the next interval starts now."""
        self._fire()

    def flush(self) -> None:
        """Fire now if a request is pending (e.g. when the turn ends)."""
        if self._timer.isActive():
            self._fire()

    def _fire(self) -> None:
        self._timer.stop()
        self._last = time.monotonic()
        self.fired.emit()
