"""Resident models within the memory budget: least recently used leave first."""

from app.backends.fake import FakeBackend
from app.backends.worker import ModelWorker, default_memory_budget
from helpers.models import profile


class Sized(FakeBackend):
    memory_bytes = 400


def test_lru_eviction_under_the_budget(qtbot):
    worker = ModelWorker(lambda p: Sized(p, ["ok"]), memory_budget=1000)
    a, b, c = profile("smollm2-135m"), profile("smollm2-think"), profile("smollm2-135m", id="third")
    for p in (a, b):
        worker.load(p)
    assert list(worker.backends) == ["smollm2-135m", "smollm2-think"]  # 800 bytes fit in 1000
    worker.load(a)  # used again: now the most recent
    worker.load(c)  # 1200 would not fit: the least recently used (think) leaves
    assert list(worker.backends) == ["smollm2-135m", "third"]
    assert worker.resident_bytes() == 800


def test_default_budget_is_half_of_memory():
    import os

    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert default_memory_budget() == total // 2


def test_an_unexpected_load_failure_ends_the_loading_state(qtbot):
    class Broken(FakeBackend):
        def load(self, progress=None):
            raise ModuleNotFoundError("No module named 'yaml'")

    worker = ModelWorker(lambda p: Broken(p, []))
    with qtbot.waitSignal(worker.load_failed, timeout=1000) as failed:
        worker.load(profile())
    assert "failed unexpectedly" in failed.args[1] and "yaml" in failed.args[1]
    turns = []
    worker.turn_events.connect(turns.append)
    from app.domain.turn_request import TurnRequest

    worker.run_turn(profile(), TurnRequest(messages=({"role": "user", "content": "hi"},)))
    assert turns[-1][-1].finish_reason == "error"
