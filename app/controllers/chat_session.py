"""The chat session: the controller between the composer, the model worker and the views.

It owns the conversation and the model worker's thread. Turn events arrive through queued
signals and are folded into the current ``AssistantMessage`` at once (cheap); the views are
told at most ~30 times a second through a :class:`Throttle`.

Signals:
    message_added(object message)    a user or assistant message was appended
    message_changed(object message)  the streaming message changed (throttled)
    turn_finished(object message)    the assistant message is complete (any finish reason)
    busy_changed(bool busy)          a turn started or ended
    model_loading(str model_id)      the worker started loading a model
    model_ready(str model_id, float seconds)
    model_failed(str model_id, str message)
    chat_reset()                     a new, empty conversation started
    prompt_measured(object usage)    what the next prompt (composer text included) will cost
    message_removed(object message)  a failed answer was replaced by a retry
    conversation_opened(object conv) a stored conversation was opened (the views rebuild)
    model_inspected(str id, str hint, str verdict)  a local model's size and fit, for the switcher
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Callable

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from app.backends.base import Backend
from app.backends.worker import BackendFactory, ModelWorker
from app.domain import events as ev
from app.domain.conversation import Conversation
from app.domain.messages import AssistantMessage
from app.domain.profiles import ModelProfile, ModelsConfig
from app.domain.turn_request import build_request
from app.controllers.throttle import Throttle


def default_factory(profile: ModelProfile) -> Backend:
    from app.backends.registry import create_backend

    return create_backend(profile)


class ChatSession(QObject):
    """One chat: sends turns to the worker, folds events into messages, throttles views."""

    message_added = Signal(object)
    message_changed = Signal(object)
    turn_finished = Signal(object)
    busy_changed = Signal(bool)
    model_loading = Signal(str)
    model_ready = Signal(str, float)
    model_failed = Signal(str, str)
    chat_reset = Signal()
    message_removed = Signal(object)
    conversation_opened = Signal(object)
    model_inspected = Signal(str, str, str)
    prompt_measured = Signal(object)

    _load_requested = Signal(object)
    _turn_requested = Signal(object, object)
    _measure_requested = Signal(object, object, object)
    _inspect_requested = Signal(object)

    def __init__(self, config: ModelsConfig, factory: BackendFactory | None = None,
                 max_tokens: int = 1024, parent: QObject | None = None, cloud_runner=None,
                 memory_budget: int | None = None):
        super().__init__(parent)
        self.config = config
        self.profile: ModelProfile = config.get(config.default)
        self.max_tokens = max_tokens
        self.conversation = Conversation()
        self.current: AssistantMessage | None = None
        self.carry: str | None = None  # this conversation's policy for earlier reasoning
        self._measure_tag = 0
        self._text_loops = None
        self._answer_after_cancel = False

        self._thread = QThread()
        self._thread.setObjectName("model-worker")
        self.worker = ModelWorker(factory or default_factory, memory_budget=memory_budget)
        self.worker.moveToThread(self._thread)
        self._load_requested.connect(self.worker.load)
        self._turn_requested.connect(self.worker.run_turn)
        self._measure_requested.connect(self.worker.measure)
        self._inspect_requested.connect(self.worker.inspect)
        self.worker.inspected.connect(self.model_inspected)  # re-emitted on this (GUI) thread
        self.worker.measured.connect(self._on_measured)
        self.worker.turn_events.connect(self._on_events)
        self.worker.turn_done.connect(self._on_turn_done)
        self.worker.load_started.connect(self.model_loading)
        self.worker.load_finished.connect(self.model_ready)
        self.worker.load_failed.connect(self.model_failed)
        self._thread.start()

        self._cloud = cloud_runner  # made on the first cloud turn (httpx costs ~0.3 s to import)
        if cloud_runner is not None:
            self._connect_cloud(cloud_runner)
        # Per-turn thinking controls from the composer (None: the model's defaults).
        self.thinking_budget: int | None = None
        self.thinking: bool | None = None
        self.min_thinking = 0
        # Asked once per conversation before local turns go to a cloud model; returns True
        # to go ahead. The window sets a dialog; None sends without asking (headless use).
        self.confirm_cloud: Callable[[ModelProfile], bool] | None = None

        self._throttle = Throttle(33, self)
        self._throttle.fired.connect(self._emit_changed)

    # -- commands from the UI --------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.current is not None

    def set_config(self, config: ModelsConfig) -> None:
        """Use an edited model list (the model manager saved it); keep the current model if it
        is still there. A changed file, context size or reasoning setup reloads on next use."""
        self.config = config
        keep = self.profile.id if self.profile.id in config.ids else config.default
        self.profile = config.get(keep)

    def set_model(self, model_id: str, *, preload: bool = True) -> None:
        """Use ``model_id`` from the next message on; the conversation stays."""
        self.profile = self.config.get(model_id)
        if preload and self.profile.is_local:
            self._load_requested.emit(self.profile)

    def task_hint(self, draft: str):
        """(sentence, suggested profile) when the draft looks better suited to another kind of
        model (reasoning for checkable multi-step work, instruct for chit-chat); else (None, None)."""
        from app.domain.task_hint import task_hint

        role = "reasoning" if self.profile.role in ("reasoning", "cloud") else "instruct"
        hint = task_hint(draft, role)
        if hint is None:
            return None, None
        wanted = "reasoning" if hint.suggested_role == "reasoning" else "instruct"
        target = next((m for m in self.config.models if m.role == wanted and m.enabled), None)
        return (hint.message, target) if target else (None, None)

    def inspect_models(self) -> None:
        """Ask the worker for each local model's size and fit (answers on ``model_inspected``)."""
        self._inspect_requested.emit(list(self.config.models))

    def preload(self) -> None:
        if self.profile.is_local:
            self._load_requested.emit(self.profile)

    def send(self, text: str) -> bool:
        """Start a turn with the user's text; False when busy or the text is empty."""
        text = text.strip()
        if not text or self.busy or not self._cloud_allowed():
            return False
        self.message_added.emit(self.conversation.add_user(text))
        self._start_turn(self._request(self.conversation.messages))
        return True

    def retry(self, *, note: str = "", drop_turns: int = 0, carry: str | None = None,
              thinking_budget: int | None = None, max_tokens: int | None = None, n_ctx: int | None = None) -> bool:
        """Run the last turn again in place of its answer, changed as the user chose
        (after an overflow, or a turn whose thinking used up the budget)."""
        last = self.conversation.messages[-1] if self.conversation.messages else None
        if self.busy or not isinstance(last, AssistantMessage):
            return False
        self.conversation.messages.pop()
        self.message_removed.emit(last)
        if carry:
            self.carry = carry
        if n_ctx:
            self.profile = replace(self.profile, n_ctx=n_ctx)  # the worker reloads with it
        request = self._request(self.conversation.messages, drop_turns=drop_turns, thinking_budget=thinking_budget)
        if max_tokens:
            request = replace(request, max_tokens=max_tokens)
        self._start_turn(request, notes=[note] if note else [])
        return True

    def choose(self, message: AssistantMessage, action: str) -> bool:
        """The user's answer to an overflow or out-of-budget message (see the message's buttons)."""
        limit = self.profile.max_tokens or self.max_tokens
        if action == "strip":
            return self.retry(carry="strip", note="Earlier thinking was left out so the prompt fits the context.")
        if action == "drop" and message.overflow and message.overflow.drop_turns:
            n = message.overflow.drop_turns
            return self.retry(carry="strip", drop_turns=n,
                              note=f"The {n} oldest turn{'s' if n > 1 else ''} (and earlier thinking) were left "
                                   "out so the prompt fits the context.")
        if action == "larger":
            if message.stats.generated_tokens >= limit:
                return self.retry(max_tokens=2 * limit, note=f"Continued with a larger token limit ({2 * limit:,}).")
            n_ctx = 2 * (message.stats.n_ctx or self.profile.n_ctx or 8192)
            return self.retry(n_ctx=n_ctx, note=f"Continued with a larger context ({n_ctx:,} tokens).")
        if action == "answer":
            from app.domain.steering import GRACE_TOKENS

            budget = max(16, int(message.stats.reasoning_tokens * 0.75))
            return self.retry(thinking_budget=budget, max_tokens=max(limit, budget + GRACE_TOKENS + 256),
                              note=f"Thinking was limited to {budget:,} tokens so that an answer fits.")
        return False

    def _start_turn(self, request, notes: list[str] | None = None) -> None:
        profile = self.profile
        self.current = self.conversation.add_assistant(profile.id)
        self.current.notes = list(notes or [])
        self.current.stats.t_start = time.monotonic()
        self.worker.stop_event.clear()
        self.worker.answer_now_event.clear()
        self._text_loops = None  # local backends detect loops on token ids themselves
        self.message_added.emit(self.current)
        self.busy_changed.emit(True)
        if profile.is_cloud:
            from app.domain.runaway import LoopDetector

            self._text_loops = LoopDetector()
            self.cloud.run_turn(profile, request)
        else:
            self._turn_requested.emit(profile, request)

    @property
    def cloud(self):
        """The runner of cloud turns on the qasync loop (same signals as the model worker)."""
        if self._cloud is None:
            from app.backends.cloud_runner import CloudRunner

            self._cloud = CloudRunner(parent=self)
            self._connect_cloud(self._cloud)
        return self._cloud

    def _connect_cloud(self, runner) -> None:
        runner.turn_events.connect(self._on_events)
        runner.turn_done.connect(self._on_turn_done)

    def thinking_capabilities(self) -> tuple[bool, bool]:
        """(can switch thinking off, reasons at all) for the current model; from the loaded
        model's template and markers when it is resident, else from its profile."""
        profile = self.profile
        if profile.is_cloud:
            return False, profile.backend in ("anthropic", "gemini", "openai", "openai-responses")
        backend = self.worker.backends.get(profile.id)
        setup = getattr(backend, "setup", None)
        if setup is not None:
            return bool(setup.enable_thinking_switch or setup.prompt_suffix), setup.spec is not None
        reasoning = profile.reasoning
        return bool(reasoning and reasoning.forced_open), profile.role == "reasoning" or bool(reasoning)

    def _cloud_allowed(self) -> bool:
        """Local turns may hold private material: ask once per conversation before a cloud
        model sees them."""
        conv = self.conversation
        if not self.profile.is_cloud or conv.cloud_confirmed or self.confirm_cloud is None:
            return True
        if not any(isinstance(m, AssistantMessage) and m.where == "local" for m in conv.messages):
            return True
        conv.cloud_confirmed = self.confirm_cloud(self.profile)
        return conv.cloud_confirmed

    def _request(self, messages, **overrides):
        profile = self.profile
        options = {"thinking_budget": self.thinking_budget, "thinking": self.thinking,
                   "min_thinking": self.min_thinking}
        options.update(overrides)
        return build_request(messages, profile, max_tokens=profile.max_tokens or self.max_tokens,
                             carry=self.carry, **options)

    @property
    def effective_carry(self) -> str:
        """The policy in force: this conversation's choice, else the model's."""
        reasoning = self.profile.reasoning
        return self.carry or (reasoning.carry if reasoning else "strip")

    def set_carry(self, policy: str) -> None:
        """This conversation's policy for earlier reasoning in later prompts."""
        self.carry = policy

    def live_usage(self, message: AssistantMessage, now: float | None = None):
        """The gauge's numbers for a streaming or finished message, with the thinking forecast."""
        from app.domain.context_budget import ContextUsage, Forecast, thinking_forecast

        usage = ContextUsage.from_stats(message.stats)
        block = message.open_block
        if block is None or message.finished:
            return usage, Forecast(False)
        now = time.monotonic() if now is None else now
        limit = self.profile.max_tokens or self.max_tokens
        return usage, thinking_forecast(usage, thinking_s=now - block.start,
                                        reasoning_tokens=message.stats.reasoning_tokens,
                                        max_tokens_left=limit - message.stats.generated_tokens)

    def measure_next_prompt(self, draft: str = "") -> None:
        """Ask what the next prompt (with ``draft`` as the user's message) would cost."""
        from app.domain.messages import UserMessage

        messages = list(self.conversation.messages)
        if draft.strip():
            messages.append(UserMessage(draft.strip()))
        self._measure_tag += 1
        self._measure_requested.emit(self.profile, self._request(messages), self._measure_tag)

    @Slot(object, object)
    def _on_measured(self, tag, usage) -> None:
        if tag == self._measure_tag:  # only the latest draft counts
            self.prompt_measured.emit(usage)

    def new_chat(self) -> None:
        """Start an empty conversation (the running turn, if any, is stopped first)."""
        self.stop()
        self.conversation = Conversation()
        self.carry = None
        self.chat_reset.emit()

    def open_conversation(self, conversation: Conversation) -> None:
        """Continue a stored conversation (the running turn, if any, is stopped first)."""
        self.stop()
        self.conversation = conversation
        self.carry = None
        self.conversation_opened.emit(conversation)

    def regenerate(self) -> bool:
        """A new version of the last answer, with the current model (the old one is kept)."""
        return self.retry(note="")

    def edit_user_message(self, message, text: str) -> bool:
        """Continue from ``message`` with new text; what followed stays reachable as another
        branch in the store."""
        text = text.strip()
        msgs = self.conversation.messages
        index = next((i for i, m in enumerate(msgs) if m is message), None)
        if self.busy or not text or index is None:
            return False
        removed = msgs[index:]
        del msgs[index:]
        for old in removed:
            self.message_removed.emit(old)
        return self.send(text)

    def stop(self) -> None:
        """Stop the running turn as soon as the worker sees it (between tokens or prompt slices)."""
        if self.busy:
            self.worker.stop_event.set()
            if self._cloud is not None:
                self._cloud.stop()

    def answer_now(self) -> None:
        """End the thinking now and let the model answer. Local: Ponder feeds the end marker.
        Cloud (no such control): the stream stops and the same model is asked for an answer
        from the reasoning so far."""
        if not self.busy:
            return
        if self.profile.is_cloud:
            self._answer_after_cancel = True
            self.cloud.stop()
        else:
            self.worker.answer_now_event.set()

    def _answer_from_reasoning(self, stopped: AssistantMessage) -> None:
        """The follow-up turn of a cloud Answer now: the reasoning so far goes in as context."""
        from app.domain.messages import UserMessage

        reasoning = stopped.reasoning
        ask = UserMessage("Stop thinking and give your final answer now, based on your reasoning so far:\n\n"
                          + reasoning)
        request = self._request([*self.conversation.messages[:-1], ask], thinking_budget=0)
        self._start_turn(request, notes=[f"Answered from the reasoning so far ({stopped.stats.reasoning_tokens:,} "
                                         "tokens), after Answer now."])

    def shutdown(self) -> None:
        """Stop any turn, end the worker thread and wait for it (call before the app quits)."""
        self.worker.stop_event.set()
        if self._cloud is not None:
            self._cloud.stop()
        self._thread.quit()
        self._thread.wait()
        self.worker.close_all()

    # -- from the worker -------------------------------------------------------------------
    @Slot(object)
    def _on_events(self, batch: list) -> None:
        msg = self.current
        if msg is None:
            return
        for event in batch:
            msg.apply(event)
            if self._text_loops is not None and type(event) is ev.ReasoningDelta and msg.loop_alarm is None:
                alarm = self._text_loops.feed(None, event.text)  # cloud: words, no token ids
                if alarm is not None:
                    msg.apply(ev.LoopDetected(time.monotonic(), alarm))
        self._throttle.request()

    @Slot()
    def _on_turn_done(self) -> None:
        msg = self.current
        if msg is None:
            return
        if not msg.finished:  # the worker ended without a TurnFinished: say so, keep the text
            msg.apply(ev.TurnFinished(time.monotonic(), "error", "The model stopped without finishing the turn."))
        self.current = None
        self._throttle.flush()
        self.message_changed.emit(msg)
        self.busy_changed.emit(False)
        self.turn_finished.emit(msg)
        if self._answer_after_cancel:
            self._answer_after_cancel = False
            if msg.finish_reason == "cancelled":
                # after the cancelled task has fully ended (this runs inside its last step)
                QTimer.singleShot(0, lambda: self._answer_from_reasoning(msg))

    @Slot()
    def _emit_changed(self) -> None:
        if self.current is not None:
            self.message_changed.emit(self.current)
