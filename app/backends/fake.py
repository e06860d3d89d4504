"""Scripted backends for tests, benchmarks and demos: one local-like, one cloud-like.

Both play a list of token texts through the real reasoning parser and token counting, at a
chosen pace; a ``ToolCall`` in the script is a call the model makes there (a turn's later
model calls, after a tool round or Answer now, play ``follow_up``: one script for all of
them, or a list of scripts, one per call). :class:`FakeBackend` behaves like the local backend (a generator that checks
Stop and Answer now per token and ends its own thinking by feeding the end marker);
:class:`FakeCloudBackend` like a cloud one (an async generator, stopped by cancelling its
task, that cannot end its own thinking, so the turn runner asks it again for the answer).
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import replace
from typing import AsyncIterator, Callable, ClassVar, Iterable, Iterator

from app.domain import events as ev
from app.domain.context_budget import ContextUsage
from app.domain.model_info import ModelInfo, thinking_capabilities
from app.domain.profiles import ModelProfile
from app.domain.reasoning.markers import MarkerSpec
from app.domain.reasoning.parser import make_parser
from app.domain.token_stream import TokenStream
from app.domain.turn_control import TurnControl
from app.domain.tools.types import ToolCall
from app.domain.turn_request import TurnRequest
from app.errors import BackendError


class _Script:
    """What both fakes share: the script, its pace and the scripted failure."""

    def __init__(self, profile: ModelProfile, script: Iterable = (), *, spec: MarkerSpec | None = None,
                 forced_open: bool = False, delay_s: float = 0.0, prompt_tokens: int = 10, n_ctx: int = 8192,
                 fail_at: int | None = None, follow_up: Iterable = (), clock: Callable[[], float] = time.monotonic):
        self.profile = profile
        self.script = list(script)
        self.follow_up = list(follow_up)
        self.spec = spec
        self.forced_open = forced_open
        self.delay_s = delay_s
        self.prompt_tokens = prompt_tokens
        self.n_ctx = n_ctx
        self.fail_at = fail_at  # raise a BackendError before this token (a fault mid-stream)
        self.clock = clock
        self.requests: list[TurnRequest] = []
        self._ids: dict[str, int] = {}

    def _script_for(self, call: int) -> list:
        """The script of the turn's ``call``-th model call (0 is the first)."""
        if call == 0:
            return self.script
        if self.follow_up and all(isinstance(s, list) for s in self.follow_up):
            return self.follow_up[call - 1] if call - 1 < len(self.follow_up) else []
        return self.follow_up

    def _tool_events(self, call: ToolCall, in_reasoning: bool) -> list[ev.TurnEvent]:
        t = self.clock()
        call = replace(call, in_reasoning=in_reasoning)
        return [ev.ToolCallOpened(t, call.id, call.name, in_reasoning), ev.ToolCallParsed(t, call)]

    def _token_id(self, text: str) -> int:
        return self._ids.setdefault(text, len(self._ids))

    def _fail(self, i: int) -> None:
        if self.fail_at is not None and i == self.fail_at:
            raise BackendError(f"The scripted model failed at token {i}.", model_id=self.profile.id)


class FakeBackend(_Script):
    """Plays ``script`` as one local model call; ``delay_s`` between tokens."""

    is_async: ClassVar[bool] = False
    supports_answer_now: ClassVar[bool] = True
    counts_exactly: ClassVar[bool] = True
    token_ids: ClassVar[bool] = True

    def __init__(self, profile: ModelProfile, script: Iterable[str] = (), *, load_s: float = 0.0,
                 memory_bytes: int = 0, load_blocks: threading.Event | None = None, **kw):
        super().__init__(profile, script, **kw)
        self.load_s = load_s
        self.load_blocks = load_blocks  # load() waits for this event (tests of quitting mid-load)
        self._memory = memory_bytes
        self.loaded = False

    def load(self, progress=None, should_stop=None) -> None:
        if self.load_blocks is not None:
            self.load_blocks.wait()
        if self.load_s:
            time.sleep(self.load_s)
        self.loaded = True

    def close(self) -> None:
        self.loaded = False

    @property
    def memory_bytes(self) -> int:
        return self._memory if self.loaded else 0

    @property
    def memory_key(self) -> tuple:
        return ("fake", self.profile.id)  # shares memory with nothing

    def info(self) -> ModelInfo:
        switchable, reasons = thinking_capabilities(self.profile)  # what the profile says
        return ModelInfo(self.profile.id, can_switch_thinking=switchable, reasons=reasons or self.spec is not None,
                         n_ctx=self.n_ctx, memory_bytes=self.memory_bytes)

    def measure_prompt(self, request: TurnRequest) -> tuple[list[int], ContextUsage]:
        return list(range(self.prompt_tokens)), ContextUsage(self.n_ctx, history=self.prompt_tokens)

    def stream(self, request: TurnRequest, control: TurnControl) -> Iterator[ev.TurnEvent]:
        script = self._script_for(len(self.requests))
        self.requests.append(request)
        parser = make_parser(self.spec, forced_open=self.forced_open)
        tokens = TokenStream(parser, self.clock)
        yield ev.TurnStarted(self.clock(), self.profile.id, self.prompt_tokens, self.n_ctx)
        finish, cut, skipping = "stop", False, False
        next_at = time.perf_counter()
        for i, text in enumerate(script):
            if isinstance(text, ToolCall):
                yield from self._tool_events(text, parser.in_reasoning)
                continue
            if skipping:  # after Answer now: the rest of the scripted reasoning is never written
                skipping = self.spec.end not in text
                continue
            if tokens.reasoning + tokens.answer >= request.max_tokens:
                finish = "length"
                break
            if self.delay_s:
                next_at += self.delay_s
                pause = next_at - time.perf_counter()
                if pause > 0:
                    control.stop_event.wait(pause)
            if control.stopped:
                finish = "cancelled"
                break
            if control.answer_now_requested and not cut and parser.in_reasoning and self.spec is not None:
                cut = True
                yield ev.BudgetCut(self.clock(), tokens.reasoning)
                yield from tokens.inject(self.spec.end, 1)
                skipping = self.spec.end not in text
                continue
            self._fail(i)
            yield from tokens.token(text, token_id=self._token_id(text))
        yield from tokens.finish()
        yield ev.TurnFinished(self.clock(), "budget" if cut and finish == "stop" else finish)


class FakeCloudBackend(_Script):
    """Plays ``script`` as a cloud model call (estimated counts, no token ids)."""

    is_async: ClassVar[bool] = True
    supports_answer_now: ClassVar[bool] = False
    counts_exactly: ClassVar[bool] = False
    token_ids: ClassVar[bool] = False

    def __init__(self, profile: ModelProfile, script: Iterable = (), *, where: str = "fake.example",
                 ignores_max_tokens: bool = False, **kw):
        super().__init__(profile, script, **kw)
        self.where = where
        self.ignores_max_tokens = ignores_max_tokens  # like a server that streams past the limit

    def load(self, progress=None, should_stop=None) -> None:
        """Nothing to load."""

    def close(self) -> None:
        """Nothing to free."""

    async def stream(self, request: TurnRequest, control: TurnControl | None = None) -> AsyncIterator[ev.TurnEvent]:
        first = not self.requests
        script = self._script_for(len(self.requests))
        self.requests.append(request)
        parser = make_parser(self.spec, forced_open=self.forced_open and first)
        tokens = TokenStream(parser, self.clock)
        yield ev.TurnStarted(self.clock(), self.profile.id, self.prompt_tokens, self.n_ctx, where=self.where)
        finish = "stop"
        for i, text in enumerate(script):
            if isinstance(text, ToolCall):
                for event in self._tool_events(text, parser.in_reasoning):
                    yield event
                finish = "tool_calls"
                continue
            if tokens.reasoning + tokens.answer >= request.max_tokens and not self.ignores_max_tokens:
                finish = "length"
                break
            await asyncio.sleep(self.delay_s)  # where a cancel lands, as on a network read
            if first:
                self._fail(i)
            for event in tokens.token(text):
                yield event
        for event in tokens.finish():
            yield event
        yield ev.Usage(self.prompt_tokens, tokens.reasoning, tokens.answer, estimated=True)
        yield ev.TurnFinished(self.clock(), finish)
