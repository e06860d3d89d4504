"""The throttle coalesces many requests into at most one call per interval."""

import time

from app.controllers.throttle import Throttle


def test_many_requests_fire_once_per_interval(qtbot):
    throttle = Throttle(50)
    fired = []
    throttle.fired.connect(lambda: fired.append(time.monotonic()))
    t0 = time.monotonic()
    while time.monotonic() - t0 < 0.33:
        throttle.request()
        qtbot.wait(1)
    qtbot.wait(80)
    assert 3 <= len(fired) <= 8  # ~6 intervals of 50 ms, never one per request (~300 requests)
    gaps = [b - a for a, b in zip(fired, fired[1:])]
    assert all(g >= 0.045 for g in gaps)


def test_no_request_no_call_and_flush_fires_a_pending_one_now(qtbot):
    throttle = Throttle(10_000)
    fired = []
    throttle.fired.connect(lambda: fired.append(1))
    throttle.flush()
    assert fired == []  # nothing pending
    throttle.request()
    throttle.flush()
    assert fired == [1]
    qtbot.wait(30)
    assert fired == [1]  # the flushed request does not fire again later


def test_a_request_after_a_quiet_interval_fires_at_once_and_the_next_waits(qtbot):
    throttle = Throttle(60)
    fired = []
    throttle.fired.connect(lambda: fired.append(time.monotonic()))
    throttle.request()
    assert len(fired) == 1  # no timer: updates an interval apart wake the GUI once each
    throttle.request()
    assert len(fired) == 1
    qtbot.waitUntil(lambda: len(fired) == 2, timeout=1000)
    assert fired[1] - fired[0] >= 0.055
    qtbot.wait(70)
    throttle.request()
    assert len(fired) == 3


def test_a_request_a_little_early_for_its_interval_fires_at_once(qtbot):
    """Updates paced at the interval come a little early or late (the scheduler's jitter): an
    early one fires as it comes, not again from a timer a few milliseconds later."""
    throttle = Throttle(200)
    fired = []
    throttle.fired.connect(lambda: fired.append(1))
    throttle.request()
    qtbot.wait(170)  # 30 ms early: within the slack of a quarter interval
    throttle.request()
    assert len(fired) == 2


def test_with_hold_a_held_request_fires_on_a_later_due_request_not_on_its_timer(qtbot):
    throttle = Throttle(200, hold_ms=5_000)
    fired = []
    throttle.fired.connect(lambda: fired.append(1))
    throttle.request()
    qtbot.wait(40)
    throttle.request()  # held: the fallback timer would fire in 5 s
    assert len(fired) == 1
    qtbot.wait(180)
    throttle.request()  # due: fires now, carrying the held one
    assert len(fired) == 2
    qtbot.wait(60)
    assert len(fired) == 2  # and the fallback timer was stopped


def test_with_hold_a_held_request_fires_after_hold_when_no_request_follows(qtbot):
    throttle = Throttle(200, hold_ms=100)
    fired = []
    throttle.fired.connect(lambda: fired.append(1))
    throttle.request()
    throttle.request()
    assert len(fired) == 1
    qtbot.waitUntil(lambda: len(fired) == 2, timeout=2000)
