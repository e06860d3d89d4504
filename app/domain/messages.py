"""Messages of a conversation, built from turn events.

An :class:`AssistantMessage` is filled by :meth:`AssistantMessage.apply`, one turn event at a
time. It keeps the reasoning blocks (text, start, end, token count), the answer, the raw
output and the statistics of the turn; the views and the store read it, never the events.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from app.domain import events as ev
from app.domain.growing_text import GrowingText


class StreamedText:
    """A ``str`` field kept in a :class:`GrowingText`, so streaming appends are O(1).

    A data descriptor used as a dataclass field default (the dataclasses documentation's
    "descriptor-typed fields"): ``__init__`` stores through ``__set__``, reads give the
    whole ``str``. The buffer is the ``_<name>`` attribute; parts append to it with their
    own ``append`` and views read only what is new (``text_since``, ``text_tail``).
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = "_" + name

    def __get__(self, obj: object, owner: type | None = None) -> str:
        if obj is None:
            return ""  # the field's default
        return str(getattr(obj, self.slot))

    def __set__(self, obj: object, value: str) -> None:
        setattr(obj, self.slot, GrowingText(value))


class _Streamed:
    """Cheap reads and appends of a part's streamed ``text``."""

    _text: GrowingText

    def append(self, text: str) -> None:
        self._text.append(text)

    def text_since(self, offset: int) -> str:
        return self._text.since(offset)

    def text_tail(self, n: int) -> str:
        return self._text.tail(n)

    @property
    def text_length(self) -> int:
        return len(self._text)

    @property
    def text_buffer(self) -> GrowingText:
        """The buffer itself; another object than before means the text was replaced, not grown."""
        return self._text


@dataclass
class ReasoningBlock(_Streamed):
    """One reasoning block of an assistant message."""

    text: str = StreamedText()  # type: ignore[assignment]
    start: float = 0.0
    end: float | None = None
    tokens: int = 0
    truncated: bool = False
    hidden_tokens: int = 0  # provider reasoned but sent no text (count only)
    redacted: bool = False
    budget_cut: bool = False  # Ponder ended it by feeding the end marker
    signature: str = ""  # provider signature (Anthropic), sent back unmodified when required
    redacted_data: str = ""  # provider's opaque redacted-thinking payload
    expanded: bool | None = None  # the user's choice for this block's panel (None: default)
    extensions: list[int] = field(default_factory=list)  # offsets where Ponder made it go on
    paused_for_call: bool = False  # the model called a tool mid-thought; a later block goes on
    mentions: list[tuple[int, str]] = field(default_factory=list)  # (offset, tool) written while thinking, not called

    @property
    def seconds(self) -> float:
        return 0.0 if self.end is None else max(0.0, self.end - self.start)

    @property
    def visible(self) -> bool:
        """Whitespace-only blocks (``<think>\\n\\n</think>``) show no panel."""
        return bool(self.text.strip()) or self.hidden_tokens > 0 or self.redacted


@dataclass
class AnswerPart(_Streamed):
    """A run of answer text between reasoning blocks (interleaved thinking has several)."""

    text: str = StreamedText()  # type: ignore[assignment]


@dataclass
class TurnStats:
    """Timings and token counts of one turn, derived from its events."""

    prompt_tokens: int = 0
    reasoning_tokens: int = 0
    answer_tokens: int = 0
    injected_tokens: int = 0
    n_ctx: int = 0
    system_tokens: int = 0
    carried_tokens: int = 0
    tool_schema_tokens: int = 0  # of prompt_tokens: the tools offered (their schemas in the prompt)
    tool_result_tokens: int = 0  # what the tool rounds added to the context (results and their markup)
    round_tokens: dict[int, int] = field(default_factory=dict)  # the same, per tool round
    t_start: float = 0.0
    t_first_token: float | None = None
    t_first_answer: float | None = None
    t_end: float | None = None
    estimated: bool = False
    # billing (app.domain.cost): the input of all the turn's model calls (0: not recorded, then
    # prompt_tokens), of it read from the prompt cache, whether only the reasoning/answer split
    # is estimated, how many model calls the turn made, and the first call's prompt
    input_tokens: int = 0
    cached_tokens: int = 0
    split_estimated: bool = False
    model_calls: int = 0
    first_prompt_tokens: int = 0
    # arrival time of every generated token, in order (the trace viewer's timeline)
    token_times: list[float] = field(default_factory=list)

    @property
    def generated_tokens(self) -> int:
        return self.reasoning_tokens + self.answer_tokens

    @property
    def ttft_s(self) -> float | None:
        return None if self.t_first_token is None else self.t_first_token - self.t_start

    @property
    def first_answer_s(self) -> float | None:
        return None if self.t_first_answer is None else self.t_first_answer - self.t_start

    @property
    def total_s(self) -> float | None:
        return None if self.t_end is None else self.t_end - self.t_start

    @property
    def tokens_per_s(self) -> float | None:
        """Decode speed: generated tokens after the first, over the time after the first."""
        if self.t_first_token is None or self.t_end is None:
            return None
        span = self.t_end - self.t_first_token
        if span <= 0 or self.generated_tokens < 2:
            return None
        return (self.generated_tokens - 1) / span


TOOL_STATES = ("writing", "requested", "awaiting-approval", "running", "done", "error", "denied")


@dataclass
class ToolCallPart:
    """A tool call where it happened in the message (between reasoning blocks and answer runs).

    ``call`` is an ``app.domain.tools.types.ToolCall``; ``result`` its ``ToolResult`` once
    finished. ``state`` moves through :data:`TOOL_STATES`; ``reach`` is what the approval card
    says the tool can reach; ``round`` is the turn's tool round (1-based).
    """

    call: object
    state: str = "writing"
    round: int = 1
    reach: str = ""
    result: object | None = None
    approved: bool | None = None
    t_start: float | None = None
    t_end: float | None = None

    @property
    def call_id(self) -> str:
        return getattr(self.call, "id", "")

    @property
    def finished(self) -> bool:
        return self.state in ("done", "error", "denied")


@dataclass
class UserMessage:
    """What the user typed."""

    text: str
    role: str = "user"
    uid: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass
class AssistantMessage:
    """An assistant turn: ordered parts (reasoning blocks and answer runs), raw output, stats."""

    model_id: str = ""
    where: str = "local"
    parts: list[ReasoningBlock | AnswerPart | ToolCallPart] = field(default_factory=list)
    raw: str = StreamedText()  # type: ignore[assignment]  # everything the model wrote, markers included
    stats: TurnStats = field(default_factory=TurnStats)
    finish_reason: str | None = None
    error: str | None = None
    role: str = "assistant"
    uid: str = field(default_factory=lambda: uuid.uuid4().hex)
    overflow: "ev.ContextOverflow | None" = None  # set when the prompt did not fit
    notes: list[str] = field(default_factory=list)  # e.g. how the prompt was made to fit
    loop_alarm: object | None = None  # app.domain.runaway.LoopAlarm when the reasoning looped
    # a "Think longer" continuation came before its (forced-open) block started
    extension_pending: bool = field(default=False, repr=False, compare=False)
    retry_in: float | None = None  # seconds until a rate-limited request is retried (429)
    retry_attempt: int = 0  # which retry that is (1-based), 0 when none happened
    _generated_at_last_call: int = field(default=0, repr=False, compare=False)
    calls: list[int] = field(default_factory=list)  # prompt tokens of the turn's later model calls
    # what each later call's provider needs back unchanged, by backend (tool loops)
    provider_state: dict = field(default_factory=dict, repr=False)

    # -- reading -------------------------------------------------------------------------
    @property
    def raw_buffer(self) -> GrowingText:
        """The raw output's buffer (see :attr:`_Streamed.text_buffer`)."""
        return self._raw

    @property
    def blocks(self) -> list[ReasoningBlock]:
        return [p for p in self.parts if isinstance(p, ReasoningBlock)]

    @property
    def tool_calls(self) -> list[ToolCallPart]:
        return [p for p in self.parts if isinstance(p, ToolCallPart)]

    def result_tokens(self, part: ToolCallPart) -> int:
        """The tokens ``part``'s result added to the context: its round's, shared among the
        round's calls by the length of their results (exact for a round of one call)."""
        same = [p for p in self.tool_calls if p.round == part.round and p.result is not None]
        total = self.stats.round_tokens.get(part.round, 0)
        if part.result is None or not same:
            return 0
        if len(same) == 1:
            return total
        size = sum(len(p.result.text) for p in same) or 1
        return round(total * len(part.result.text) / size)

    def tool_part(self, call_id: str) -> ToolCallPart | None:
        return next((p for p in reversed(self.parts) if isinstance(p, ToolCallPart) and p.call_id == call_id), None)

    @property
    def answer(self) -> str:
        return "".join(p.text for p in self.parts if isinstance(p, AnswerPart))

    @property
    def reasoning(self) -> str:
        """All reasoning text of the turn, blocks joined by a blank line (interfaces.md)."""
        return "\n\n".join(b.text.strip() for b in self.blocks if b.text.strip())

    @property
    def reasoning_truncated(self) -> bool:
        return any(b.truncated for b in self.blocks)

    @property
    def thinking_s(self) -> float:
        return sum(b.seconds for b in self.blocks)

    @property
    def finished(self) -> bool:
        return self.finish_reason is not None

    @property
    def out_of_budget_while_thinking(self) -> bool:
        """The turn hit the window or max-tokens limit before an answer started."""
        return self.finish_reason == "length" and self.reasoning_truncated and not self.answer.strip()

    @property
    def open_block(self) -> ReasoningBlock | None:
        if self.parts and isinstance(self.parts[-1], ReasoningBlock) and self.parts[-1].end is None:
            return self.parts[-1]
        return None

    # -- building ------------------------------------------------------------------------
    def apply(self, event: ev.TurnEvent) -> None:
        """Fold one turn event into the message (events it has no use for are ignored)."""
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event)

    def _last_block(self) -> ReasoningBlock | None:
        return self.open_block or (self.blocks[-1] if self.blocks else None)

    def _on_answer(self, event: ev.AnswerDelta) -> None:
        self._raw.append(event.text)
        if self.parts and isinstance(self.parts[-1], AnswerPart):
            self.parts[-1].append(event.text)
        else:
            self.parts.append(AnswerPart(event.text))

    def _on_reasoning(self, event: ev.ReasoningDelta) -> None:
        self._raw.append(event.text)
        block = self.open_block
        if block is None:  # reasoning without an explicit start (field-shaped, or going on after a call)
            last = self.parts[-1] if self.parts else None
            after_call = isinstance(last, ToolCallPart) and last.t_end is not None
            block = ReasoningBlock(start=last.t_end if after_call else (self.stats.t_first_token or self.stats.t_start))
            self.parts.append(block)
        block.append(event.text)

    def _on_block_start(self, event: ev.BlockStart) -> None:
        self._raw.append(event.marker)
        self.parts.append(ReasoningBlock(start=event.t))
        if self.extension_pending:
            self.extension_pending = False
            self.parts[-1].extensions.append(0)

    def _on_block_end(self, event: ev.BlockEnd) -> None:
        self._raw.append(event.marker)
        block = self.open_block
        if block is not None:
            block.end = event.t
            block.truncated = event.truncated

    def _on_markup(self, event: ev.MarkupText) -> None:
        self._raw.append(event.text)

    def _on_tool_opened(self, event: ev.ToolCallOpened) -> None:
        from app.domain.tools.types import ToolCall

        block = self.open_block
        if block is not None:  # a call from inside the reasoning: the thinking pauses here
            block.end = event.t
            block.paused_for_call = True
        rounds = max((p.round for p in self.tool_calls), default=0)
        self.parts.append(ToolCallPart(ToolCall(event.call_id, event.name, in_reasoning=event.in_reasoning),
                                       round=max(1, rounds if self._round_open() else rounds + 1),
                                       t_start=event.t))

    def _round_open(self) -> bool:
        """The latest tool round is still being written (no call of it finished yet)."""
        calls = self.tool_calls
        return bool(calls) and not any(p.finished for p in calls if p.round == calls[-1].round)

    def _on_tool_parsed(self, event: ev.ToolCallParsed) -> None:
        part = self.tool_part(event.call.id) or next((p for p in reversed(self.tool_calls) if p.state == "writing"), None)
        if part is None:
            self._on_tool_opened(ev.ToolCallOpened(event.t, event.call.id, event.call.name, event.call.in_reasoning))
            part = self.parts[-1]
        part.call = event.call
        part.state = "requested"

    def _on_tool_abandoned(self, event: ev.ToolCallAbandoned) -> None:
        part = next((p for p in reversed(self.tool_calls) if p.state == "writing"), None)
        if part is not None:
            self.parts.remove(part)

    def _on_tool_mentioned(self, event: ev.ToolCallMentioned) -> None:
        block = self.open_block or (self.blocks[-1] if self.blocks else None)
        if block is not None:
            block.mentions.append((block.text_length, event.call.name))

    def _on_tool_approval(self, event: ev.ToolApprovalRequested) -> None:
        part = self.tool_part(event.call_id)
        if part is not None:
            part.state, part.reach = "awaiting-approval", event.reach

    def _on_tool_running(self, event: ev.ToolCallRunning) -> None:
        from dataclasses import replace as _replace

        part = self.tool_part(event.call_id)
        if part is not None:
            part.state, part.approved = "running", True
            part.call = _replace(part.call, arguments=dict(event.arguments))
            part.t_start = event.t

    def _on_tool_finished(self, event: ev.ToolCallFinished) -> None:
        part = self.tool_part(event.call_id)
        if part is None:
            return
        part.result, part.approved, part.t_end = event.result, event.approved, event.t
        part.state = "denied" if not event.approved else ("error" if event.result.is_error else "done")

    def _on_provider_state(self, event: ev.ProviderState) -> None:
        self.provider_state[event.backend] = event.data

    def _on_started(self, event: ev.TurnStarted) -> None:
        self.model_id = event.model_id
        self.where = event.where
        stats = self.stats
        stats.t_start = event.t
        stats.prompt_tokens = event.prompt_tokens
        stats.n_ctx = event.n_ctx
        stats.system_tokens = event.system_tokens
        stats.carried_tokens = event.carried_tokens
        stats.tool_schema_tokens = event.tool_tokens
        stats.model_calls = 1
        stats.first_prompt_tokens = event.prompt_tokens

    def _on_call_started(self, event: ev.CallStarted) -> None:
        if event.reason == "tool":
            # what the round added between the calls: results and their markup (the context
            # grows from the last prompt plus what was generated since to this prompt)
            stats = self.stats
            last = self.calls[-1] if self.calls else stats.prompt_tokens
            generated = stats.generated_tokens + stats.injected_tokens
            added = max(0, event.prompt_tokens - last - (generated - self._generated_at_last_call))
            stats.tool_result_tokens += added
            latest = max((p.round for p in self.tool_calls), default=1)
            stats.round_tokens[latest] = stats.round_tokens.get(latest, 0) + added
            self._generated_at_last_call = generated
        self.calls.append(event.prompt_tokens)
        self.stats.model_calls += 1

    def _on_budget_cut(self, event: ev.BudgetCut) -> None:
        block = self._last_block()
        if block is not None:
            block.budget_cut = True

    def _on_hidden(self, event: ev.HiddenReasoning) -> None:
        block = self.open_block
        if block is None:
            block = ReasoningBlock(start=self.stats.t_start, end=self.stats.t_start)
            self.parts.insert(0, block)
        block.hidden_tokens = event.tokens
        block.redacted = block.redacted or event.redacted

    def _on_usage(self, event: ev.Usage) -> None:
        stats = self.stats
        stats.prompt_tokens = event.prompt_tokens or stats.prompt_tokens
        stats.reasoning_tokens = event.reasoning_tokens
        stats.answer_tokens = event.answer_tokens
        stats.estimated = event.estimated
        stats.input_tokens = event.prompt_tokens if event.input_tokens is None else event.input_tokens
        stats.cached_tokens = event.cached_tokens
        stats.split_estimated = event.split_estimated
        if stats.model_calls <= 1 and event.prompt_tokens:  # the first call's prompt, as the provider counted it
            stats.first_prompt_tokens = event.prompt_tokens
        self._spread_reasoning_count(event.reasoning_tokens)

    def _on_loop(self, event: ev.LoopDetected) -> None:
        self.loop_alarm = event.alarm

    def _on_extended(self, event: ev.ThinkingExtended) -> None:
        block = self.open_block
        if block is not None:
            block.extensions.append(block.text_length)
        else:  # a forced-open block opens with the continuation's own text
            self.extension_pending = True

    def _on_overflow(self, event: ev.ContextOverflow) -> None:
        self.overflow = event

    def _on_finished(self, event: ev.TurnFinished) -> None:
        self.finish_reason = event.finish_reason
        self.error = event.error
        self.stats.t_end = event.t
        block = self.open_block
        if block is not None:  # the stream ended while thinking
            block.end = event.t
            block.truncated = True

    def _on_signature(self, event: ev.BlockSignature) -> None:
        block = self._last_block()
        if block is None:  # a signed block without text (the provider omitted it)
            block = ReasoningBlock(start=event.t, end=event.t)
            self.parts.append(block)
        block.signature += event.signature

    def _on_redacted(self, event: ev.RedactedBlock) -> None:
        self.parts.append(ReasoningBlock(start=event.t, end=event.t, redacted=True, redacted_data=event.data))

    def _on_retry(self, event: ev.RetryWait) -> None:
        self.retry_in = event.seconds if event.seconds > 0 else None
        self.retry_attempt = event.attempt

    def _on_note(self, event: ev.TurnNote) -> None:
        self.notes.append(event.text)

    def _spread_reasoning_count(self, total: int) -> None:
        """A provider's reasoning count replaces the blocks' running estimates, shared out in
        proportion to them (a single block gets all of it)."""
        blocks = [b for b in self.blocks if not b.hidden_tokens]
        estimated = sum(b.tokens for b in blocks)
        if not blocks or not total:
            return
        given = 0
        for b in blocks[:-1]:
            b.tokens = round(total * b.tokens / estimated) if estimated else 0
            given += b.tokens
        blocks[-1].tokens = total - given

    def _on_counts(self, counts: ev.TokenCounts) -> None:
        stats = self.stats
        new = counts.reasoning + counts.answer - stats.reasoning_tokens - stats.answer_tokens
        if new > 0:
            stats.token_times.extend([counts.t] * new)
        if stats.t_first_token is None and (counts.reasoning or counts.answer):
            stats.t_first_token = counts.t
        if stats.t_first_answer is None and counts.answer:
            stats.t_first_answer = counts.t
        block = self.open_block
        if block is not None:
            block.tokens += counts.reasoning - stats.reasoning_tokens
        elif counts.reasoning > stats.reasoning_tokens and self.blocks:
            # the token that closed the block (its end marker) belongs to that block
            self.blocks[-1].tokens += counts.reasoning - stats.reasoning_tokens
        stats.reasoning_tokens = counts.reasoning
        stats.answer_tokens = counts.answer
        stats.injected_tokens = counts.injected


Message = UserMessage | AssistantMessage

_HANDLERS = {
    ev.AnswerDelta: AssistantMessage._on_answer,
    ev.ReasoningDelta: AssistantMessage._on_reasoning,
    ev.TokenCounts: AssistantMessage._on_counts,
    ev.BlockStart: AssistantMessage._on_block_start,
    ev.BlockEnd: AssistantMessage._on_block_end,
    ev.MarkupText: AssistantMessage._on_markup,
    ev.TurnStarted: AssistantMessage._on_started,
    ev.CallStarted: AssistantMessage._on_call_started,
    ev.BudgetCut: AssistantMessage._on_budget_cut,
    ev.HiddenReasoning: AssistantMessage._on_hidden,
    ev.Usage: AssistantMessage._on_usage,
    ev.LoopDetected: AssistantMessage._on_loop,
    ev.ThinkingExtended: AssistantMessage._on_extended,
    ev.ContextOverflow: AssistantMessage._on_overflow,
    ev.TurnFinished: AssistantMessage._on_finished,
    ev.BlockSignature: AssistantMessage._on_signature,
    ev.RedactedBlock: AssistantMessage._on_redacted,
    ev.RetryWait: AssistantMessage._on_retry,
    ev.TurnNote: AssistantMessage._on_note,
    ev.ToolCallOpened: AssistantMessage._on_tool_opened,
    ev.ToolCallParsed: AssistantMessage._on_tool_parsed,
    ev.ToolCallMentioned: AssistantMessage._on_tool_mentioned,
    ev.ToolCallAbandoned: AssistantMessage._on_tool_abandoned,
    ev.ToolApprovalRequested: AssistantMessage._on_tool_approval,
    ev.ToolCallRunning: AssistantMessage._on_tool_running,
    ev.ToolCallFinished: AssistantMessage._on_tool_finished,
    ev.ProviderState: AssistantMessage._on_provider_state,
}
