"""The model worker: residency within the memory budget, turns through the runner, what it emits."""

import threading

from app.backends.fake import FakeBackend
from app.controllers.model_worker import ModelWorker, default_memory_budget
from app.controllers.turn_runner import QUICK_TOKEN_S
from app.domain import events as ev
from app.domain.model_info import ModelInfo
from app.domain.reasoning.markers import FAMILIES
from app.domain.turn_control import TurnControl
from app.domain.turn_request import TurnRequest
from helpers.models import profile

HI = TurnRequest(messages=({"role": "user", "content": "hi"},))


def sized(p, script=("ok",)):
    return FakeBackend(p, list(script), memory_bytes=400)


def test_lru_eviction_under_the_budget(qtbot):
    worker = ModelWorker(sized, memory_budget=1000)
    a, b, c = profile("smollm2-135m"), profile("smollm2-think"), profile("smollm2-135m", id="third")
    for p in (a, b):
        worker.load(p)
    assert worker.resident_ids() == ["smollm2-135m", "smollm2-think"]  # 800 bytes fit in 1000
    worker.load(a)  # used again: now the most recent
    worker.load(c)  # 1200 would not fit: the least recently used (think) leaves
    assert worker.resident_ids() == ["smollm2-135m", "third"]
    assert worker.resident_bytes() == 800


def test_default_budget_is_half_of_memory():
    import os

    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert default_memory_budget() == total // 2


def test_an_unexpected_load_failure_ends_the_loading_state(qtbot):
    class Broken(FakeBackend):
        def load(self, progress=None, should_stop=None):
            raise ModuleNotFoundError("No module named 'yaml'")

    worker = ModelWorker(lambda p: Broken(p, []))
    with qtbot.waitSignal(worker.load_failed, timeout=1000) as failed:
        worker.load(profile())
    assert "failed unexpectedly" in failed.args[1] and "yaml" in failed.args[1]
    turns = []
    worker.turn_events.connect(turns.append)
    worker.run_turn(profile(), HI, TurnControl())
    assert turns[-1][-1].finish_reason == "error" and "yaml" in turns[-1][-1].error


def test_load_finished_carries_what_the_gui_needs(qtbot):
    worker = ModelWorker(lambda p: FakeBackend(p, [], spec=FAMILIES["think"], n_ctx=4096, memory_bytes=7))
    with qtbot.waitSignal(worker.load_finished, timeout=1000) as ready:
        worker.load(profile())
    model_id, seconds, info = ready.args
    assert model_id == "smollm2-135m" and seconds >= 0
    assert isinstance(info, ModelInfo) and info.reasons and info.n_ctx == 4096 and info.memory_bytes == 7
    with qtbot.waitSignal(worker.load_finished, timeout=1000) as again:  # resident: at once, 0 s
        worker.load(profile())
    assert again.args[1] == 0.0


def _batches(script, **fake):
    worker = ModelWorker(lambda p: FakeBackend(p, script, spec=FAMILIES["think"], **fake))
    batches, done = [], []
    worker.turn_events.connect(batches.append)
    worker.turn_done.connect(lambda: done.append(1))
    worker.run_turn(profile(), HI, TurnControl())
    events = [e for b in batches for e in b]
    assert done == [1]
    assert [type(e) for e in events].count(ev.TurnFinished) == 1 and type(events[-1]) is ev.TurnFinished
    assert [type(e) for e in events].count(ev.TokenCounts) == len(script)  # nothing lost or repeated
    assert all(type(b[-1]) in (ev.TokenCounts, ev.TurnStarted, ev.TurnFinished) for b in batches)
    return [b for b in batches if any(type(e) is ev.TokenCounts for e in b)]


def test_tokens_that_come_slower_than_the_quick_gap_go_out_one_batch_each(qtbot):
    counted = _batches(["<think>", "Hmm", "</think>", "Yes", "."], delay_s=QUICK_TOKEN_S * 1.5)
    assert len(counted) == 5


def test_fast_tokens_share_a_batch_and_the_last_one_is_not_held(qtbot):
    script = [f" w{i}" for i in range(200)]
    counted = _batches(script)  # no delay: far faster than QUICK_TOKEN_S
    assert 1 <= len(counted) < 50  # every token arrived (checked above), in far fewer GUI wake-ups


def test_a_stopped_turn_ends_cancelled(qtbot):
    worker = ModelWorker(lambda p: FakeBackend(p, ["tick "] * 1000, delay_s=0.001))
    control = TurnControl()
    batches = []

    def on_batch(batch):
        batches.append(batch)
        if len(batches) == 5:
            control.stop()

    worker.turn_events.connect(on_batch)
    worker.run_turn(profile(), HI, control)
    end = batches[-1][-1]
    assert end.finish_reason == "cancelled" and len(batches) < 20


def test_measure_answers_only_for_a_loaded_model(qtbot):
    worker = ModelWorker(lambda p: FakeBackend(p, [], prompt_tokens=33))
    got = []
    worker.measured.connect(lambda tag, usage: got.append((tag, usage.used)))
    worker.measure(profile(), HI, 1)  # not loaded: no answer, and it does not load for it
    assert got == [] and worker.resident_ids() == []
    worker.load(profile())
    worker.measure(profile(), HI, 2)
    assert got == [(2, 33)]


def test_abandon_stops_an_inspect_pass(qtbot, monkeypatch):
    import app.backends.model_inspector as inspector

    worker = ModelWorker(sized)
    seen = []

    def hint(p):
        seen.append(p.id)
        worker.abandon()  # e.g. the window closed meanwhile
        return "hint", "fits"

    monkeypatch.setattr(inspector, "fit_hint", hint)
    worker.inspect([profile("smollm2-135m"), profile("smollm2-think")])
    assert seen == ["smollm2-135m"]


def test_a_load_gives_up_when_abandoned(qtbot):
    asked = threading.Event()

    class Patient(FakeBackend):
        def load(self, progress=None, should_stop=None):
            asked.set()
            while not should_stop():  # like llama.cpp asking its progress callback
                threading.Event().wait(0.001)
            from app.backends.llama_backend import LoadCancelled

            raise LoadCancelled("Loading was abandoned.")

    worker = ModelWorker(lambda p: Patient(p, []))
    threading.Timer(0.05, worker.abandon).start()
    with qtbot.waitSignal(worker.load_failed, timeout=2000) as failed:
        worker.load(profile())
    assert asked.is_set() and "abandoned" in failed.args[1]


def test_profiles_sharing_memory_are_counted_once_and_not_evicted_for_each_other(qtbot):
    class Shared(FakeBackend):
        @property
        def memory_key(self):
            return ("file", self.profile.path)

    worker = ModelWorker(lambda p: Shared(p, ["ok"], memory_bytes=600), memory_budget=1000)
    a, b = profile("smollm2-135m"), profile("smollm2-think")  # both on the bundled file
    worker.load(a)
    worker.load(b)
    assert worker.resident_ids() == ["smollm2-135m", "smollm2-think"] and worker.resident_bytes() == 600
    other = profile("smollm2-135m", id="other", path="/elsewhere.gguf")
    worker.load(other)  # 1200 would not fit: both profiles of the first file leave together
    assert worker.resident_ids() == ["other"] and worker.resident_bytes() == 600
