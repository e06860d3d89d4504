"""The cloud host: runs cloud turns as asyncio tasks on the GUI thread's (qasync) loop.

It offers the chat session the same turn signals and ``run_turn`` slot as
:class:`app.controllers.model_worker.ModelWorker`, so a local and a cloud model look the same
to it; both run the turn through :func:`app.controllers.turn_runner.drive_turn`. There is no
thread: the HTTP stream is awaited on the qasync loop, so events are emitted on the GUI
thread. Stop goes through the turn's ``TurnControl``: the runner cancels the task, which
closes the connection at once.

Signals:
    turn_events(object list_of_events)
    turn_done()
"""

from __future__ import annotations

import asyncio
import sys
from typing import Callable

from PySide6.QtCore import QObject, Signal

from app.backends.base import Backend
from app.controllers.turn_runner import TurnRunner, drive_turn
from app.domain.profiles import ModelProfile
from app.domain.turn_control import TurnControl
from app.domain.turn_request import TurnRequest

CloudFactory = Callable[[ModelProfile], Backend]


def ensure_asyncgen_hooks(loop: asyncio.AbstractEventLoop) -> None:
    """Let ``loop`` finalize abandoned async generators, as ``BaseEventLoop.run_forever`` does.

    qasync's loop does not install these hooks, so an httpx stream left mid-iteration would be
    finalized by the garbage collector outside the loop ("async generator ignored
    GeneratorExit"). Installed once for the GUI thread.
    """
    firstiter = getattr(loop, "_asyncgen_firstiter_hook", None)
    finalizer = getattr(loop, "_asyncgen_finalizer_hook", None)
    if firstiter is not None and finalizer is not None and sys.get_asyncgen_hooks().finalizer is None:
        sys.set_asyncgen_hooks(firstiter=firstiter, finalizer=finalizer)


def _default_factory(profile: ModelProfile) -> Backend:
    from app.backends.registry import create_backend

    return create_backend(profile)


class CloudHost(QObject):
    """Runs one cloud turn at a time on the running loop (see module docstring)."""

    turn_events = Signal(object)
    turn_done = Signal()

    def __init__(self, factory: CloudFactory | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.factory = factory or _default_factory
        self.task: asyncio.Task | None = None

    @property
    def busy(self) -> bool:
        """A turn is running."""
        return self.task is not None and not self.task.done()

    def run_turn(self, profile: ModelProfile, request: TurnRequest, control: TurnControl,
                 tools=None) -> asyncio.Task:
        """Start the turn as a task on the running (qasync) loop; call it on the GUI thread.
        ``tools`` is the turn's ToolBox (None: no tools)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = asyncio.get_event_loop()
        ensure_asyncgen_hooks(loop)
        self.task = loop.create_task(self._run(profile, request, control, tools), name=f"cloud-turn-{profile.id}")
        return self.task

    async def _run(self, profile: ModelProfile, request: TurnRequest, control: TurnControl, tools) -> None:
        try:
            await drive_turn(TurnRunner(lambda: self.factory(profile), tools=tools), request, control,
                             self.turn_events.emit)
        finally:
            self.turn_done.emit()
