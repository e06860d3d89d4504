"""Catalog downloads, one after the other, on a worker thread (the window stays usable).

A :class:`DownloadQueue` lives on the GUI thread; its worker thread takes the queued jobs in
order and runs :func:`app.backends.catalog_pull.pull` (download, verify, add to models.toml).
The thread reports through private signals that Qt queues to the GUI thread, where the
queue updates the job and re-emits the public signals, so receivers never run on the
worker thread. Cancel sets the job's ``threading.Event``: a queued job is dropped, a running
one stops at the next chunk and keeps its partial file for a resume.

One queue serves a window: :meth:`DownloadQueue.attached_to` finds or creates it as a child
of the main window, so downloads go on when the model manager is closed and a reopened
manager shows them.

Signals:
    job_added(object DownloadJob)
    job_changed(object DownloadJob)      state, progress or message changed
    models_changed(object ModelsConfig)  an entry was added to models.toml
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal, Slot

from app.domain.catalog import CatalogEntry, CatalogQuant
from app.domain.transfer import Progress
from app.errors import PonderError

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "downloading", "done", "failed", "cancelled"


@dataclass
class DownloadJob:
    """One download. ``state``: queued | downloading | done | failed | cancelled."""

    id: int
    entry: CatalogEntry
    quant: CatalogQuant
    local_dir: Path | None = None
    state: str = QUEUED
    progress: Progress | None = None
    message: str = ""
    result: object = None  # the Pulled result when done
    cancel: threading.Event = field(default_factory=threading.Event)

    @property
    def key(self) -> tuple[str, str]:
        """(catalog id, quantization): what the catalog page shows it against."""
        return (self.entry.id, self.quant.quant)

    @property
    def active(self) -> bool:
        """Queued or running."""
        return self.state in (QUEUED, RUNNING)


class DownloadQueue(QObject):
    """Runs catalog downloads one at a time on a worker thread.

    Signals:
        job_added(object DownloadJob)
        job_changed(object DownloadJob)
        models_changed(object ModelsConfig)
    """

    job_added = Signal(object)
    job_changed = Signal(object)
    models_changed = Signal(object)
    _progressed = Signal(int, object)
    _ended = Signal(int, str, str, object)

    def __init__(self, parent: QObject | None = None, *, models_path: Path | None = None,
                 cache_dir: Path | None = None, pull: Callable | None = None) -> None:
        super().__init__(parent)
        from app.backends.catalog_pull import pull as real_pull

        self.models_path = models_path
        self.cache_dir = cache_dir
        self._pull = pull or real_pull
        self.jobs: dict[int, DownloadJob] = {}
        self._ids = count(1)
        self._todo: queue.Queue[DownloadJob | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._progressed.connect(self._on_progress, Qt.QueuedConnection)
        self._ended.connect(self._on_ended, Qt.QueuedConnection)

    @classmethod
    def attached_to(cls, anchor: QObject, **kwargs) -> "DownloadQueue":
        """The queue of ``anchor`` (a main window), created on first use."""
        found = anchor.findChild(cls, "", Qt.FindDirectChildrenOnly)
        return found if found is not None else cls(anchor, **kwargs)

    # -- the GUI side --------------------------------------------------------------------

    def enqueue(self, entry: CatalogEntry, quant: CatalogQuant, local_dir: Path | None = None) -> DownloadJob:
        """Queue a download (the same file twice is refused while the first is active)."""
        for job in self.jobs.values():
            if job.active and job.key == (entry.id, quant.quant) and job.local_dir == local_dir:
                return job
        job = DownloadJob(next(self._ids), entry, quant, local_dir)
        self.jobs[job.id] = job
        self.job_added.emit(job)
        self._todo.put(job)
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="ponder-downloads", daemon=True)
            self._thread.start()
        return job

    def cancel(self, job_id: int) -> None:
        """Cancel a job: a queued one is dropped, a running one stops at the next chunk."""
        job = self.jobs.get(job_id)
        if job is None or not job.active:
            return
        job.cancel.set()
        if job.state == QUEUED:
            job.state, job.message = CANCELLED, "Cancelled before it started."
            self.job_changed.emit(job)

    def active_job(self, key: tuple[str, str]) -> DownloadJob | None:
        """The queued or running job for (catalog id, quantization), if any."""
        return next((j for j in self.jobs.values() if j.active and j.key == key), None)

    def latest_job(self, key: tuple[str, str]) -> DownloadJob | None:
        """The most recent job for (catalog id, quantization), if any."""
        found = [j for j in self.jobs.values() if j.key == key]
        return found[-1] if found else None

    def shutdown(self, timeout: float = 5.0) -> None:
        """Cancel everything and stop the worker thread (waits up to ``timeout`` seconds)."""
        for job in self.jobs.values():
            if job.active:
                job.cancel.set()
        self._todo.put(None)
        if self._thread is not None:
            self._thread.join(timeout)

    @Slot(int, object)
    def _on_progress(self, job_id: int, progress: Progress) -> None:
        job = self.jobs[job_id]
        if job.state in (QUEUED, RUNNING):
            job.state, job.progress = RUNNING, progress
            self.job_changed.emit(job)

    @Slot(int, str, str, object)
    def _on_ended(self, job_id: int, state: str, message: str, result: object) -> None:
        job = self.jobs[job_id]
        job.state, job.message, job.result = state, message, result
        self.job_changed.emit(job)
        if state == DONE and getattr(result, "added", False):
            from app.domain.config import load_models, load_user_models

            try:
                config = load_models(self.models_path) if self.models_path else load_user_models()
            except PonderError:
                return
            self.models_changed.emit(config)

    # -- the worker thread ---------------------------------------------------------------

    def _run(self) -> None:
        from app.backends.hub_download import DownloadCancelled

        while (job := self._todo.get()) is not None:
            if job.cancel.is_set():
                continue
            try:
                result = self._pull(job.entry, job.quant, local_dir=job.local_dir, cache_dir=self.cache_dir,
                                    models_path=self.models_path, cancel=job.cancel,
                                    progress=lambda p, job_id=job.id: self._progressed.emit(job_id, p))
            except DownloadCancelled as exc:
                self._ended.emit(job.id, CANCELLED, str(exc), None)
            except PonderError as exc:
                self._ended.emit(job.id, FAILED, str(exc), None)
            except Exception as exc:  # a bug must not kill the queue; the job says what happened
                self._ended.emit(job.id, FAILED, f"The download stopped unexpectedly ({type(exc).__name__}: "
                                                 f"{exc}).", None)
            else:
                self._ended.emit(job.id, DONE, "", result)
