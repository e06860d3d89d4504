"""The installed PySide6 does not over-release None/True (6.12.0 did: the app aborted)."""

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    fired = Signal(object)


def test_void_calls_and_emits_keep_refcounts(qapp):
    emitter = _Emitter()
    emitter.fired.connect(lambda _x: None)
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(200):
        emitter.setObjectName("x")
        emitter.fired.emit([1])
    assert sys.getrefcount(None) >= none_before - 5
    assert sys.getrefcount(True) >= true_before - 5
