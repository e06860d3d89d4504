"""Cancelling the task that runs a cloud turn closes the connection at once.

The server streams an event every 10 ms and watches its socket with select(), so it records
the moment the client's close arrives; the latency is that moment minus ``task.cancel()``.
"""

from __future__ import annotations

import asyncio
import statistics
import time

from app.backends.registry import create_cloud_backend
from app.domain import events as ev

PATH = "/v1/chat/completions"
TICK = b'data: {"choices": [{"index": 0, "delta": {"content": "tick "}}]}\n\n'
RUNS = 5


def cancel_once(cloud) -> tuple[float, float, list]:
    """(ms until the task is done, ms until the server saw the close, events seen)."""
    closed_before = len(cloud.server.closed_at)
    backend = create_cloud_backend(cloud.profile())
    seen: list = []

    async def consume() -> None:
        async for event in backend.stream(cloud.request()):
            seen.append(event)

    async def main() -> tuple[float, float]:
        task = asyncio.create_task(consume())
        while sum(isinstance(e, ev.AnswerDelta) for e in seen) < 5:
            await asyncio.sleep(0.005)
        t_cancel = time.monotonic()
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        return t_cancel, time.monotonic()

    t_cancel, t_done = asyncio.run(main())
    deadline = time.monotonic() + 2
    while len(cloud.server.closed_at) == closed_before and time.monotonic() < deadline:
        time.sleep(0.001)
    assert len(cloud.server.closed_at) > closed_before, "the server never saw the connection close"
    return (t_done - t_cancel) * 1000, (cloud.server.closed_at[-1] - t_cancel) * 1000, seen


def test_cancel_closes_the_connection_at_once(cloud, capsys):
    cloud.server.script(PATH, cloud.Reply(stream_forever=True, tick=TICK, interval=0.01))
    task_ms, server_ms = [], []
    for _ in range(RUNS):
        t_task, t_server, seen = cancel_once(cloud)
        task_ms.append(t_task)
        server_ms.append(t_server)
        assert not any(isinstance(e, ev.TurnFinished) for e in seen)  # the caller reports "cancelled"
        assert [e.text for e in seen if isinstance(e, ev.AnswerDelta)][:5] == ["tick "] * 5
    with capsys.disabled():
        print(f"\n[cancel latency, asyncio, {RUNS} runs] task done: median {statistics.median(task_ms):.2f} ms, "
              f"max {max(task_ms):.2f} ms; server saw the close: median {statistics.median(server_ms):.2f} ms, "
              f"max {max(server_ms):.2f} ms")
    assert all(0 <= ms < 100 for ms in server_ms) and max(task_ms) < 100
