"""The context gauge's live numbers: what the streaming (or last) turn fills, and the forecast.

The chat session calls :meth:`LiveUsage.update` whenever the streaming message changed (at
most ~20 times a second); the gauge listens to ``usage_changed``, which comes about every
:data:`GAUGE_S` while a message streams (a counter read by eye; every repaint of the gauge
takes time from decoding when all cores decode), at once when the forecast's warning turns
on or off and when the message is finished. It comes with one of the message's updates, so
the gauge is drawn in the same pass as the message; an update held because none followed
shows :data:`GAUGE_S` later.

Signals:
    usage_changed(object context_usage, object forecast)
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Signal

from app.controllers.throttle import Throttle
from app.domain.context_budget import ContextUsage, Forecast, thinking_forecast
from app.domain.messages import AssistantMessage


def usage_of(message: AssistantMessage, max_tokens: int, now: float | None = None) -> tuple[ContextUsage, Forecast]:
    """The gauge's numbers for a streaming or finished message, with the thinking forecast."""
    usage = ContextUsage.from_stats(message.stats)
    block = message.open_block
    if block is None or message.finished:
        return usage, Forecast(False)
    now = time.monotonic() if now is None else now
    return usage, thinking_forecast(usage, thinking_s=now - block.start,
                                    reasoning_tokens=message.stats.reasoning_tokens,
                                    max_tokens_left=max_tokens - message.stats.generated_tokens)


GAUGE_S = 0.2


class LiveUsage(QObject):
    """Emits the usage and forecast of the message it is given (see module docstring)."""

    usage_changed = Signal(object, object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._latest: tuple[ContextUsage, Forecast] | None = None
        self._warning = False
        self._throttle = Throttle(round(GAUGE_S * 1000), self, hold_ms=round(GAUGE_S * 1000))
        self._throttle.fired.connect(self._emit_latest)

    def update(self, message: AssistantMessage, max_tokens: int) -> None:
        self._latest = usage_of(message, max_tokens)
        if message.finished or self._latest[1].warning != self._warning:
            self._throttle.fire_now()
        else:
            self._throttle.request()

    def _emit_latest(self) -> None:
        usage, forecast = self._latest
        self._warning = forecast.warning
        self.usage_changed.emit(usage, forecast)
