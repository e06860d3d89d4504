"""The context gauge's live numbers: what the streaming (or last) turn fills, and the forecast.

The chat session calls :meth:`LiveUsage.update` whenever the streaming message changed (at
most ~30 times a second); the gauge listens to ``usage_changed``.

Signals:
    usage_changed(object context_usage, object forecast)
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Signal

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


class LiveUsage(QObject):
    """Emits the usage and forecast of the message it is given (see module docstring)."""

    usage_changed = Signal(object, object)

    def update(self, message: AssistantMessage, max_tokens: int) -> None:
        self.usage_changed.emit(*usage_of(message, max_tokens))
