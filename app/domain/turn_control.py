"""Stop and Answer now for one running turn, pressed from any thread.

The GUI thread (or a signal handler of ``ponder ask``) calls :meth:`TurnControl.stop` or
:meth:`TurnControl.answer_now`; the turn sees it in two ways: a local backend checks the
events per token and between prompt slices (its thread is busy generating), and the turn
runner, for a backend that awaits the network, is told through a listener so it can cancel
the call at once.
"""

from __future__ import annotations

import threading
from typing import Callable

Listener = Callable[[str], None]  # called with "stop", "answer-now" or "approval", on the caller's thread


class TurnControl:
    """The user's controls of one turn: ``stop()`` and ``answer_now()``, thread-safe."""

    def __init__(self) -> None:
        self.stop_event = threading.Event()
        self.answer_now_event = threading.Event()
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()
        self._approvals: dict[str, tuple[dict | None, str | None]] = {}

    @property
    def stopped(self) -> bool:
        return self.stop_event.is_set()

    @property
    def answer_now_requested(self) -> bool:
        return self.answer_now_event.is_set()

    def stop(self) -> None:
        """End the turn as soon as possible; what was produced is kept."""
        self.stop_event.set()
        self._notify("stop")

    def answer_now(self) -> None:
        """End the thinking now and let the model answer."""
        self.answer_now_event.set()
        self._notify("answer-now")

    def approve(self, call_id: str, arguments: dict, *, remember: str | None = None) -> None:
        """Run the waiting call ``call_id`` with ``arguments`` (the user may have edited them);
        ``remember`` "conversation" or "always" keeps allowing the tool."""
        with self._lock:
            self._approvals[call_id] = (dict(arguments), remember)
        self._notify("approval")

    def deny(self, call_id: str) -> None:
        """Do not run the waiting call ``call_id``; the model is told the user declined it."""
        with self._lock:
            self._approvals[call_id] = (None, None)
        self._notify("approval")

    def approval(self, call_id: str) -> tuple[dict | None, str | None] | None:
        """(arguments or None when denied, remember) once the user answered for ``call_id``."""
        with self._lock:
            return self._approvals.get(call_id)

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` on every later press; returns a function that removes it."""
        with self._lock:
            self._listeners.append(listener)

        def remove() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return remove

    def _notify(self, what: str) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(what)
