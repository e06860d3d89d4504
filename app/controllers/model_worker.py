"""The model worker: a QObject on its own QThread that loads local models and runs their turns.

Workers emit, the GUI thread mutates: the worker never touches widgets or Qt models, and the
GUI never reads the worker's state — what it needs of a loaded model arrives with
``load_finished`` (a :class:`~app.domain.model_info.ModelInfo`). Turns run through the same
:class:`~app.controllers.turn_runner.TurnRunner` as everywhere, on this thread's own asyncio
loop; their events go to the GUI in batches through a queued signal. Stop and Answer now
reach a running turn through its ``TurnControl`` (the worker's event loop is busy while it
generates); :meth:`ModelWorker.abandon` makes a load in progress give up.

Signals:
    load_started(str model_id)
    load_finished(str model_id, float seconds, object model_info)
    load_failed(str model_id, str message)
    turn_events(object list_of_events)
    turn_done()
    measured(object tag, object context_usage)   the prompt cost of a request (no generation)
    inspected(str model_id, str hint, str verdict)  size and fit of a local model (not loaded)
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections import OrderedDict
from typing import Callable

from PySide6.QtCore import QObject, Signal, Slot

from app.backends.base import LocalBackend, TurnRequest
from app.controllers.throttle import FRAME_S
from app.controllers.turn_runner import TurnRunner, run_turn_sync
from app.domain.profiles import ModelProfile
from app.domain.turn_control import TurnControl
from app.errors import BackendError, PonderError

BackendFactory = Callable[[ModelProfile], LocalBackend]
log = logging.getLogger("ponder.worker")


def default_memory_budget() -> int:
    """Half of physical memory: loaded models stay resident while they fit in it."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):  # not POSIX: assume 16 GB
        return 8 << 30


def _load_key(profile: ModelProfile) -> tuple:
    """What a loaded model depends on; other profile fields apply per turn."""
    return (profile.backend, profile.path, profile.n_ctx, profile.reasoning, profile.chat_template,
            profile.tool_format, profile.prompt_lookup)


class ModelWorker(QObject):
    """Holds the loaded local backends (least recently used first) and runs turns on them."""

    load_started = Signal(str)
    load_finished = Signal(str, float, object)
    load_failed = Signal(str, str)
    turn_events = Signal(object)
    turn_done = Signal()
    measured = Signal(object, object)
    inspected = Signal(str, str, str)

    def __init__(self, factory: BackendFactory, memory_budget: int | None = None):
        super().__init__()
        self.factory = factory
        self.memory_budget = memory_budget if memory_budget is not None else default_memory_budget()
        self._backends: OrderedDict[str, LocalBackend] = OrderedDict()
        self._quitting = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- from any thread ---------------------------------------------------------------------
    def abandon(self) -> None:
        """Give up what is in progress: a load stops at its next progress report, an inspect
        pass between models. Thread-safe; the worker is of no further use afterwards."""
        self._quitting.set()

    # -- on the worker thread ----------------------------------------------------------------
    def resident_bytes(self) -> int:
        """Memory of the loaded models, each counted once however many profiles share it."""
        return sum({b.memory_key: b.memory_bytes for b in self._backends.values()}.values())

    def resident_ids(self) -> list[str]:
        """Loaded models, least recently used first (for tests; call on the worker's thread)."""
        return list(self._backends)

    def last_prefill(self, model_id: str) -> tuple[int, int]:
        """(tokens reused from the cache, tokens evaluated) of ``model_id``'s last prompt (for
        benches; call while no turn runs)."""
        return self._backends[model_id].model.last_prefill

    def _backend(self, profile: ModelProfile, should_stop: Callable[[], bool]) -> LocalBackend:
        backend = self._backends.get(profile.id)
        if backend is not None and _load_key(backend.profile) == _load_key(profile):
            backend.profile = profile  # per-turn settings changed at most: no reload
            self._backends.move_to_end(profile.id)
            return backend
        if backend is not None:  # the file or context size changed: reload
            self._backends.pop(profile.id).close()
        self.load_started.emit(profile.id)
        t0 = time.monotonic()
        backend = self.factory(profile)
        backend.load(should_stop=should_stop)
        self._backends[profile.id] = backend
        # Least recently used models leave first while the budget is exceeded (never the one
        # just loaded, nor other profiles sharing its file: letting them go frees nothing).
        for old_id in list(self._backends):
            if self.resident_bytes() <= self.memory_budget:
                break
            if self._backends[old_id].memory_key != backend.memory_key:
                self._backends.pop(old_id).close()
        self.load_finished.emit(profile.id, time.monotonic() - t0, backend.info())
        return backend

    def _acquire(self, profile: ModelProfile, should_stop: Callable[[], bool]) -> LocalBackend:
        """The loaded backend of ``profile``; a failed load is reported (``load_failed``) and
        raised as a sentence for the user."""
        try:
            return self._backend(profile, should_stop)
        except PonderError as exc:
            self.load_failed.emit(profile.id, str(exc))
            raise
        except Exception as exc:  # a bug or a broken install must still end the loading state
            log.exception("Loading %s failed", profile.id)
            message = (f"Loading {profile.label} failed unexpectedly ({exc!r}). "
                       "Reinstall Ponder or report this error.")
            self.load_failed.emit(profile.id, message)
            raise BackendError(message, model_id=profile.id) from exc

    @Slot(object)
    def load(self, profile: ModelProfile) -> None:
        """Make ``profile`` ready; a resident model answers at once (load_finished with 0 s)."""
        resident = self._backends.get(profile.id)
        try:
            backend = self._acquire(profile, self._quitting.is_set)
        except PonderError:
            return
        if backend is resident:
            self.load_finished.emit(profile.id, 0.0, backend.info())

    @Slot(object, object, object, object)
    def run_turn(self, profile: ModelProfile, request: TurnRequest, control: TurnControl, tools=None) -> None:
        """One turn through the turn runner (with ``tools``, a ToolBox, when the model is offered
        some); its events go out on ``turn_events``."""
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        runner = TurnRunner(lambda: self._acquire(profile, lambda: self._quitting.is_set() or control.stopped),
                            tools=tools)
        run_turn_sync(runner, request, control, self.turn_events.emit, self._loop, coalesce_s=FRAME_S)
        self.turn_done.emit()

    @Slot(object, object, object)
    def measure(self, profile: ModelProfile, request: TurnRequest, tag: object) -> None:
        """What ``request``'s prompt would cost, if the model is loaded (never loads for it)."""
        backend = self._backends.get(profile.id)
        if backend is None or not backend.loaded:
            return
        try:
            _, usage = backend.measure_prompt(request)
        except PonderError:
            return
        self.measured.emit(tag, usage)

    @Slot(object)
    def inspect(self, profiles: list[ModelProfile]) -> None:
        """Size and fit verdict of each local model, for the switcher's hints."""
        from app.backends.model_inspector import fit_hint

        for profile in profiles:
            if self._quitting.is_set():
                return
            if profile.is_local:
                hint, verdict = fit_hint(profile)
                self.inspected.emit(profile.id, hint, verdict)

    @Slot()
    def close_all(self) -> None:
        while self._backends:
            self._backends.popitem()[1].close()
        if self._loop is not None:
            self._loop.close()
            self._loop = None
