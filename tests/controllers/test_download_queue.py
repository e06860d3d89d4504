"""The download queue: jobs run one after the other off the GUI thread, signals arrive on the
GUI thread, a queued job can be cancelled before it starts, a failure is a message."""

from __future__ import annotations

import threading

from app.controllers.download_queue import CANCELLED, DONE, FAILED, QUEUED, DownloadQueue
from app.domain.catalog import load_catalog
from app.domain.transfer import Progress
from app.errors import PonderError


class FakePull:
    """Stands in for catalog_pull.pull: records the thread and order, waits for a go."""

    def __init__(self):
        self.started: list[str] = []
        self.threads: set[int] = set()
        self.go = {}

    def __call__(self, entry, quant, *, progress, cancel, **_):
        self.started.append(entry.id)
        self.threads.add(threading.get_ident())
        progress(Progress(quant.first_file, 1, 2))
        gate = self.go.setdefault(entry.id, threading.Event())
        gate.wait(10)
        if entry.id == "qwq-32b":
            raise PonderError("The hub answered 503; try again later.")
        return None


def test_jobs_run_in_order_on_a_worker_thread_and_report_on_the_gui_thread(qtbot):
    catalog = load_catalog()
    fake = FakePull()
    queue = DownloadQueue(pull=fake)
    gui = threading.get_ident()
    changes = []
    queue.job_changed.connect(lambda job: changes.append((job.entry.id, job.state, threading.get_ident())))
    try:
        first = queue.enqueue(*catalog.lookup("deepseek-r1-distill-qwen-1.5b"))
        second = queue.enqueue(*catalog.lookup("qwq-32b"))
        third = queue.enqueue(*catalog.lookup("gemma-3-4b-it"))
        assert queue.enqueue(*catalog.lookup("qwq-32b")) is second  # the same file is not queued twice
        qtbot.waitUntil(lambda: fake.started == ["deepseek-r1-distill-qwen-1.5b"], timeout=5000)
        assert second.state == QUEUED and third.state == QUEUED
        queue.cancel(third.id)
        assert third.state == CANCELLED
        fake.go.setdefault("deepseek-r1-distill-qwen-1.5b", threading.Event()).set()
        qtbot.waitUntil(lambda: first.state == DONE and fake.started[-1] == "qwq-32b", timeout=5000)
        fake.go.setdefault("qwq-32b", threading.Event()).set()
        qtbot.waitUntil(lambda: second.state == FAILED, timeout=5000)
        assert second.message == "The hub answered 503; try again later."
        assert fake.started == ["deepseek-r1-distill-qwen-1.5b", "qwq-32b"]  # the cancelled one never ran
        assert gui not in fake.threads
        assert {tid for _, _, tid in changes} == {gui}
    finally:
        for gate in fake.go.values():
            gate.set()
        queue.shutdown()
