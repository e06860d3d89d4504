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

Listener = Callable[[str], None]  # called with "stop" or "answer-now", on the caller's thread


class TurnControl:
    """The user's controls of one turn: ``stop()`` and ``answer_now()``, thread-safe."""

    def __init__(self) -> None:
        self.stop_event = threading.Event()
        self.answer_now_event = threading.Event()
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

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
