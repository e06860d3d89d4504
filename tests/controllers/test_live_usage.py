"""The gauge's numbers come at most every GAUGE_S while a message streams, at once at its end."""

import time

from app.controllers.live_usage import GAUGE_S, LiveUsage
from app.domain import events as ev
from app.domain.conversation import Conversation


def _streaming():
    conv = Conversation()
    conv.add_user("hi")
    msg = conv.add_assistant("m")
    msg.apply(ev.TurnStarted(time.monotonic(), "m", prompt_tokens=10, n_ctx=1000))
    return msg


def _count(msg, n):
    msg.apply(ev.AnswerDelta("x"))
    msg.apply(ev.TokenCounts(reasoning=0, answer=n, t=time.monotonic()))


def test_a_fast_stream_updates_the_gauge_a_few_times_a_second_and_ends_exact(qtbot):
    live = LiveUsage()
    seen = []
    live.usage_changed.connect(lambda usage, _forecast: seen.append(usage.answer))
    msg = _streaming()
    t0 = time.monotonic()
    n = 0
    while time.monotonic() - t0 < 3 * GAUGE_S:  # a frame every 10 ms
        n += 1
        _count(msg, n)
        live.update(msg, 500)
        qtbot.wait(10)
    assert seen[0] == 1  # the first update shows at once
    assert 2 <= len(seen) <= 5  # ~3 intervals, not one per frame (~60)
    assert seen == sorted(seen)
    msg.apply(ev.TurnFinished(time.monotonic(), "stop"))
    live.update(msg, 500)
    assert seen[-1] == n  # the end shows at once, exact


def test_a_held_update_still_shows_after_the_interval(qtbot):
    live = LiveUsage()
    seen = []
    live.usage_changed.connect(lambda usage, _forecast: seen.append(usage.answer))
    msg = _streaming()
    _count(msg, 1)
    live.update(msg, 500)
    _count(msg, 2)
    live.update(msg, 500)  # within the interval: held
    assert seen == [1]
    qtbot.waitUntil(lambda: seen == [1, 2], timeout=int(GAUGE_S * 1000 * 5))


def test_the_gauge_updates_with_a_message_update_not_between_them(qtbot):
    """Frames 50 ms apart: the gauge's numbers go out during one of the message's updates, so
    the gauge is drawn in the same paint as the message, not in a pass of its own."""
    live = LiveUsage()
    msg = _streaming()
    updating = [False]
    seen = []
    live.usage_changed.connect(lambda usage, _forecast: seen.append(updating[0]))
    t0 = time.monotonic()
    n = 0
    while time.monotonic() - t0 < 8 * GAUGE_S:
        n += 1
        _count(msg, n)
        updating[0] = True
        live.update(msg, 500)
        updating[0] = False
        qtbot.wait(50)
    assert len(seen) >= 4
    assert seen.count(False) <= 1  # a loaded machine may stall one frame past the fallback
