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
