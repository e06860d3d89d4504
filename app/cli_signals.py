"""Ctrl-C (SIGINT) and SIGTERM for the command line: a clean end and the shell's exit status.

One :class:`SignalGuard` per process, installed before anything slow is imported. Until a
turn runs, a signal raises :class:`Interrupted`, which unwinds whatever was going on
(imports, reading the config) to ``ponder``'s top level: one line, exit 130 or 143. While a
turn runs (:meth:`SignalGuard.stopping`, which covers the model load too), a signal calls the
turn's stop instead: the turn ends the way Stop ends it in the window and the command prints
the partial result (JSON too); a second signal, if the turn does not end, leaves at once.
After the turn, signals are only recorded. Either way the exit status is 128 + the number
of the first signal, as shells expect.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager

SIGNALS = (signal.SIGINT, signal.SIGTERM)


def signal_name(signum: int) -> str:
    return "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name


class Interrupted(KeyboardInterrupt):
    """A signal arrived before the turn started; ``exit_status`` is 128 + its number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
        self.exit_status = 128 + signum

    def __str__(self) -> str:
        return f"stopped by {signal_name(self.signum)}"


class SignalGuard:
    """Catches SIGINT and SIGTERM for a command-line run (see the module docstring)."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._stop: Callable[[], None] | None = None
        self._turn_over = False

    @property
    def exit_status(self) -> int | None:
        """128 + the first signal's number, or None when no signal arrived."""
        return None if self.signum is None else 128 + self.signum

    def install(self) -> None:
        for signum in SIGNALS:
            signal.signal(signum, self._handle)

    @contextmanager
    def stopping(self, stop: Callable[[], None]) -> Iterator[None]:
        """While inside, a signal calls ``stop()`` (a signal that came already calls it at once)."""
        self._stop = stop
        if self.signum is not None:
            stop()
        try:
            yield
        finally:
            self._stop = None
            self._turn_over = True

    def _handle(self, signum: int, _frame) -> None:
        first = self.signum is None
        if first:
            self.signum = signum
        if self._turn_over and self._stop is None:
            return
        if first and self._stop is not None:
            self._stop()
        elif first:
            raise Interrupted(signum)
        else:  # the turn did not end after the first signal, or the first one is still unwinding
            os.write(2, f"ponder: stopped by {signal_name(signum)}\n".encode())
            os._exit(128 + (self.signum or signum))


guard = SignalGuard()
"""The process's guard: app.main installs it first thing, ``ponder ask`` stops its turn through it."""
