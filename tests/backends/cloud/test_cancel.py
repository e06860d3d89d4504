"""Cancelling the task that runs a cloud turn closes the connection at once.

The server streams an event every 10 ms and watches its socket with select(), so it records
the moment the client's close arrives; the latency is that moment minus ``task.cancel()``.
"""

from __future__ import annotations

import asyncio
import time

from app.backends.registry import create_cloud_backend
from app.domain import events as ev

PATH = "/v1/chat/completions"
TICK = b'data: {"choices": [{"index": 0, "delta": {"content": "tick "}}]}\n\n'


def test_cancel_closes_the_connection_at_once(cloud, capsys):
    cloud.server.script(PATH, cloud.Reply(stream_forever=True, tick=TICK, interval=0.01))
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

    t_cancel, t_task_done = asyncio.run(main())
    deadline = time.monotonic() + 2
    while not cloud.server.closed_at and time.monotonic() < deadline:
        time.sleep(0.001)
    assert cloud.server.closed_at, "the server never saw the connection close"
    server_ms = (cloud.server.closed_at[0] - t_cancel) * 1000
    task_ms = (t_task_done - t_cancel) * 1000
    with capsys.disabled():
        print(f"\n[cancel latency] task done after {task_ms:.2f} ms; server saw the close after {server_ms:.2f} ms")
    assert 0 <= server_ms < 100 and task_ms < 100
    assert not any(isinstance(e, ev.TurnFinished) for e in seen)  # the caller reports "cancelled"
