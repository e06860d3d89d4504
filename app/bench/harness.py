"""Runs turns through the real window offscreen, for benchmarks and the self-test."""

from __future__ import annotations

import os
import time
from dataclasses import replace

from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QObject, QTimer, Slot

from app.domain import events as ev
from app.domain.config import load_user_models
from app.domain.messages import AssistantMessage


def qt_app():
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from app.ui.qt_environment import prepare_qt_environment

    prepare_qt_environment()  # as the app does

    return QApplication.instance() or QApplication(["ponder-bench"])


class ArrivalRecorder(QObject):
    """Records when tokens reach the GUI thread (queued from the worker in batches): one time
    per token, so tokens that share a batch share its arrival time."""

    def __init__(self):
        super().__init__()
        self.times: list[float] = []

    @Slot(object)
    def on_batch(self, batch) -> None:
        now = time.perf_counter()
        self.times.extend(now for e in batch if type(e) is ev.TokenCounts)


class Pipeline:
    """A ChatSession and MainWindow (offscreen) on a model, greedy unless told otherwise."""

    def __init__(self, model_id: str | None = None, *, temperature: float | None = 0.0, factory=None,
                 no_budget: bool = False, memory_budget: int | None = None, store=None):
        """``store``: an app.store Store the turns are saved to as in the app (``self.persistence``)."""
        from app.controllers.chat_session import ChatSession
        from app.controllers.persistence import Persistence
        from app.ui.main_window import MainWindow

        self.app = qt_app()
        config = load_user_models()
        model_id = model_id or config.default
        def adjust(m):
            if m.id != model_id:
                return m
            if temperature is not None:
                m = replace(m, temperature=temperature)
            if no_budget and m.reasoning:
                m = replace(m, reasoning=replace(m.reasoning, budget=0))
            return m

        profiles = tuple(adjust(m) for m in config.models)
        config = replace(config, models=profiles, default=model_id)
        self.session = ChatSession(config, factory=factory, memory_budget=memory_budget)
        self.persistence = Persistence(self.session, store) if store is not None else None
        self.window = MainWindow(self.session, store=store, persistence=self.persistence)
        self.window.show()
        from app.ui.warm_up import warm_up_rendering

        warm_up_rendering()  # as the app does right after its window shows
        self.recorder = ArrivalRecorder()
        self.session.local_host.turn_events.connect(self.recorder.on_batch)
        self.info = None  # the ModelInfo of the loaded model, after load()
        self.session.local_host.load_finished.connect(self._on_loaded)

    def _on_loaded(self, _model_id, _seconds, info) -> None:
        self.info = info

    def load(self, timeout_s: float = 120) -> float:
        t0 = time.perf_counter()
        loop = QEventLoop()
        self.session.model_ready.connect(loop.quit)
        self.session.model_failed.connect(loop.quit)
        self.session.preload()
        QTimer.singleShot(int(timeout_s * 1000), loop.quit)
        loop.exec()
        self.session.model_ready.disconnect(loop.quit)
        self.session.model_failed.disconnect(loop.quit)
        return time.perf_counter() - t0

    def turn(self, prompt: str, *, max_tokens: int | None = None, stop_after_s: float | None = None,
             stop_after_tokens: int | None = None, timeout_s: float = 300) -> tuple[AssistantMessage, dict]:
        """Run one turn to its end; optionally press Stop after a delay or a token count."""
        if max_tokens is not None:
            self.session.set_options(replace(self.session.options, max_tokens=max_tokens))
        self.recorder.times.clear()
        done: dict = {}
        loop = QEventLoop()

        def finished(msg):
            done["t"] = time.perf_counter()
            loop.quit()

        def maybe_stop(_batch=None):
            if stop_after_tokens and "stop_t" not in done and len(self.recorder.times) >= stop_after_tokens:
                press_stop()

        def press_stop():
            if "stop_t" not in done:
                done["stop_t"] = time.perf_counter()
                self.session.stop()

        self.session.turn_finished.connect(finished)
        self.session.message_changed.connect(maybe_stop)
        if stop_after_s is not None:
            QTimer.singleShot(int(stop_after_s * 1000), press_stop)
        QTimer.singleShot(int(timeout_s * 1000), loop.quit)
        # A user types for a while after "New chat"; here the old chat's widgets would still be
        # waiting to be deleted when Send is pressed, and their deletion would run on the GUI
        # thread during the turn.
        QCoreApplication.sendPostedEvents(None, QEvent.DeferredDelete)
        t_send = time.perf_counter()
        self.session.send(prompt)
        loop.exec()
        self.session.turn_finished.disconnect(finished)
        self.session.message_changed.disconnect(maybe_stop)
        msg = self.session.conversation.messages[-1]
        timing = {"t_send": t_send, "t_done": done.get("t"), "t_stop": done.get("stop_t"),
                  "arrivals": list(self.recorder.times)}
        return msg, timing

    def close(self) -> None:
        self.window.close()  # its shutdown closes the persistence too
