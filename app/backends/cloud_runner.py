"""The cloud runner: runs cloud turns as asyncio tasks on the GUI thread's (qasync) loop.

It offers the chat session the same signals as :class:`app.backends.worker.ModelWorker`, so
a local and a cloud model look the same to it. There is no thread: the HTTP stream is
awaited on the qasync loop, so events are emitted on the GUI thread, in batches (one per
provider event, each ending with its token counts). :meth:`CloudRunner.stop` cancels the
task, which closes the connection at once; the turn then ends as ``"cancelled"`` with what
had streamed.

Signals:
    load_started(str model_id)                 never emitted (nothing to load)
    load_finished(str model_id, float seconds) never emitted
    load_failed(str model_id, str message)     never emitted (faults end the turn instead)
    turn_events(object list_of_events)
    turn_done()
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from typing import Callable

import httpx
from PySide6.QtCore import QObject, Signal

from app.backends.cloud.base import CloudBackend
from app.domain import events as ev
from app.domain.profiles import ModelProfile
from app.domain.turn_request import TurnRequest
from app.errors import PonderError

log = logging.getLogger(__name__)

CloudFactory = Callable[[ModelProfile], CloudBackend]
FLUSH = (ev.TurnStarted, ev.TokenCounts, ev.Usage, ev.RetryWait, ev.TurnFinished)


def ensure_asyncgen_hooks(loop: asyncio.AbstractEventLoop) -> None:
    """Let ``loop`` finalize abandoned async generators, as ``BaseEventLoop.run_forever`` does.

    qasync's loop does not install these hooks, so an httpx stream left mid-iteration (a fault
    in the middle of an answer) would be finalized by the garbage collector outside the loop
    ("async generator ignored GeneratorExit"). Installed once for the GUI thread.
    """
    firstiter = getattr(loop, "_asyncgen_firstiter_hook", None)
    finalizer = getattr(loop, "_asyncgen_finalizer_hook", None)
    if firstiter is not None and finalizer is not None and sys.get_asyncgen_hooks().finalizer is None:
        sys.set_asyncgen_hooks(firstiter=firstiter, finalizer=finalizer)


def _default_factory(profile: ModelProfile) -> CloudBackend:
    from app.backends.registry import create_cloud_backend

    return create_cloud_backend(profile)


class CloudRunner(QObject):
    """Runs one cloud turn at a time; same signals as ``ModelWorker`` (see module docstring)."""

    load_started = Signal(str)
    load_finished = Signal(str, float)
    load_failed = Signal(str, str)
    turn_events = Signal(object)
    turn_done = Signal()

    def __init__(self, factory: CloudFactory | None = None, *, client: httpx.AsyncClient | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.factory = factory or _default_factory
        self.client = client  # None: a fresh connection per turn
        self.task: asyncio.Task | None = None
        self.cancelled_at: float | None = None  # when stop() was called (for latency figures)

    @property
    def busy(self) -> bool:
        """A turn is running."""
        return self.task is not None and not self.task.done()

    def run_turn(self, profile: ModelProfile, request: TurnRequest) -> asyncio.Task | None:
        """Start the turn as a task on the running (qasync) loop; call it on the GUI thread."""
        if self.busy:
            self.turn_events.emit([ev.TurnFinished(time.monotonic(), "error",
                                                   "A turn is already running; stop it first.")])
            self.turn_done.emit()
            return None
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = asyncio.get_event_loop()
        ensure_asyncgen_hooks(loop)
        self.cancelled_at = None
        self.task = loop.create_task(self._run(profile, request), name=f"cloud-turn-{profile.id}")
        self.task.add_done_callback(self._cancelled_before_start)
        return self.task

    def stop(self) -> None:
        """Cancel the running turn: the connection closes now, the turn ends "cancelled"."""
        if self.busy:
            assert self.task is not None
            self.cancelled_at = time.monotonic()
            self.task.cancel()

    def _cancelled_before_start(self, task: asyncio.Task) -> None:
        """A task cancelled before its first step never ran ``_run``: end the turn here."""
        if task.cancelled():
            self.turn_events.emit([ev.TurnFinished(time.monotonic(), "cancelled")])
            self.turn_done.emit()

    async def _run(self, profile: ModelProfile, request: TurnRequest) -> None:
        batch: list[ev.TurnEvent] = []
        finished = False
        try:
            backend = self.factory(profile)
            async for event in backend.stream(request, client=self.client):
                batch.append(event)
                finished = finished or type(event) is ev.TurnFinished
                if isinstance(event, FLUSH):
                    self.turn_events.emit(batch)
                    batch = []
        except asyncio.CancelledError:
            if not finished:
                batch.append(ev.TurnFinished(time.monotonic(), "cancelled"))
                finished = True
        except PonderError as exc:
            if not finished:
                batch.append(ev.TurnFinished(time.monotonic(), "error", str(exc)))
                finished = True
        except Exception as exc:  # a backend bug must not leave the turn hanging
            log.exception("Cloud turn of %s failed", profile.id)
            if not finished:
                batch.append(ev.TurnFinished(time.monotonic(), "error",
                                             f"The cloud backend failed ({type(exc).__name__})."))
                finished = True
        if batch:
            self.turn_events.emit(batch)
        self.turn_done.emit()
