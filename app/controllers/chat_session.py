"""The chat session: one chat's lifecycle, between the composer, the turn hosts and the views.

It owns the conversation and the model worker's thread, starts each turn on the host that
runs it (the worker thread for local models, the qasync loop for cloud ones — both through
the same turn runner), folds the turn's events into the current ``AssistantMessage`` at once
(cheap) and tells the views at most ~20 times a second through a :class:`Throttle`. The
window changes it only through its methods.

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

from PySide6.QtCore import QObject, Signal, Slot

from app.controllers.live_usage import LiveUsage
from app.controllers.local_host import LocalHost
from app.controllers.model_worker import BackendFactory
from app.controllers.throttle import Throttle
from app.domain import events as ev
from app.domain.conversation import Conversation
from app.domain.messages import AssistantMessage, UserMessage
from app.domain.model_info import ModelInfo, thinking_capabilities
from app.domain.profiles import ModelProfile, ModelsConfig
from app.domain.recovery import RetryPlan, recovery_plan
from app.domain.turn_control import TurnControl
from app.domain.turn_request import DEFAULT_MAX_TOKENS, TurnOptions, build_request

SHUTDOWN_WAIT_S = 1.5  # closing the window returns within 2 s even while a load cannot be interrupted


class ChatSession(QObject):
    """One chat: starts turns, folds their events into messages, throttles the views."""

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

    def __init__(self, config: ModelsConfig, factory: BackendFactory | None = None,
                 max_tokens: int = DEFAULT_MAX_TOKENS, parent: QObject | None = None, cloud_host=None,
                 memory_budget: int | None = None, threads: int | None = None):
        super().__init__(parent)
        self._config = config
        self._profile: ModelProfile = config.get(config.default)
        self._default_max_tokens = max_tokens
        self._options = TurnOptions()
        self._conversation = Conversation()
        self._current: AssistantMessage | None = None
        self._control = TurnControl()
        self._ready: dict[str, ModelInfo] = {}
        self._confirm_cloud: Callable[[ModelProfile], bool] | None = None
        self._measure_tag = 0
        self._mcp = self._mcp_loop = None
        self._allowed_tools: set[str] = set()  # allowed for this conversation (a card's choice)
        self._tool_policies: dict[str, str] = {}  # "always allow" chosen on a card, for the session
        self.usage = LiveUsage(self)

        if factory is None:
            from app.backends.registry import local_backends

            factory = local_backends(threads)
        self.local_host = LocalHost(factory, memory_budget=memory_budget, parent=self)
        host = self.local_host
        host.inspected.connect(self.model_inspected)
        host.measured.connect(self._on_measured)
        host.load_started.connect(self.model_loading)
        host.load_finished.connect(self._on_loaded)
        host.load_failed.connect(self.model_failed)
        self._connect_host(host)
        self._cloud = cloud_host  # made on the first cloud turn (httpx costs ~0.3 s to import)
        if cloud_host is not None:
            self._connect_host(cloud_host)
        self._throttle = Throttle(parent=self)
        self._throttle.fired.connect(self._emit_changed)

    # -- reading ---------------------------------------------------------------------------
    config = property(lambda self: self._config)
    profile = property(lambda self: self._profile)
    conversation = property(lambda self: self._conversation)
    current = property(lambda self: self._current, doc="the streaming assistant message, if any")
    options = property(lambda self: self._options)
    busy = property(lambda self: self._current is not None)

    @property
    def max_tokens(self) -> int:
        """The token limit of the next turn: the options', the model's, else the app's default."""
        return self._options.max_tokens or self._profile.max_tokens or self._default_max_tokens

    @property
    def effective_carry(self) -> str:
        """The policy in force for earlier reasoning: this conversation's choice, else the model's."""
        reasoning = self._profile.reasoning
        return self._options.carry or (reasoning.carry if reasoning else "strip")

    def thinking_capabilities(self) -> tuple[bool, bool]:
        """(can switch thinking off, reasons at all) for the current model."""
        return thinking_capabilities(self._profile, self._ready.get(self._profile.id))

    # -- settings --------------------------------------------------------------------------
    def set_config(self, config: ModelsConfig) -> None:
        """Use an edited model list (the model manager saved it); keep the current model if it
        is still there. A changed file, context size or reasoning setup reloads on next use."""
        self._config = config
        self._profile = config.get(self._profile.id if self._profile.id in config.ids else config.default)

    def set_model(self, model_id: str, *, preload: bool = True) -> None:
        """Use ``model_id`` from the next message on; the conversation stays."""
        self._profile = self._config.get(model_id)
        if preload:
            self.preload()

    def set_options(self, options: TurnOptions) -> None:
        """The composer's choices (and the conversation's carry policy) for the next turns."""
        self._options = options

    def set_tools(self, specs) -> None:
        """Offer these tools (``ToolSpec``s) to the model from the next turn on; empty: no tools.

        The choice belongs to the conversation: a new or reopened conversation starts without tools.
        """
        self._options = replace(self._options, tools=tuple(specs))

    @property
    def tools(self) -> tuple:
        """The tools the next turn offers (``ToolSpec``s)."""
        return self._options.tools

    def set_cloud_confirmation(self, confirm: Callable[[ModelProfile], bool] | None) -> None:
        """Asked once per conversation before local turns go to a cloud model; True goes ahead."""
        self._confirm_cloud = confirm

    def preload(self) -> None:
        if self._profile.is_local:
            self.local_host.load(self._profile)

    def inspect_models(self) -> None:
        """Ask the worker for each local model's size and fit (answers on ``model_inspected``)."""
        self.local_host.inspect(list(self._config.models))

    # -- turns -----------------------------------------------------------------------------
    def send(self, text: str) -> bool:
        """Start a turn with the user's text; False when busy or the text is empty."""
        text = text.strip()
        if not text or self.busy or not self._cloud_allowed():
            return False
        self.message_added.emit(self._conversation.add_user(text))
        self._start_turn(self._request(self._conversation.messages))
        return True

    def retry(self, plan: RetryPlan = RetryPlan()) -> bool:
        """Run the last turn again in place of its answer, changed as ``plan`` says."""
        messages = self._conversation.messages
        last = messages[-1] if messages else None
        if self.busy or not isinstance(last, AssistantMessage):
            return False
        messages.pop()
        self.message_removed.emit(last)
        if plan.carry:
            self._options = replace(self._options, carry=plan.carry)
        if plan.n_ctx:
            self._profile = replace(self._profile, n_ctx=plan.n_ctx)  # the worker reloads with it
        request = self._request(messages, drop_turns=plan.drop_turns,
                                **({"thinking_budget": plan.thinking_budget} if plan.thinking_budget else {}))
        if plan.max_tokens:
            request = replace(request, max_tokens=plan.max_tokens)
        self._start_turn(request, notes=[plan.note] if plan.note else [])
        return True

    def choose(self, message: AssistantMessage, action: str) -> bool:
        """The user's answer to an overflow or out-of-budget message (its buttons)."""
        plan = recovery_plan(message, action, max_tokens=self.max_tokens, n_ctx=self._profile.n_ctx)
        return plan is not None and self.retry(plan)

    def regenerate(self) -> bool:
        """A new version of the last answer, with the current model (the old one is kept)."""
        return self.retry()

    def edit_user_message(self, message: UserMessage, text: str) -> bool:
        """Continue from ``message`` with new text; what followed stays reachable as another
        branch in the store."""
        messages = self._conversation.messages
        index = next((i for i, m in enumerate(messages) if m is message), None)
        if self.busy or not text.strip() or index is None:
            return False
        for old in messages[index:]:
            self.message_removed.emit(old)
        del messages[index:]
        return self.send(text)

    def stop(self) -> None:
        """Stop the running turn at once; what it produced stays."""
        if self.busy:
            self._control.stop()

    def answer_now(self) -> None:
        """End the thinking now and let the model answer (the turn runner knows how)."""
        if self.busy:
            self._control.answer_now()

    def approve_tool(self, call_id: str, arguments: dict, remember: str | None = None) -> None:
        """Run the call waiting on its card with ``arguments`` (as the user left them);
        ``remember`` "conversation" or "always" keeps allowing the tool ("" or None: ask again)."""
        if self.busy:
            self._control.approve(call_id, arguments, remember=remember or None)

    def deny_tool(self, call_id: str) -> None:
        """Do not run the waiting call; the model is told the user declined it."""
        if self.busy:
            self._control.deny(call_id)

    def measure_next_prompt(self, draft: str = "") -> None:
        """Ask what the next prompt (with ``draft`` as the user's message) would cost."""
        messages = list(self._conversation.messages)
        if draft.strip():
            messages.append(UserMessage(draft.strip()))
        self._measure_tag += 1
        if self._profile.is_cloud:  # no model to ask: the cloud backends' own estimate, at once
            from app.backends.cloud.base import estimate_prompt_usage

            self.prompt_measured.emit(estimate_prompt_usage(self._profile, self._request(messages)))
            return
        self.local_host.measure(self._profile, self._request(messages), self._measure_tag)

    def _request(self, messages, **overrides):
        options = {**self._options.request_kwargs(), **overrides}
        return build_request(messages, self._profile, max_tokens=self.max_tokens, **options)

    def _start_turn(self, request, notes: list[str] | None = None) -> None:
        profile = self._profile
        self._current = self._conversation.add_assistant(profile.id)
        self._current.notes = list(notes or [])
        self._control = TurnControl()
        self.message_added.emit(self._current)
        self.busy_changed.emit(True)
        host = self._cloud_host() if profile.is_cloud else self.local_host
        host.run_turn(profile, request, self._control, self._toolbox(request))

    def set_mcp(self, manager, loop) -> None:
        """The MCP servers (an ``app.tools.mcp_servers.McpManager``) and the loop they run on."""
        self._mcp, self._mcp_loop = manager, loop

    def _toolbox(self, request):
        """What runs the turn's tools (None when it offers none): the conversation's allowances
        and the session's "always allow" choices carry over from turn to turn."""
        if not request.tools:
            return None
        from app.controllers.toolbox import ToolBox

        mcp_tools = {s.name: (s.source.removeprefix("mcp:"), s.name) for s in request.tools if s.is_mcp}
        return ToolBox(tuple(request.tools), mcp=self._mcp, mcp_loop=self._mcp_loop, mcp_tools=mcp_tools,
                       allowed=self._allowed_tools, policies=self._tool_policies)

    def _cloud_host(self):
        if self._cloud is None:
            from app.controllers.cloud_host import CloudHost

            self._cloud = CloudHost(parent=self)
            self._connect_host(self._cloud)
        return self._cloud

    def _connect_host(self, host) -> None:
        host.turn_events.connect(self._on_events)
        host.turn_done.connect(self._on_turn_done)

    def _cloud_allowed(self) -> bool:
        """Local turns may hold private material: ask once per conversation before a cloud
        model sees them."""
        conv = self._conversation
        if self._confirm_cloud is not None and conv.needs_cloud_consent(self._profile.is_cloud):
            conv.cloud_confirmed = self._confirm_cloud(self._profile)
            return conv.cloud_confirmed
        return True

    # -- conversations ---------------------------------------------------------------------
    def new_chat(self) -> None:
        """Start an empty conversation (the running turn, if any, is stopped first)."""
        self.open_conversation(Conversation(), reset=True)

    def open_conversation(self, conversation: Conversation, *, reset: bool = False) -> None:
        """Continue ``conversation`` (the running turn, if any, is stopped first)."""
        self.stop()
        self._conversation = conversation
        self._options = replace(self._options, carry=None, tools=())
        self._allowed_tools = set()
        if reset:
            self.chat_reset.emit()
        else:
            self.conversation_opened.emit(conversation)

    def shutdown(self, timeout_s: float = SHUTDOWN_WAIT_S) -> bool:
        """Stop any turn and end the worker thread, waiting at most ``timeout_s``.

        False when the worker did not end in time (a model load that cannot be interrupted):
        it is left to end with the process, which should then exit without waiting."""
        self._control.stop()
        return self.local_host.shutdown(timeout_s)

    # -- from the hosts --------------------------------------------------------------------
    @Slot(object)
    def _on_events(self, batch: list) -> None:
        msg = self._current
        if msg is None:
            return
        for event in batch:
            msg.apply(event)
        self._throttle.request()

    @Slot()
    def _on_turn_done(self) -> None:
        msg = self._current
        if msg is None:
            return
        if not msg.finished:  # the host ended without a TurnFinished: say so, keep the text
            msg.apply(ev.TurnFinished(time.monotonic(), "error", "The model stopped without finishing the turn."))
        self._current = None
        self._throttle.flush()
        self._emit(msg)
        self.busy_changed.emit(False)
        self.turn_finished.emit(msg)

    @Slot(str, float, object)
    def _on_loaded(self, model_id: str, seconds: float, info: ModelInfo) -> None:
        self._ready[model_id] = info
        self.model_ready.emit(model_id, seconds)

    @Slot(object, object)
    def _on_measured(self, tag, usage) -> None:
        if tag == self._measure_tag:  # only the latest draft counts
            self.prompt_measured.emit(usage)

    @Slot()
    def _emit_changed(self) -> None:
        if self._current is not None:
            self._emit(self._current)

    def _emit(self, msg: AssistantMessage) -> None:
        self.message_changed.emit(msg)
        self.usage.update(msg, self.max_tokens)
