"""Turn events: the one vocabulary that every backend speaks and every view listens to.

A turn is a stream of these events. Local backends produce them by running the raw
token text through :class:`app.domain.reasoning.parser.ReasoningParser`; cloud backends
map provider fields and typed events onto the same types. Times are ``time.monotonic()``
seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union


@dataclass(frozen=True, slots=True)
class TurnStarted:
    """The backend accepted the request; ``prompt_tokens`` is exact for local models."""

    t: float
    model_id: str
    prompt_tokens: int
    n_ctx: int
    where: str = "local"  # "local" or the cloud host
    system_tokens: int = 0  # of prompt_tokens: the system prompt and the template's preamble
    carried_tokens: int = 0  # of prompt_tokens: earlier turns' reasoning carried into the prompt
    tool_tokens: int = 0  # of prompt_tokens: the tool schemas the template put in the prompt


@dataclass(frozen=True, slots=True)
class BlockStart:
    """A reasoning block opens. ``marker`` is the raw marker text ("" for field/typed reasoning)."""

    t: float
    marker: str = ""


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """Reasoning text, exactly as produced (display trimming is the view's business)."""

    text: str


@dataclass(frozen=True, slots=True)
class BlockEnd:
    """A reasoning block closes; ``truncated`` when the stream ended inside it."""

    t: float
    marker: str = ""
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class AnswerDelta:
    """Answer text, exactly as produced."""

    text: str


@dataclass(frozen=True, slots=True)
class MarkupText:
    """Raw text that is neither reasoning nor answer (wrappers such as ``<answer>``).

    Kept so that reasoning + answer + markers == raw output.
    """

    text: str


@dataclass(frozen=True, slots=True)
class TokenCounts:
    """Cumulative generated-token counts of the turn, split by segment (exact for local)."""

    reasoning: int
    answer: int
    injected: int = 0  # tokens Ponder fed itself (e.g. an end marker after a budget cut)
    t: float = 0.0  # when the latest token arrived
    token: int = -1  # id of the token just sampled, when the backend knows it (else -1)


@dataclass(frozen=True, slots=True)
class BudgetCut:
    """Ponder ended the reasoning itself: the budget was reached, or the user asked for the
    answer now (local: by feeding the end marker; cloud: by ending the call and asking again)."""

    t: float
    reasoning_tokens: int


@dataclass(frozen=True, slots=True)
class HiddenReasoning:
    """The provider reasoned but only reported a count (or redacted the text)."""

    tokens: int
    redacted: bool = False


@dataclass(frozen=True, slots=True)
class Usage:
    """Token usage reported at the end; ``estimated`` when not from the model's tokenizer.

    For billing (app.domain.cost): ``cached_tokens`` of the input were read from the
    provider's prompt cache (priced apart); ``input_tokens`` is the input of all the turn's
    model calls so far (the turn runner adds them up; None: ``prompt_tokens``, one call);
    ``split_estimated`` says the totals are the provider's and only the reasoning/answer
    split is Ponder's estimate (a provider that reports one output count, such as Anthropic).
    """

    prompt_tokens: int
    reasoning_tokens: int
    answer_tokens: int
    estimated: bool = False
    cached_tokens: int = 0
    input_tokens: int | None = None
    split_estimated: bool = False


@dataclass(frozen=True, slots=True)
class TurnFinished:
    """The turn is over. ``finish_reason``: stop | length | cancelled | budget | error."""

    t: float
    finish_reason: str
    error: str | None = None


TurnEvent = Union[
    TurnStarted,
    BlockStart,
    ReasoningDelta,
    BlockEnd,
    AnswerDelta,
    MarkupText,
    TokenCounts,
    BudgetCut,
    HiddenReasoning,
    Usage,
    TurnFinished,
]


# -- Cloud additions (appended; the types above are unchanged) ---------------------------


@dataclass(frozen=True, slots=True)
class BlockSignature:
    """The provider's signature of the current (or latest) reasoning block (Anthropic).

    Kept with the block in the stored message so it can be sent back unmodified where a
    provider requires earlier reasoning (tool-call turns).
    """

    t: float
    signature: str


@dataclass(frozen=True, slots=True)
class RedactedBlock:
    """A reasoning block the provider redacted: no text, only an opaque ``data`` payload."""

    t: float
    data: str = ""


@dataclass(frozen=True, slots=True)
class RetryWait:
    """The provider asked Ponder to wait (HTTP 429); ``seconds`` left before retry ``attempt``.

    Emitted once a second as a countdown; ``seconds == 0`` means the retry starts now.
    """

    t: float
    seconds: float
    attempt: int
    max_attempts: int = 3


TurnEvent = Union[TurnEvent, BlockSignature, RedactedBlock, RetryWait]  # type: ignore[misc]


# -- Context overflow ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContextOverflow:
    """The next prompt plus the answer reserve does not fit; nothing was truncated.

    ``strip_fits``: leaving out earlier reasoning would make it fit; ``drop_turns``: how many
    of the oldest exchanges must be left out (after stripping) to fit, 0 if none can help.
    """

    needed: int
    n_ctx: int
    reserve: int
    strip_fits: bool
    drop_turns: int


TurnEvent = Union[TurnEvent, ContextOverflow]  # type: ignore[misc]


# -- Steering ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ThinkingExtended:
    """The model tried to end its reasoning before the minimum; Ponder fed ``text`` instead."""

    t: float
    reasoning_tokens: int
    text: str


TurnEvent = Union[TurnEvent, ThinkingExtended]  # type: ignore[misc]


@dataclass(frozen=True, slots=True)
class LoopDetected:
    """The reasoning seems to repeat itself (see :mod:`app.domain.runaway`)."""

    t: float
    alarm: object  # app.domain.runaway.LoopAlarm


TurnEvent = Union[TurnEvent, LoopDetected]  # type: ignore[misc]


# -- Turns of several model calls ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallStarted:
    """A further model call of the same turn began (the runner turns its ``TurnStarted`` into
    this). ``reason``: "tool" (after a tool round, with the results in the prompt) or
    "answer-now" (a model that cannot end its own thinking was asked again for the answer);
    ``prompt_tokens`` is that call's prompt."""

    t: float
    prompt_tokens: int
    reason: str


@dataclass(frozen=True, slots=True)
class TurnNote:
    """A sentence the runner adds to the message (what it did, e.g. after Answer now)."""

    text: str


TurnEvent = Union[TurnEvent, CallStarted, TurnNote]  # type: ignore[misc]


# -- Tools -----------------------------------------------------------------------------------
# A call goes through: opened (the model started writing it) -> parsed (complete: the runner
# checks it) -> approval requested (when its policy asks) -> running -> finished. A call the
# model only wrote inside its reasoning, in a family whose calls belong after it, is mentioned.
# ``call`` is an ``app.domain.tools.types.ToolCall``, ``result`` a ``ToolResult``.


@dataclass(frozen=True, slots=True)
class ToolCallOpened:
    """The model began writing a call (its card can show); ``name`` "" until known."""

    t: float
    call_id: str
    name: str = ""
    in_reasoning: bool = False


@dataclass(frozen=True, slots=True)
class ToolCallParsed:
    """The model wrote a complete call; ``call.error`` set when it is unusable as written."""

    t: float
    call: object


@dataclass(frozen=True, slots=True)
class ToolCallAbandoned:
    """A call the model began but never finished (the output ended inside it): no call; its
    text goes on as text."""

    t: float
    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class ToolCallMentioned:
    """Call syntax written inside the reasoning of a family that calls after it: never run."""

    t: float
    call: object


@dataclass(frozen=True, slots=True)
class ToolApprovalRequested:
    """The call waits for the user (Run / Deny, arguments editable); ``reach`` says truthfully
    what the tool can reach on this machine."""

    t: float
    call_id: str
    reach: str = ""


@dataclass(frozen=True, slots=True)
class ToolCallRunning:
    """The call runs with ``arguments`` (as the user may have edited them)."""

    t: float
    call_id: str
    arguments: dict


@dataclass(frozen=True, slots=True)
class ToolCallFinished:
    """The call's result (what the model reads); ``approved`` False when it was declined."""

    t: float
    call_id: str
    result: object
    approved: bool = True


@dataclass(frozen=True, slots=True)
class ProviderState:
    """What a cloud provider needs sent back unchanged in the next request of a tool loop
    (Anthropic's content blocks with signatures, Responses' output items with encrypted
    reasoning, Gemini's parts with thought signatures), as that backend's own JSON."""

    backend: str
    data: object


TurnEvent = Union[TurnEvent, ToolCallOpened, ToolCallParsed, ToolCallAbandoned, ToolCallMentioned,  # type: ignore[misc]
                  ToolApprovalRequested, ToolCallRunning, ToolCallFinished, ProviderState]
