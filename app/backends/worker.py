"""The model worker: a QObject living on its own QThread that loads models and runs turns.

Workers emit, the GUI thread mutates: the worker never touches widgets or Qt models; it
sends turn events to the GUI through queued signals, one signal per generated token (the
token's events in a list). Stop is a ``threading.Event`` the GUI sets directly, because the
worker's event loop is busy while it generates.

Signals:
    load_started(str model_id)
    load_finished(str model_id, float seconds)
    load_failed(str model_id, str message)
    turn_events(object list_of_events)
    turn_done()
    measured(object tag, object context_usage)   the prompt cost of a request (no generation)
    inspected(str model_id, str hint, str verdict)  size and fit of a local model (not loaded)
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from typing import Callable

from PySide6.QtCore import QObject, Signal, Slot

from app.backends.base import Backend, TurnRequest
from app.domain import events as ev
from app.domain.profiles import ModelProfile
from app.errors import PonderError

BackendFactory = Callable[[ModelProfile], Backend]
log = logging.getLogger(__name__)


def default_memory_budget() -> int:
    """Half of physical memory: loaded models stay resident while they fit in it."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):  # not POSIX: assume 16 GB
        return 8 << 30


def _load_key(profile: ModelProfile) -> tuple:
    """What a loaded model depends on; other profile fields apply per turn."""
    return (profile.backend, profile.path, profile.n_ctx, profile.reasoning, profile.chat_template)


class ModelWorker(QObject):
    """Holds the loaded local backends (least recently used first) and runs turns on them."""

    load_started = Signal(str)
    load_finished = Signal(str, float)
    load_failed = Signal(str, str)
    turn_events = Signal(object)
    turn_done = Signal()
    measured = Signal(object, object)
    inspected = Signal(str, str, str)

    def __init__(self, factory: BackendFactory, memory_budget: int | None = None):
        super().__init__()
        self.factory = factory
        self.memory_budget = memory_budget if memory_budget is not None else default_memory_budget()
        self.stop_event = threading.Event()
        self.answer_now_event = threading.Event()
        self.backends: OrderedDict[str, Backend] = OrderedDict()

    def resident_bytes(self) -> int:
        return sum(getattr(b, "memory_bytes", 0) for b in self.backends.values())

    def _backend(self, profile: ModelProfile) -> Backend:
        backend = self.backends.get(profile.id)
        if backend is not None and _load_key(backend.profile) == _load_key(profile):
            backend.profile = profile  # per-turn settings changed at most: no reload
            self.backends.move_to_end(profile.id)
            return backend
        if backend is not None:  # the file or context size changed: reload
            self.backends.pop(profile.id).close()
        self.load_started.emit(profile.id)
        t0 = time.monotonic()
        backend = self.factory(profile)
        backend.load()
        # Least recently used models leave first while the new one would not fit the budget.
        need = getattr(backend, "memory_bytes", 0)
        while self.backends and self.resident_bytes() + need > self.memory_budget:
            _, old = self.backends.popitem(last=False)
            old.close()
        self.backends[profile.id] = backend
        self.load_finished.emit(profile.id, time.monotonic() - t0)
        return backend

    @Slot(object)
    def load(self, profile: ModelProfile) -> None:
        """Make ``profile`` ready; a resident model answers at once (load_finished with 0 s)."""
        try:
            resident = profile.id in self.backends
            self._backend(profile)
            if resident and profile.id in self.backends:
                self.load_finished.emit(profile.id, 0.0)
        except PonderError as exc:
            self.load_failed.emit(profile.id, str(exc))
        except Exception as exc:  # a bug or a broken install must still end the loading state
            log.exception("Loading %s failed", profile.id)
            self.load_failed.emit(profile.id, f"Loading {profile.label} failed unexpectedly ({exc!r}). "
                                              "Reinstall Ponder or report this error.")

    @Slot(object, object)
    def run_turn(self, profile: ModelProfile, request: TurnRequest) -> None:
        try:
            backend = self._backend(profile)
        except Exception as exc:  # PonderError: a sentence for the user; anything else: a bug
            if not isinstance(exc, PonderError):
                log.exception("Loading %s failed", profile.id)
            message = str(exc) if isinstance(exc, PonderError) else \
                f"Loading {profile.label} failed unexpectedly ({exc!r}). Reinstall Ponder or report this error."
            self.load_failed.emit(profile.id, message)
            self.turn_events.emit([ev.TurnFinished(time.monotonic(), "error", message)])
            self.turn_done.emit()
            return
        batch: list[ev.TurnEvent] = []
        try:
            for event in backend.stream(request, self.stop_event, answer_now=self.answer_now_event):
                batch.append(event)
                if type(event) in (ev.TokenCounts, ev.TurnStarted, ev.TurnFinished):
                    self.turn_events.emit(batch)
                    batch = []
        except PonderError as exc:
            batch.append(ev.TurnFinished(time.monotonic(), "error", str(exc)))
        except Exception as exc:  # a backend bug must not kill the worker thread
            batch.append(ev.TurnFinished(time.monotonic(), "error", f"The model failed: {exc!r}"))
        if batch:
            self.turn_events.emit(batch)
        self.turn_done.emit()

    @Slot(object, object, object)
    def measure(self, profile: ModelProfile, request: TurnRequest, tag: object) -> None:
        """What ``request``'s prompt would cost, if the model is loaded (never loads for it)."""
        backend = self.backends.get(profile.id)
        if backend is None or not hasattr(backend, "measure_prompt") or not getattr(backend, "loaded", False):
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
            if profile.is_local:
                hint, verdict = fit_hint(profile)
                self.inspected.emit(profile.id, hint, verdict)

    @Slot()
    def close_all(self) -> None:
        while self.backends:
            self.backends.popitem()[1].close()
