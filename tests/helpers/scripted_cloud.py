"""A cloud host for tests that have no qasync loop: the real turn runner on a scripted backend.

The turn runs to its end on a fresh asyncio loop when it is started; its batches are handed on
from the Qt event loop afterwards, as a real cloud host would emit them.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from app.backends.fake import FakeCloudBackend
from app.controllers.turn_runner import TurnRunner, run_turn_sync


class ScriptedCloudHost(QObject):
    """Plays ``script`` (token texts) as a cloud model; ``backend_options`` go to FakeCloudBackend."""

    turn_events = Signal(object)
    turn_done = Signal()

    def __init__(self, script, **backend_options):
        super().__init__()
        self.script = list(script)
        self.options = backend_options
        self.backends: list[FakeCloudBackend] = []

    def run_turn(self, profile, request, control, tools=None) -> None:
        backend = FakeCloudBackend(profile, self.script, **self.options)
        self.backends.append(backend)
        batches: list[list] = []
        run_turn_sync(TurnRunner.on(backend, tools=tools), request, control, batches.append)

        def hand_on() -> None:
            for batch in batches:
                self.turn_events.emit(batch)
            self.turn_done.emit()

        QTimer.singleShot(0, hand_on)
