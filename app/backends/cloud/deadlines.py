"""The time limits of one cloud model call, kept by Ponder around every wait on the server.

httpx's own timeouts bound opening the connection and each socket read, but a server that
sends keep-alive comments (``: ping``) or empty heartbeat events satisfies a read timeout
forever. So every wait of a call — for the response, for the next event, for an error body,
for a retry — goes through :meth:`CallDeadlines.within`, which puts an asyncio deadline on
it: the first-token limit until the first meaningful event (see
:meth:`app.backends.cloud.base.TurnReader.feed`), then the idle limit from the latest one,
never later than the call's total cap (:class:`app.domain.profiles.CallTimeouts`).

A deadline wraps one ``await`` only, never a ``yield`` to the caller, so it always cancels
the wait it guards. Stop still wins at once: the turn runner's ``task.cancel()`` is a second
cancellation, which ``asyncio.timeout`` passes on as ``CancelledError`` instead of turning
it into an expired limit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Callable, TypeVar

from app.domain.profiles import CallTimeouts

T = TypeVar("T")

# Reading the body of an error reply: a sentence fits in far less; a server that keeps
# sending (or trickles) must not hold the turn.
ERROR_BODY_SECONDS = 10.0


class LimitReached(Exception):
    """A limit of the call ran out; ``which`` is "first_token", "idle", "total" or "error_body"."""

    def __init__(self, which: str, seconds: float) -> None:
        super().__init__(which)
        self.which = which
        self.seconds = seconds


class CallDeadlines:
    """The deadlines of one model call, on the event loop's clock."""

    def __init__(self, limits: CallTimeouts, now: Callable[[], float]) -> None:
        self.limits = limits
        self._now = now
        self.started = now()
        self.sent = self.started  # the latest request went out
        self.last_progress: float | None = None  # the latest meaningful event of this request
        self.heard_bytes = 0  # bytes of the response body read by then
        self.error_body_until = self.started

    def request_sent(self) -> None:
        """A (new) request goes out: the first-token limit starts again."""
        self.sent = self._now()
        self.last_progress = None
        self.heard_bytes = 0

    def reading_error_body(self) -> None:
        """The body of an error reply is read from now on, for at most ``ERROR_BODY_SECONDS``."""
        self.error_body_until = self._now() + ERROR_BODY_SECONDS

    def progressed(self, body_bytes: int) -> None:
        """A meaningful event arrived, ``body_bytes`` into the body: the idle limit starts again."""
        self.last_progress = self._now()
        self.heard_bytes = body_bytes

    @property
    def answering(self) -> bool:
        """A meaningful event has arrived for the current request."""
        return self.last_progress is not None

    def _deadline(self, which: str) -> tuple[float, str, float]:
        total = (self.started + self.limits.total, "total", self.limits.total)
        if which == "total":
            return total
        if which == "error_body":
            own = (self.error_body_until, "error_body", ERROR_BODY_SECONDS)
        elif self.last_progress is None:
            own = (self.sent + self.limits.first_token, "first_token", self.limits.first_token)
        else:
            own = (self.last_progress + self.limits.idle, "idle", self.limits.idle)
        return own if own[0] < total[0] else total

    async def within(self, awaitable: Awaitable[T], which: str = "answer") -> T:
        """``await awaitable`` before the deadline that applies (``which``: "answer" for the
        response and its events, "error_body", or "total" alone for a retry's wait); raises
        :class:`LimitReached` when it passes."""
        when, limit, seconds = self._deadline(which)
        scope = asyncio.timeout_at(when)
        try:
            async with scope:
                return await awaitable
        except TimeoutError:
            if scope.expired():
                raise LimitReached(limit, seconds) from None
            raise
