"""The turn runner: one turn, the same way for local and cloud models, the window and the CLI.

A turn is a sequence of model calls (see :mod:`app.backends.base`): usually one; more when
the model calls tools (each tool round — :mod:`app.controllers.tool_rounds` — is followed by
a call that reads the results), and two when a model that cannot end its own thinking is
asked to answer now (the call is cancelled and the model asked again, with its reasoning so
far). The runner owns what is true of the whole turn, once:

* **Stop and Answer now** (:class:`~app.domain.turn_control.TurnControl`): a local backend
  sees them per token; for an asynchronous (cloud) backend the runner cancels the call at
  once, and for Answer now starts the follow-up call;
* **loop detection**: one :class:`~app.domain.runaway.LoopDetector` per turn, fed token ids
  where the backend has them and words of the reasoning text otherwise;
* **accounting across calls**: token counts and usage are made cumulative for the turn (the
  usage's ``input_tokens`` and ``cached_tokens`` add up every call's prompt, which is billed
  each time; its ``prompt_tokens`` stays the latest call's, what fills the context); later
  calls' ``TurnStarted`` become ``CallStarted``;
* **the token limit**: local backends count exactly and stop themselves; for the others the
  runner ends a call whose (estimated) output runs past ``max_tokens`` — a server that
  ignores the limit must not stream for ever;
* **errors**: any exception becomes one ``TurnFinished("error", sentence)``; what streamed is
  kept; the turn always ends with exactly one ``TurnFinished``;
* **timing**: the turn starts when its first call starts and ends when the runner is done.

It imports no Qt: the model worker runs it on its thread's own asyncio loop, the cloud host
on the qasync loop, ``ponder ask`` under ``asyncio.run``; :func:`drive_turn` hands the
events on in batches.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing
from dataclasses import replace
from typing import Callable

from app.backends.base import Backend, ModelCall
from app.controllers.tool_rounds import run_round
from app.controllers.toolbox import ToolBox
from app.domain import events as ev
from app.domain.growing_text import GrowingText
from app.domain.runaway import LoopDetector
from app.domain.tools.history import round_history
from app.domain.turn_control import TurnControl
from app.domain.turn_request import TurnRequest
from app.errors import PonderError

log = logging.getLogger("ponder.turn")

# Event types after which a batch is handed on (one batch per generated token, roughly).
FLUSH = frozenset({ev.TurnStarted, ev.CallStarted, ev.TokenCounts, ev.Usage, ev.RetryWait, ev.TurnFinished,
                   ev.ToolCallOpened, ev.ToolCallParsed, ev.ToolApprovalRequested, ev.ToolCallRunning,
                   ev.ToolCallFinished})
QUICK_TOKEN_S = 0.015  # tokens closer than this may share a batch (see drive_turn's coalesce_s)
LIMIT_SLACK = 1.1  # estimated tokens past max_tokens before the runner ends a call
ANSWER_NOW_PROMPT = "Stop thinking and give your final answer now, based on your reasoning so far:\n\n"
UNFINISHED = "The model stopped without finishing the turn."


async def events_of(call: ModelCall) -> AsyncIterator[ev.TurnEvent]:
    """A model call's events as an async iterator: the one adapter between local calls
    (generators, run inline: their thread's loop has nothing else to do) and cloud ones."""
    if isinstance(call, Iterator):
        try:
            for event in call:
                yield event
        finally:
            call.close()
    else:
        async with aclosing(call) as events:
            async for event in events:
                yield event


class _Tally:
    """What the runner keeps of a turn while its calls stream."""

    def __init__(self, token_ids: bool, limit: int | None = None) -> None:
        self.token_ids = token_ids
        self.limit = limit  # most generated tokens (estimated) before the runner ends the call
        self.base = (0, 0, 0)  # reasoning, answer, injected of the calls before this one
        self.call = (0, 0, 0)  # the same, of this call so far
        self.base_estimated = False  # an earlier call's counts were (wholly) estimates
        self.base_split = False  # an earlier call's reasoning/answer split was estimated
        self.base_input = (0, 0)  # billed input and of it cached, of the calls before this one
        self.call_usage: ev.Usage | None = None  # this call's latest usage, as its backend reported it
        self.in_reasoning = False
        self.cut = False  # the thinking was ended by Ponder (budget or Answer now)
        self.reasoning = GrowingText()
        self.loops = LoopDetector()
        self.alarmed = False
        self.pending = ""  # reasoning text of the token not yet counted (for loop offsets)
        self.started = False
        self.finished: ev.TurnFinished | None = None
        # of the current call: the calls it asked for, what it wrote, what its provider needs back
        self.requested: list = []
        self.streamed = 0  # generated tokens of this call by its TokenCounts
        self.call_answer = GrowingText()
        self.call_reasoning = GrowingText()
        self.call_written = GrowingText()  # all the call wrote, markers included
        self.provider_state: dict = {}

    @property
    def reasoning_tokens(self) -> int:
        return self.base[0] + self.call[0]

    @property
    def over_limit(self) -> bool:
        """This call streamed more (by its own token counts, not the provider's usage) than the limit."""
        return self.limit is not None and self.streamed > self.limit

    def end_call(self) -> None:
        self.base = tuple(a + b for a, b in zip(self.base, self.call))  # type: ignore[assignment]
        usage = self.call_usage
        if usage is not None:  # every call's input is billed, also one cancelled before its usage came
            self.base_input = (self.base_input[0] + _call_input(usage), self.base_input[1] + usage.cached_tokens)
            self.base_estimated = self.base_estimated or (usage.estimated and not usage.split_estimated)
            self.base_split = self.base_split or usage.split_estimated
        elif self.streamed:
            self.base_estimated = True
        self.call_usage = None
        self.call = (0, 0, 0)
        self.finished = None
        self.requested = []
        self.streamed = 0
        self.call_answer, self.call_reasoning, self.call_written = GrowingText(), GrowingText(), GrowingText()
        self.provider_state = {}

    def process(self, event: ev.TurnEvent, clock: Callable[[], float], t0: float,
                reason: str) -> list[ev.TurnEvent]:
        """What the turn passes on for one event of the current call."""
        kind = type(event)
        if kind is ev.TokenCounts:
            return self._counts(event, clock)
        if kind in (ev.ReasoningDelta, ev.AnswerDelta, ev.MarkupText):
            self.call_written.append(event.text)
        elif kind in (ev.BlockStart, ev.BlockEnd):
            self.call_written.append(event.marker)
        if kind is ev.ReasoningDelta:
            self.in_reasoning = True
            self.reasoning.append(event.text)
            self.call_reasoning.append(event.text)
            if self.token_ids:
                self.pending += event.text
                return [event]
            return [event, *self._loop(None, event.text, clock)]
        if kind is ev.AnswerDelta:
            self.in_reasoning = False
            self.call_answer.append(event.text)
        elif kind is ev.ToolCallParsed:
            self.requested.append(event.call)
        elif kind is ev.ProviderState:
            self.provider_state[event.backend] = event.data
        elif kind is ev.BlockStart:
            self.in_reasoning = True
        elif kind is ev.BlockEnd:
            self.in_reasoning = False
        elif kind is ev.BudgetCut:
            self.cut = True
        elif kind is ev.TurnStarted:
            if self.started:
                return [ev.CallStarted(event.t, event.prompt_tokens, reason)]
            self.started = True
            return [replace(event, t=t0)]
        elif kind is ev.Usage:
            return [self._usage(event)]
        elif kind is ev.TurnFinished:
            self.finished = event
            return []
        return [event]

    def _usage(self, event: ev.Usage) -> ev.Usage:
        """The turn's usage so far: this call's prompt (what fills the context), the counts and
        the billed input of all the calls (each call reads its whole prompt again)."""
        r, a, _ = self.base
        self.call = (event.reasoning_tokens, event.answer_tokens, self.call[2])
        self.call_usage = event
        totals_estimated = self.base_estimated or (event.estimated and not event.split_estimated)
        split = not totals_estimated and (self.base_split or event.split_estimated)
        return ev.Usage(event.prompt_tokens, r + event.reasoning_tokens, a + event.answer_tokens,
                        estimated=totals_estimated or split, cached_tokens=self.base_input[1] + event.cached_tokens,
                        input_tokens=self.base_input[0] + _call_input(event), split_estimated=split)

    def _counts(self, counts: ev.TokenCounts, clock) -> list[ev.TurnEvent]:
        was_reasoning = self.call[0]
        self.call = (counts.reasoning, counts.answer, counts.injected)
        self.streamed = counts.reasoning + counts.answer
        r, a, i = self.base
        out: list[ev.TurnEvent] = []
        if self.token_ids and counts.token >= 0 and counts.reasoning > was_reasoning:
            out = self._loop(counts.token, self.pending, clock)  # before the counts: in this token's batch
            self.pending = ""
        out.append(ev.TokenCounts(r + counts.reasoning, a + counts.answer, i + counts.injected, counts.t, counts.token))
        return out

    def _loop(self, token: int | None, text: str, clock) -> list[ev.TurnEvent]:
        if self.alarmed:
            return []
        alarm = self.loops.feed(token, text)
        if alarm is None:
            return []
        self.alarmed = True
        return [ev.LoopDetected(clock(), alarm)]


class TurnRunner:
    """Runs one turn on the backend that ``acquire()`` returns (it may load the model first;
    its errors end the turn like any other). :meth:`on` runs on a backend at hand."""

    def __init__(self, acquire: Callable[[], Backend], *, tools: ToolBox | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self._acquire = acquire
        self.tools = tools  # None: no tools (a request's tools need a toolbox to run them)
        self.clock = clock
        self._in_tools = False  # a tool round is running (Stop then cancels it, whatever the backend)

    @classmethod
    def on(cls, backend: Backend, **kw) -> "TurnRunner":
        return cls(lambda: backend, **kw)

    async def run(self, request: TurnRequest, control: TurnControl) -> AsyncIterator[ev.TurnEvent]:
        """The turn's events, ending with exactly one ``TurnFinished``."""
        clock = self.clock
        if control.stopped:
            yield ev.TurnFinished(clock(), "cancelled")
            return
        try:
            backend = self._acquire()
        except PonderError as exc:
            yield ev.TurnFinished(clock(), "error", str(exc))
            return
        except Exception as exc:  # a bug or a broken install must still end the turn
            log.exception("Preparing the model failed")
            yield ev.TurnFinished(clock(), "error", _unexpected(exc))
            return
        # per call; estimates run a little high or low: a server that honours max_tokens (and the
        # thinking budget, which some providers count apart) is never cut
        allowed = request.max_tokens + (request.thinking_budget or 0)
        limit = None if backend.counts_exactly else int(allowed * LIMIT_SLACK) + 16
        tally = _Tally(backend.token_ids, limit)
        remove = self._listen(backend, control, tally)
        try:
            async with aclosing(self._calls(backend, request, control, tally)) as events:
                async for event in events:
                    yield event
        finally:
            remove()

    async def _calls(self, backend: Backend, request: TurnRequest, control: TurnControl,
                     tally: _Tally) -> AsyncIterator[ev.TurnEvent]:
        clock = self.clock
        t0 = clock()
        reason = ""
        rounds = 0
        while True:
            finished: ev.TurnFinished | None = None
            follow_up = False
            try:
                async with aclosing(events_of(backend.stream(request, control))) as events:
                    async for event in events:
                        for out in tally.process(event, clock, t0, reason):
                            yield out
                        if type(event) is ev.TokenCounts and tally.over_limit:
                            tally.finished = ev.TurnFinished(clock(), "length")  # closing the call ends it
                            break
                finished = tally.finished or ev.TurnFinished(clock(), "error", UNFINISHED)
            except asyncio.CancelledError:
                _uncancel()
                follow_up = control.answer_now_requested and not control.stopped and self._may_cut(backend, tally)
                if not follow_up:
                    finished = ev.TurnFinished(clock(), "cancelled")
            except PonderError as exc:
                finished = ev.TurnFinished(clock(), "error", str(exc))
            except Exception as exc:  # a backend bug must not leave the turn hanging
                log.exception("A model call of %s failed", backend.profile.id)
                finished = ev.TurnFinished(clock(), "error", _unexpected(exc))
            reasoning_tokens = tally.reasoning_tokens
            calls, answer, thought, written, state = (tally.requested, str(tally.call_answer),
                                                      str(tally.call_reasoning), str(tally.call_written),
                                                      tally.provider_state)
            tally.end_call()
            if calls and not follow_up and self.tools is not None and finished.finish_reason in ("stop", "tool_calls") \
                    and not control.stopped:
                rounds += 1
                results: list = []
                self._in_tools = True
                try:
                    async for event in run_round(calls, self.tools, control, clock, results,
                                                 over_limit=rounds > self.tools.limits.max_rounds):
                        yield event
                except asyncio.CancelledError:
                    _uncancel()
                    finished = ev.TurnFinished(clock(), "cancelled")
                    break
                finally:
                    self._in_tools = False
                added = round_history(calls, results, content=answer.strip(), reasoning=thought.strip(),
                                      provider_state=state, written=written)
                last_round = rounds > self.tools.limits.max_rounds
                request = replace(request, messages=(*request.messages, *added), stripped_messages=None,
                                  markup=(*request.markup, *(() for _ in added)), grammar=None,
                                  tools=() if last_round else request.tools)
                reason = "tool"
                continue
            if not follow_up:
                break
            # Answer now on a model that cannot end its own thinking: the call was cancelled;
            # ask the same model for the answer, with its reasoning so far as context.
            tally.cut = True
            yield ev.BudgetCut(clock(), reasoning_tokens)
            yield ev.BlockEnd(clock())
            tally.in_reasoning = False
            yield ev.TurnNote(f"Answered from the reasoning so far ({reasoning_tokens:,} tokens), after Answer now.")
            ask = {"role": "user", "content": ANSWER_NOW_PROMPT + str(tally.reasoning).strip()}
            request = replace(request, messages=(*request.messages, ask), stripped_messages=None, thinking_budget=0)
            reason = "answer-now"
        assert finished is not None
        if finished.finish_reason == "tool_calls":  # calls nobody could run: the model stopped
            finished = replace(finished, finish_reason="stop")
        if tally.cut and finished.finish_reason == "stop":
            finished = replace(finished, finish_reason="budget")
        yield replace(finished, t=clock())

    @staticmethod
    def _may_cut(backend: Backend, tally: _Tally) -> bool:
        """Answer now applies: the runner (not the backend) ends this model's thinking."""
        return not backend.supports_answer_now and tally.in_reasoning and not tally.cut

    def _listen(self, backend: Backend, control: TurnControl, tally: _Tally) -> Callable[[], None]:
        """Cancel what is awaited when Stop is pressed (or an Answer now the backend cannot do
        itself), from whichever thread it is pressed on: an asynchronous backend's call, or a
        tool round. A local backend's call checks the controls itself, per token."""
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()

        def cancel(what: str) -> None:  # on the turn's loop
            if task is None or task.done() or not (backend.is_async or self._in_tools):
                return
            if what == "stop" or (what == "answer-now" and not self._in_tools and self._may_cut(backend, tally)):
                task.cancel()

        return control.listen(lambda what: loop.call_soon_threadsafe(cancel, what))


def _call_input(usage: ev.Usage) -> int:
    """The input one call's usage bills (a backend reports its own prompt)."""
    return usage.prompt_tokens if usage.input_tokens is None else usage.input_tokens


def _uncancel() -> None:
    """The runner handled a cancellation itself: let the task await again normally."""
    task = asyncio.current_task()
    if task is not None and hasattr(task, "uncancel"):  # Python 3.11+
        task.uncancel()


def _unexpected(exc: BaseException) -> str:
    return (f"The model failed unexpectedly ({type(exc).__name__}); what arrived is kept. "
            "Try again, or report this error with Ponder's log if it happens again.")


async def drive_turn(runner: TurnRunner, request: TurnRequest, control: TurnControl,
                     emit: Callable[[list[ev.TurnEvent]], None], *, coalesce_s: float = 0.0) -> None:
    """Run one turn and hand its events to ``emit`` in batches: one batch per token (it ends
    with the token's counts), per call start, usage report, retry countdown and the end.

    ``coalesce_s`` (local decoding): tokens that come faster than :data:`QUICK_TOKEN_S` apart
    share a batch for up to that long. Each batch wakes the GUI thread, and on a machine whose
    cores all decode, each wake-up stalls llama.cpp's threads at their next barrier. A held token
    goes out with the next event that is sent: in a fast stream the next token, a few ms later
    (a tool call, Stop and the end send at once)."""
    batch: list[ev.TurnEvent] = []
    last_emit = 0.0
    last_token_t = None
    async with aclosing(runner.run(request, control)) as events:
        async for event in events:
            batch.append(event)
            kind = type(event)
            if kind not in FLUSH:
                continue
            if kind is ev.TokenCounts and coalesce_s:
                quick = last_token_t is not None and event.t and event.t - last_token_t < QUICK_TOKEN_S
                last_token_t = event.t
                if quick and time.monotonic() - last_emit < coalesce_s:
                    continue
            emit(batch)
            batch = []
            last_emit = time.monotonic()
    if batch:
        emit(batch)


def run_turn_sync(runner: TurnRunner, request: TurnRequest, control: TurnControl,
                  emit: Callable[[list[ev.TurnEvent]], None], loop: asyncio.AbstractEventLoop | None = None, *,
                  coalesce_s: float = 0.0) -> None:
    """:func:`drive_turn` to its end on ``loop`` (a fresh one when None): for threads that
    have no running loop, such as the model worker's."""
    if loop is None:
        asyncio.run(drive_turn(runner, request, control, emit, coalesce_s=coalesce_s))
    else:
        loop.run_until_complete(drive_turn(runner, request, control, emit, coalesce_s=coalesce_s))
