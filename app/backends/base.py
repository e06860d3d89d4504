"""What every backend offers the chat session: a request type and the Backend protocol.

Backends are generators of typed turn events (``app.domain.events``): a local and a cloud
backend look the same to the session. ``stream`` runs on a worker thread (local) and checks
``stop`` cooperatively; it never touches Qt.
"""

from __future__ import annotations

import threading
from typing import Callable, Iterator, Protocol

from app.domain.events import TurnEvent
from app.domain.profiles import ModelProfile
from app.domain.turn_request import TurnRequest

__all__ = ["Backend", "TurnRequest"]


class Backend(Protocol):
    """A loaded (or loadable) model that runs turns."""

    profile: ModelProfile

    def load(self, progress: Callable[[str], None] | None = None) -> None:
        """Make the model ready (blocking; call it off the GUI thread)."""

    def stream(self, request: TurnRequest, stop: threading.Event,
               answer_now: threading.Event | None = None) -> Iterator[TurnEvent]:
        """Run one turn, yielding turn events; ends with exactly one ``TurnFinished``.

        ``answer_now``, when set, asks the backend to end the thinking and answer."""

    def close(self) -> None:
        """Free the model's memory."""
