"""Coalesce many update requests into at most one call per interval (qutebrowser's Throttle).

Signals:
    fired() — at most once per ``interval_ms``; never later than one interval after a request.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal


class Throttle(QObject):
    """``request()`` as often as you like; ``fired`` comes at most every ``interval_ms``."""

    fired = Signal()

    def __init__(self, interval_ms: int = 33, parent: QObject | None = None):
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.fired)

    def request(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Fire now if a request is pending (e.g. when the turn ends)."""
        if self._timer.isActive():
            self._timer.stop()
            self.fired.emit()
