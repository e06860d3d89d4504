"""The time limits of a cloud model call ([model.timeouts]) against hostile servers on 127.0.0.1.

Each test sets limits of tenths of a second through the profile and checks the message, the
text kept, that the server saw the connection close, and the time taken (bounds generous
enough for a loaded 2-core machine). Keep-alive comments, empty and heartbeat events must
not keep a silent server's call alive; meaningful events without text (usage, tool-call
fragments) must; Stop must still end a call at once while it waits under a limit.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from app.backends.cloud import deadlines
from app.backends.registry import create_cloud_backend
from app.controllers.turn_runner import TurnRunner
from app.domain import events as ev
from app.domain.profiles import CallTimeouts
from app.domain.turn_control import TurnControl
from helpers.cloud_replay import run_until

pytestmark = pytest.mark.timeout(60)  # on code without the limits these would hang

PATH = "/v1/chat/completions"
LONG = 30.0  # a limit that must not be the one that ends the test


def chunk(delta: dict | None = None, finish: str | None = None, **extra) -> dict:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return {"choices": choices, **extra}


def limits(**seconds: float) -> CallTimeouts:
    return CallTimeouts(**{"connect": 5.0, "first_token": LONG, "idle": LONG, "total": 2 * LONG, **seconds})


def finished(turn) -> ev.TurnFinished:
    ends = turn.of(ev.TurnFinished)
    assert len(ends) == 1 and turn.events[-1] is ends[0]
    return ends[0]


def wait_for_close(server, count: int = 1, seconds: float = 3.0) -> float:
    """The time the server saw the ``count``-th close of a connection (fails if it never did)."""
    deadline = time.monotonic() + seconds
    while len(server.closed_at) < count and time.monotonic() < deadline:
        time.sleep(0.005)
    assert len(server.closed_at) >= count, "the server never saw the connection close"
    return server.closed_at[count - 1]


def partial_text(cloud) -> bytes:
    return cloud.sse(chunk({"reasoning_content": "Let me think."})) + cloud.sse(chunk({"content": "Partial"}))


# -- idle: keep-alives and heartbeats do not reset it ----------------------------------------------


def test_keepalive_comments_do_not_keep_a_silent_stream_alive(cloud):
    cloud.server.script(PATH, cloud.keepalives_forever(partial_text(cloud), b": ping\n\n", 0.02))
    t0 = time.monotonic()
    turn = cloud.run(cloud.profile(timeouts=limits(idle=0.4)))
    end = finished(turn)
    assert end.finish_reason == "error"
    assert end.error == (f'{cloud.server.host} stopped sending the answer of "test-openai": no reasoning or '
                         "answer for 0.4 s (only keep-alives or empty events came). What arrived is kept; try "
                         'again, or raise idle under [model.timeouts] of "test-openai" in models.toml.')
    assert turn.message.reasoning == "Let me think." and turn.message.answer == "Partial"
    assert 0.35 <= turn.seconds < 4.0
    assert wait_for_close(cloud.server) - t0 < 5.0


HEARTBEATS = {
    "empty data line": ("openai", "/v1", PATH, b"data: \n\n"),
    "empty delta": ("openai", "/v1", PATH, b'data: {"choices": [{"index": 0, "delta": {}}]}\n\n'),
    "empty content": ("openai", "/v1", PATH,
                      b'data: {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}\n\n'),
    "anthropic ping": ("anthropic", "", "/v1/messages", b'event: ping\ndata: {"type": "ping"}\n\n'),
    "responses lifecycle": ("openai-responses", "/v1", "/v1/responses",
                            b'data: {"type": "response.in_progress", "response": {}}\n\n'),
    "gemini empty part": ("gemini", "/v1beta", "/v1beta/models/",
                          b'data: {"candidates": [{"content": {"parts": [{"text": ""}]}, "index": 0}]}\n\n'),
}

FIRST_TEXT = {
    "openai": b'data: {"choices": [{"index": 0, "delta": {"content": "Partial"}}]}\n\n',
    "anthropic": (b'data: {"type": "content_block_start", "index": 0, "content_block": {"type": "text", '
                  b'"text": ""}}\n\ndata: {"type": "content_block_delta", "index": 0, "delta": '
                  b'{"type": "text_delta", "text": "Partial"}}\n\n'),
    "openai-responses": b'data: {"type": "response.output_text.delta", "delta": "Partial"}\n\n',
    "gemini": b'data: {"candidates": [{"content": {"parts": [{"text": "Partial"}]}, "index": 0}]}\n\n',
}


@pytest.mark.parametrize("name", list(HEARTBEATS))
def test_heartbeat_events_do_not_reset_the_idle_limit(cloud, name):
    backend, base, path, beat = HEARTBEATS[name]
    cloud.server.script(path, cloud.keepalives_forever(FIRST_TEXT[backend], beat, 0.02))
    turn = cloud.run(cloud.profile(backend, path=base, timeouts=limits(idle=0.4)))
    end = finished(turn)
    assert f'stopped sending the answer of "test-{backend}": no reasoning or answer for 0.4 s' in end.error
    assert turn.message.answer == "Partial"
    assert 0.35 <= turn.seconds < 4.0
    wait_for_close(cloud.server)


def test_meaningful_events_without_text_keep_the_stream_alive(cloud):
    """Tool-call fragments and a usage report count as the server working; each gap is under
    the idle limit, the whole silence of text far over it."""
    fragment = chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{\"x\": 1"}}]})
    usage = chunk(None, usage={"prompt_tokens": 5, "completion_tokens": 9})
    pieces: list = [cloud.sse(chunk({"content": "Calling"}))]
    for _ in range(8):
        pieces += [0.12, cloud.sse(fragment)]
    pieces += [0.12, cloud.sse(usage), 0.12, cloud.sse(chunk({"content": " done."}, "stop")), cloud.sse("[DONE]")]
    cloud.server.script(PATH, cloud.Reply(pieces=pieces))
    turn = cloud.run(cloud.profile(timeouts=limits(idle=0.6)))
    end = finished(turn)
    # the fragments add up to no JSON: one call, unusable as written, and the call asks for its round
    assert (end.finish_reason, end.error) == ("tool_calls", None)
    assert [c.call.error is not None for c in turn.of(ev.ToolCallParsed)] == [True]
    assert turn.message.answer == "Calling done." and turn.seconds >= 1.2  # twice the idle limit without text


# -- first token: waiting for the answer to begin ----------------------------------------------------


def test_server_that_accepts_and_never_answers_hits_the_first_token_limit(cloud):
    cloud.server.script(PATH, cloud.Reply(silent=True))
    t0 = time.monotonic()
    turn = cloud.run(cloud.profile(timeouts=limits(first_token=0.5)))
    end = finished(turn)
    assert end.error == (f'{cloud.server.host} did not answer "test-openai" within 0.5 s; Ponder stopped waiting. '
                         "Try again later; if the model needs longer before its first token, raise first_token "
                         'under [model.timeouts] of "test-openai" in models.toml.')
    assert 0.45 <= turn.seconds < 4.0 and not turn.message.answer
    assert wait_for_close(cloud.server) - t0 < 5.0


def test_only_keepalives_from_the_start_hit_the_first_token_limit_not_the_idle_one(cloud):
    cloud.server.script(PATH, cloud.keepalives_forever(b"", b": ping\n\n", 0.02))
    turn = cloud.run(cloud.profile(timeouts=limits(first_token=0.6, idle=0.1)))
    end = finished(turn)
    assert (f'{cloud.server.host} began the answer of "test-openai" but sent no reasoning or answer within 0.6 s '
            "(only keep-alives or empty events came)") in end.error
    assert "raise first_token under [model.timeouts]" in end.error
    assert 0.55 <= turn.seconds < 4.0  # the idle limit (0.1 s) does not apply before the first token
    wait_for_close(cloud.server)


def test_a_slow_first_token_within_the_limit_is_waited_for(cloud):
    """Slow reasoning models: keep-alives, then the first token after much longer than ``idle``."""
    pieces = [b": ping\n\n", 0.3, b": ping\n\n", 0.3, cloud.sse(chunk({"content": "Late"}, "stop")), cloud.sse("[DONE]")]
    cloud.server.script(PATH, cloud.Reply(pieces=pieces))
    turn = cloud.run(cloud.profile(timeouts=limits(first_token=3.0, idle=0.2)))
    assert (finished(turn).finish_reason, turn.message.answer) == ("stop", "Late")


# -- the error body and the total cap ---------------------------------------------------------------


def test_error_body_that_never_ends_is_cut_at_its_size_limit(cloud):
    cloud.server.script(PATH, cloud.endless_error(500, tick=b" " * 1024, interval=0.002))
    t0 = time.monotonic()
    turn = cloud.run(cloud.profile(timeouts=limits()))
    end = finished(turn)
    assert end.error.startswith(f'{cloud.server.host} had a server error answering "test-openai" (HTTP 500: '
                                '{"error": {"message": "overloaded')
    assert turn.seconds < 4.0
    assert wait_for_close(cloud.server) - t0 < 5.0


def test_error_body_that_trickles_forever_is_cut_at_its_time_limit(cloud, monkeypatch):
    monkeypatch.setattr(deadlines, "ERROR_BODY_SECONDS", 0.4)
    cloud.server.script(PATH, cloud.endless_error(503, tick=b" ", interval=0.02))
    turn = cloud.run(cloud.profile(timeouts=limits()))
    end = finished(turn)
    assert "server error answering \"test-openai\" (HTTP 503: {\"error\": {\"message\": \"overloaded" in end.error
    assert 0.35 <= turn.seconds < 4.0
    wait_for_close(cloud.server)


def test_total_cap_ends_a_stream_that_never_ends(cloud):
    tick = cloud.sse(chunk({"content": "tick "}))
    cloud.server.script(PATH, cloud.Reply(stream_forever=True, tick=tick, interval=0.02))
    turn = cloud.run(cloud.profile(timeouts=limits(total=0.6, idle=0.3)))
    end = finished(turn)
    assert end.error == (f'The answer of "test-openai" from {cloud.server.host} reached the limit of 0.6 s for one '
                         "call, so Ponder stopped it; what arrived is kept. To allow longer calls, raise total under "
                         '[model.timeouts] of "test-openai" in models.toml.')
    assert turn.message.answer.startswith("tick tick ")
    assert 0.55 <= turn.seconds < 4.0
    wait_for_close(cloud.server)


def test_total_cap_covers_the_wait_between_retries(cloud):
    busy = cloud.Reply(status=429, content_type="application/json", headers={"Retry-After": "5"},
                       pieces=[b'{"error": {"message": "slow down"}}'])
    cloud.server.script(PATH, busy)
    turn = cloud.run(cloud.profile(timeouts=limits(total=0.7)))
    assert "reached the limit of 0.7 s for one call" in finished(turn).error
    assert len(cloud.server.requests) == 1 and 0.6 <= turn.seconds < 4.0


# -- Stop wins, and the limits hold on the qasync loop -------------------------------------------------


def test_stop_ends_a_call_waiting_under_a_limit_at_once(cloud):
    """Through the turn runner, as the window and ``ponder ask`` run it: Stop while the call
    waits (keep-alives only) under long limits."""
    cloud.server.script(PATH, cloud.keepalives_forever(partial_text(cloud), b": ping\n\n", 0.02))
    runner = TurnRunner.on(create_cloud_backend(cloud.profile(timeouts=limits(idle=LONG, first_token=LONG))))
    control = TurnControl()
    seen: list = []

    async def main() -> float:
        async def consume() -> None:
            async for event in runner.run(cloud.request(), control):
                seen.append(event)

        task = asyncio.create_task(consume())
        while not any(isinstance(e, ev.AnswerDelta) for e in seen):
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.2)  # now waiting on keep-alives
        t_stop = time.monotonic()
        control.stop()
        await asyncio.wait_for(task, 5)
        return t_stop

    t_stop = asyncio.run(main())
    ends = [e for e in seen if isinstance(e, ev.TurnFinished)]
    assert [e.finish_reason for e in ends] == ["cancelled"]
    assert ends[0].t - t_stop < 0.5
    assert wait_for_close(cloud.server) - t_stop < 0.5


def test_stop_while_waiting_for_a_silent_server(cloud):
    cloud.server.script(PATH, cloud.Reply(silent=True))
    backend = create_cloud_backend(cloud.profile(timeouts=limits(first_token=LONG)))

    async def main() -> tuple[float, float]:
        task = asyncio.create_task(_drain(backend.stream(cloud.request())))
        while not cloud.server.requests:
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.1)
        t_cancel = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return t_cancel, time.monotonic()

    t_cancel, t_done = asyncio.run(main())
    assert t_done - t_cancel < 0.5
    assert wait_for_close(cloud.server) - t_cancel < 0.5


async def _drain(events) -> list:
    return [e async for e in events]


def test_limits_hold_on_the_qasync_loop(cloud, qloop):
    cloud.server.script(PATH, cloud.keepalives_forever(partial_text(cloud), b": ping\n\n", 0.02))
    backend = create_cloud_backend(cloud.profile(timeouts=limits(idle=0.4)))
    task = qloop.create_task(_drain(backend.stream(cloud.request())))
    t0 = time.monotonic()
    run_until(qloop, task.done, timeout=10)
    seconds = time.monotonic() - t0
    end = task.result()[-1]
    assert isinstance(end, ev.TurnFinished) and "no reasoning or answer for 0.4 s" in end.error
    assert 0.35 <= seconds < 4.0
    wait_for_close(cloud.server)
