"""The local host: the model worker on its own QThread, driven by queued signals.

The GUI thread calls :meth:`LocalHost.run_turn` (the same call as on the cloud host), ``load``,
``measure`` and ``inspect``; each is queued to the worker's thread. The worker's signals are
re-emitted here, on the GUI thread. :meth:`LocalHost.shutdown` is the one way to end it: it
abandons what is in progress and waits a bounded time.

Signals (from :class:`~app.controllers.model_worker.ModelWorker`, on the GUI thread):
    turn_events(object batch), turn_done(), load_started(str), load_finished(str, float, object),
    load_failed(str, str), measured(object tag, object usage), inspected(str, str, str)
"""

from __future__ import annotations

import logging
import sys

from PySide6.QtCore import QObject, QThread, Signal

from app.controllers.model_worker import BackendFactory, ModelWorker
from app.domain.profiles import ModelProfile
from app.domain.turn_control import TurnControl
from app.domain.turn_request import TurnRequest

log = logging.getLogger("ponder.worker")


class LocalHost(QObject):
    """Owns the worker thread; runs local turns and loads (see module docstring)."""

    turn_events = Signal(object)
    turn_done = Signal()
    load_started = Signal(str)
    load_finished = Signal(str, float, object)
    load_failed = Signal(str, str)
    measured = Signal(object, object)
    inspected = Signal(str, str, str)

    _load = Signal(object)
    _turn = Signal(object, object, object, object)
    _measure = Signal(object, object, object)
    _inspect = Signal(object)

    def __init__(self, factory: BackendFactory, memory_budget: int | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName("model-worker")
        self.worker = ModelWorker(factory, memory_budget=memory_budget)
        self.worker.moveToThread(self._thread)
        for request, slot in ((self._load, self.worker.load), (self._turn, self.worker.run_turn),
                              (self._measure, self.worker.measure), (self._inspect, self.worker.inspect)):
            request.connect(slot)
        for name in ("turn_events", "turn_done", "load_started", "load_finished", "load_failed", "measured",
                     "inspected"):
            getattr(self.worker, name).connect(getattr(self, name))  # queued: re-emitted on this thread
        self._thread.start()
        self._ended: bool | None = None

    def load(self, profile: ModelProfile) -> None:
        self._load.emit(profile)

    def run_turn(self, profile: ModelProfile, request: TurnRequest, control: TurnControl, tools=None) -> None:
        """Queue the turn on the worker; ``tools`` is the turn's ToolBox (None: no tools)."""
        self._turn.emit(profile, request, control, tools)

    def measure(self, profile: ModelProfile, request: TurnRequest, tag: object) -> None:
        self._measure.emit(profile, request, tag)

    def inspect(self, profiles: list[ModelProfile]) -> None:
        self._inspect.emit(profiles)

    @property
    def running(self) -> bool:
        return self._thread.isRunning()

    def shutdown(self, timeout_s: float) -> bool:
        """Abandon any load, end the thread, wait at most ``timeout_s``; free the models.

        False when the thread did not end in time (a load llama.cpp cannot interrupt): it is
        left to end with the process. Later calls return the first call's answer."""
        if self._ended is None:
            self.worker.abandon()
            self._thread.quit()
            self._ended = self._thread.wait(int(timeout_s * 1000))
            if self._ended:
                self.worker.close_all()
            else:
                log.warning("The model worker did not stop within %.1f s (a model was still loading)", timeout_s)
                print("Ponder: a model was still loading; quitting without waiting for it.", file=sys.stderr)
        return self._ended
