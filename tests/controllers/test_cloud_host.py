"""The cloud host on a real qasync loop: the worker's turn signals, events on the GUI thread, Stop."""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
import time


from app.controllers.cloud_host import CloudHost
from app.controllers.local_host import LocalHost
from app.domain import events as ev
from app.domain.messages import AssistantMessage
from app.domain.turn_control import TurnControl
from helpers.cloud_replay import run_until

PATH = "/v1/chat/completions"
TICK = b'data: {"choices": [{"index": 0, "delta": {"content": "tick "}}]}\n\n'




class Collector:
    """Folds the runner's batches into a message, as the chat session does."""

    def __init__(self, runner: CloudHost) -> None:
        self.batches: list[list] = []
        self.threads: set[int] = set()
        self.message = AssistantMessage()
        self.done = 0
        runner.turn_events.connect(self.on_events)
        runner.turn_done.connect(self.on_done)

    def on_events(self, batch: list) -> None:
        self.threads.add(threading.get_ident())
        self.batches.append(batch)
        for event in batch:
            self.message.apply(event)

    def on_done(self) -> None:
        self.done += 1

    @property
    def events(self) -> list:
        return [e for b in self.batches for e in b]


def test_same_turn_interface_as_the_local_host():
    for name in ("turn_events", "turn_done", "run_turn"):
        assert hasattr(CloudHost, name) and hasattr(LocalHost, name)


def test_a_turn_emits_batches_on_the_gui_thread(cloud, qloop):
    blob = (cloud.sse({"choices": [{"index": 0, "delta": {"reasoning_content": "Hmm."}}]})
            + cloud.sse({"choices": [{"index": 0, "delta": {"content": "Yes."}, "finish_reason": "stop"}]})
            + cloud.sse("[DONE]"))
    cloud.server.script(PATH, cloud.Reply(pieces=[blob]))
    runner = CloudHost()
    got = Collector(runner)
    runner.run_turn(cloud.profile(), cloud.request(), TurnControl())
    assert runner.busy
    run_until(qloop, lambda: got.done)
    assert got.done == 1 and not runner.busy
    assert got.threads == {threading.main_thread().ident}
    assert got.message.reasoning == "Hmm." and got.message.answer == "Yes."
    assert got.message.finish_reason == "stop" and got.message.where == cloud.server.host
    assert sum(isinstance(e, ev.TurnFinished) for e in got.events) == 1
    assert len(got.batches) > 2  # streamed in pieces, not in one batch at the end


def test_stop_cancels_at_once_and_keeps_the_text(cloud, qloop, capsys):
    cloud.server.script(PATH, cloud.Reply(stream_forever=True, tick=TICK, interval=0.01))
    runner = CloudHost()
    got = Collector(runner)
    control = TurnControl()
    runner.run_turn(cloud.profile(), cloud.request(), control)
    run_until(qloop, lambda: got.message.answer.count("tick") >= 5)
    pressed = time.monotonic()
    control.stop()
    run_until(qloop, lambda: got.done and cloud.server.closed_at)
    server_ms = (cloud.server.closed_at[0] - pressed) * 1000
    end = got.events[-1]
    done_ms = (end.t - pressed) * 1000
    with capsys.disabled():
        print(f"\n[stop latency, qasync] TurnFinished after {done_ms:.2f} ms; server saw the close after "
              f"{server_ms:.2f} ms")
    assert isinstance(end, ev.TurnFinished) and end.finish_reason == "cancelled"
    assert got.message.finish_reason == "cancelled" and got.message.answer.startswith("tick tick tick tick tick")
    assert server_ms < 100 and done_ms < 100


def test_a_fault_ends_the_turn_and_the_runner_stays_usable(cloud, qloop):
    cloud.server.script(PATH, cloud.Reply(status=401, content_type="application/json",
                                          pieces=[b'{"error": {"message": "bad key"}}']))
    runner = CloudHost()
    got = Collector(runner)
    runner.run_turn(cloud.profile(), cloud.request(), TurnControl())
    run_until(qloop, lambda: got.done)
    assert got.message.finish_reason == "error" and "bad key" in got.message.error
    cloud.server.script(PATH, cloud.Reply(pieces=[cloud.sse({"choices": [{"index": 0, "delta": {"content": "ok"},
                                                                           "finish_reason": "stop"}]})]))
    second = Collector(runner)
    runner.run_turn(cloud.profile(), cloud.request(), TurnControl())
    run_until(qloop, lambda: second.done)
    assert second.message.answer == "ok" and second.message.error is None


def test_a_fault_mid_stream_leaves_no_stream_unfinalized(cloud, qloop, monkeypatch):
    """httpx's iterators left mid-stream are closed on the loop, not by the GC outside it."""
    unraisable: list = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    blob = cloud.sse({"choices": [{"index": 0, "delta": {"content": "Part"}}]}) + b"data: {oops\n\n"
    more = cloud.sse({"choices": [{"index": 0, "delta": {"content": "more"}}]})
    cloud.server.script(PATH, cloud.Reply(pieces=[blob, 0.2, more]))
    runner = CloudHost()
    got = Collector(runner)
    runner.run_turn(cloud.profile(), cloud.request(), TurnControl())
    run_until(qloop, lambda: got.done)
    assert got.message.answer == "Part" and "cannot read" in got.message.error
    gc.collect()
    qloop.run_until_complete(asyncio.sleep(0.05))  # scheduled acloses run on the loop
    gc.collect()
    assert not unraisable, [u.exc_value for u in unraisable]
