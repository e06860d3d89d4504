"""What a turn costs in money: its token usage times the model's price (pure, no Qt).

The kinds of token, as the providers bill them:

* **input**: every model call of a turn reads its whole prompt and is billed for it, so a turn
  with tool rounds pays for the conversation once per call. The turn runner adds the calls'
  prompts up (``TurnStats.input_tokens``); of them, ``cached_tokens`` were read from the
  provider's prompt cache (OpenAI ``prompt_tokens_details.cached_tokens``, Anthropic
  ``cache_read_input_tokens``, Gemini ``cachedContentTokenCount``, DeepSeek
  ``prompt_cache_hit_tokens``) and cost ``cached_input``.
* **reasoning**: the provider's count (OpenAI ``completion_tokens_details.reasoning_tokens`` or
  ``output_tokens_details.reasoning_tokens``, also when it shows none of the text; Gemini
  ``thoughtsTokenCount``), priced as output unless the price sets ``reasoning``. Anthropic
  reports thinking and answer as one output count: the split is Ponder's estimate from the
  streamed text (``split_estimated``), the total is exact (both are priced as output).
* **answer**: the rest of the output, tool calls included.

Before the provider's usage arrives, or when it never does (a stopped or failed stream), the
counts are Ponder's estimates and so is the cost (``estimated``). Local models cost no money.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from app.domain.messages import AssistantMessage, Message, TurnStats, UserMessage
from app.domain.profiles import ModelProfile, Price

PER = 1_000_000  # prices are per million tokens
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}
LOOPBACK = ("localhost", "127.0.0.1", "::1")
UNKNOWN = "price unknown"


# -- what a model charges ----------------------------------------------------------------
@dataclass(frozen=True)
class Billing:
    """How one model's turns are charged: by ``price`` (None: unknown), or not at all
    (``local``: it runs on this computer — llama.cpp, or a server on the loopback address
    without a price)."""

    price: Price | None = None
    local: bool = False
    model_id: str = ""


def billing_of(profile: ModelProfile) -> Billing:
    """The billing of a configured model."""
    if profile.is_local:
        return Billing(local=True, model_id=profile.id)
    if profile.price is None and _loopback(profile.base_url or ""):
        return Billing(local=True, model_id=profile.id)
    return Billing(profile.price, model_id=profile.id)


def billings(profiles: Iterable[ModelProfile]) -> dict[str, Billing]:
    """Model id -> billing, for a model list."""
    return {p.id: billing_of(p) for p in profiles}


def message_billing(msg: AssistantMessage, known: Mapping[str, Billing]) -> Billing:
    """The billing of the model that wrote ``msg`` (a model no longer configured: unknown,
    unless it ran locally)."""
    return known.get(msg.model_id) or Billing(local=msg.where == "local", model_id=msg.model_id)


def _loopback(url: str) -> bool:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    return host in LOOPBACK or host.startswith("127.")


# -- the arithmetic ----------------------------------------------------------------------
@dataclass(frozen=True)
class TurnTokens:
    """A turn's billed tokens by kind. ``input`` is the uncached input of all ``calls``;
    ``history`` is the part of the input (cached or not) that was earlier turns, sent again by
    every call (an estimate: it leaves out this turn's question by its length)."""

    input: int
    cached: int
    reasoning: int
    answer: int
    calls: int = 1
    history: int = 0

    @classmethod
    def of(cls, stats: TurnStats, question_tokens: int = 0, earlier_turns: bool = True) -> "TurnTokens":
        """From a message's statistics; ``question_tokens``: the user message the turn answered;
        ``earlier_turns`` False: the conversation's first turn (no history)."""
        billed = stats.input_tokens or stats.prompt_tokens  # 0: a message stored before input was recorded
        cached = min(stats.cached_tokens, billed)
        calls = max(1, stats.model_calls)
        first = stats.first_prompt_tokens or stats.prompt_tokens
        per_call = first - stats.system_tokens - stats.carried_tokens - stats.tool_schema_tokens - question_tokens
        history = min(max(0, per_call) * calls, billed) if earlier_turns else 0
        return cls(billed - cached, cached, stats.reasoning_tokens, stats.answer_tokens, calls, history)


@dataclass(frozen=True)
class Cost:
    """What one turn cost (amounts in ``price.currency``)."""

    price: Price
    tokens: TurnTokens
    estimated: bool = False  # the counts are Ponder's: the provider's usage did not (yet) arrive
    split_estimated: bool = False  # only the thinking/answer split is Ponder's; the total is exact
    hidden_reasoning: bool = False  # the provider reported a count of thinking it did not show

    @property
    def input(self) -> float:
        """All input, cached included."""
        return self.uncached_input + self.cached_input

    @property
    def uncached_input(self) -> float:
        return self.tokens.input * self.price.input / PER

    @property
    def cached_input(self) -> float:
        return self.tokens.cached * self.price.cached_rate / PER

    @property
    def reasoning(self) -> float:
        return self.tokens.reasoning * self.price.reasoning_rate / PER

    @property
    def answer(self) -> float:
        return self.tokens.answer * self.price.output / PER

    @property
    def total(self) -> float:
        return self.input + self.reasoning + self.answer

    @property
    def history(self) -> float:
        """The input cost of the earlier turns (at the turn's average input price)."""
        n = self.tokens.input + self.tokens.cached
        return self.input * self.tokens.history / n if n else 0.0

    def report(self) -> dict:
        """The ``cost`` object of ``ponder ask --json``."""
        t = self.tokens
        return {"currency": self.price.currency, "total": _r(self.total), "input": _r(self.input),
                "reasoning": _r(self.reasoning), "answer": _r(self.answer), "estimated": self.estimated,
                "reasoning_estimated": self.split_estimated, "price_checked": self.price.checked,
                "tokens": {"input": t.input + t.cached, "cached_input": t.cached, "reasoning": t.reasoning,
                           "answer": t.answer}}


def _r(x: float) -> float:
    return round(x, 8)


def turn_cost(msg: AssistantMessage, price: Price | None, *, question_tokens: int = 0,
              earlier_turns: bool = True) -> Cost | None:
    """The cost of ``msg`` at ``price``; None when the price is unknown (the question and
    whether earlier turns came before it: see :meth:`TurnTokens.of`)."""
    if price is None:
        return None
    stats = msg.stats
    hidden = any(b.hidden_tokens and not b.text.strip() for b in msg.blocks)
    return Cost(price, TurnTokens.of(stats, question_tokens, earlier_turns), estimated=stats.estimated and not stats.split_estimated,
                split_estimated=stats.split_estimated, hidden_reasoning=hidden)


# -- sums ----------------------------------------------------------------------------------
@dataclass
class CostTotals:
    """A sum of turns' costs, per currency, with what could not be priced."""

    amounts: dict[str, float] = field(default_factory=dict)
    priced: int = 0  # answers with a price
    unknown: int = 0  # cloud answers whose model has no price
    estimated: int = 0  # priced answers whose counts were estimates

    def add(self, cost: Cost | None, *, count: int = 1, estimated: int | None = None) -> None:
        """Add a cost (None: ``count`` answers of a model without a price)."""
        if cost is None:
            self.unknown += count
            return
        currency = cost.price.currency
        self.amounts[currency] = self.amounts.get(currency, 0.0) + cost.total
        self.priced += count
        self.estimated += (1 if cost.estimated else 0) if estimated is None else estimated

    @property
    def empty(self) -> bool:
        return not self.priced and not self.unknown

    def text(self) -> str:
        """``$0.1234``, ``$0.12 + €0.03``, with ``~`` when an estimate is in it and what has no price."""
        parts = [money(v, c) for c, v in sorted(self.amounts.items())]
        text = ("~" if self.estimated else "") + " + ".join(parts) if parts else ""
        if self.unknown:
            unknown = f"{self.unknown} answer{'s' if self.unknown != 1 else ''} of unknown price"
            text = f"{text} (+ {unknown})" if text else UNKNOWN
        return text


def conversation_costs(messages: Iterable[Message], known: Mapping[str, Billing]) -> CostTotals:
    """What the assistant messages of a thread cost, at their models' prices (local ones: nothing)."""
    totals = CostTotals()
    for msg in messages:
        if isinstance(msg, AssistantMessage):
            billing = message_billing(msg, known)
            if not billing.local:
                totals.add(turn_cost(msg, billing.price))
    return totals


# -- text ------------------------------------------------------------------------------------
def money(amount: float, currency: str = "USD") -> str:
    """``$0.0213``, ``$1.27``, ``$0.000042`` (small amounts keep three significant digits)."""
    if amount >= 1:
        text = f"{amount:,.2f}"
    elif amount >= 0.01:
        text = f"{amount:.4f}"
    elif amount < 1e-10:
        text = "0.00"
    else:
        text = f"{amount:.{min(10, 2 - math.floor(math.log10(amount)))}f}".rstrip("0")
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


def rate(value: float, currency: str = "USD") -> str:
    """A price per million tokens: ``$1.25/M``."""
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{value:g}/M" if symbol else f"{value:g} {currency}/M"


def footer_text(cost: Cost) -> str:
    """The message footer's cost: ``$0.0213 · thinking $0.0181 (1,204 tokens, hidden by the provider)``."""
    c = cost.price.currency
    approx = "~" if cost.estimated else ""
    text = f"{approx}{money(cost.total, c)}" + (" estimated" if cost.estimated else "")
    n = cost.tokens.reasoning
    if n:
        thinking_approx = "~" if cost.estimated or cost.split_estimated else ""
        notes = [f"{thinking_approx}{n:,} tokens"]
        if cost.hidden_reasoning:
            notes.append("hidden by the provider")
        if cost.split_estimated:
            notes.append("Ponder's estimate")
        text += f" · thinking {thinking_approx}{money(cost.reasoning, c)} ({', '.join(notes)})"
    return text


def arithmetic_text(cost: Cost, model: str = "") -> str:
    """The footer's tooltip: tokens × price per kind, the total, and what is estimated."""
    p, t, c = cost.price, cost.tokens, cost.price.currency
    thinking = "thinking, hidden by the provider" if cost.hidden_reasoning else "thinking"
    rows = [("input", t.input, p.input, cost.uncached_input)]
    if t.cached:
        rows.append(("cached input", t.cached, p.cached_rate, cost.cached_input))
    rows += [(thinking, t.reasoning, p.reasoning_rate, cost.reasoning), ("answer", t.answer, p.output, cost.answer)]
    whose = f'the price of "{model}" in models.toml' if model else "the price in models.toml"
    lines = [f"What this answer cost, at {whose} (per million tokens, checked {p.checked}):"]
    lines += [f"{name}: {n:,} tokens × {rate(r, c)} = {money(amount, c)}" for name, n, r, amount in rows]
    lines.append(f"total: {money(cost.total, c)}" + (" (estimated)" if cost.estimated else ""))
    if t.calls > 1:
        lines.append(f"The input is what all {t.calls} model calls of this turn read: each call after a tool "
                     "round sends the conversation again.")
    if cost.split_estimated:
        lines.append("The provider bills thinking as output and reports one count for both: the thinking/answer "
                     "split is Ponder's estimate from the streamed text (the total is exact).")
    if cost.estimated:
        lines.append("The provider's usage did not arrive: the counts are Ponder's estimates.")
    return "\n".join(lines)


def split_text(cost: Cost) -> str:
    """The trace viewer's line: what the thinking, the answer and the input cost, and how much
    of the input was the earlier turns sent again."""
    c, total = cost.price.currency, cost.total or 1.0
    approx = "~" if cost.estimated else ""
    thinking_approx = "~" if cost.estimated or cost.split_estimated else ""

    def share(amount: float) -> str:
        return f"{100 * amount / total:.0f}%"

    parts = [f"thinking {thinking_approx}{money(cost.reasoning, c)} ({share(cost.reasoning)})",
             f"answer {thinking_approx}{money(cost.answer, c)} ({share(cost.answer)})",
             f"input {approx}{money(cost.input, c)} ({share(cost.input)})"]
    text = f"Cost {approx}{money(cost.total, c)}: " + " · ".join(parts)
    if cost.tokens.history:
        text += (f"; earlier turns' history in the input: ~{cost.tokens.history:,} tokens, "
                 f"~{money(cost.history, c)}")
    return text


def turn_context(messages: list[Message], msg: AssistantMessage) -> tuple[str, bool]:
    """The text of the user message ``msg`` answered ("" when there is none), and whether
    earlier turns came before it (their history is in the turn's input)."""
    index = next((i for i, m in enumerate(messages) if m is msg), -1)
    before = messages[:max(0, index)]
    question = next((m.text for m in reversed(before) if isinstance(m, UserMessage)), "")
    return question, any(isinstance(m, AssistantMessage) for m in before)


def estimate_question_tokens(text: str) -> int:
    """A user message's tokens as the cloud backends estimate them (about four characters a
    token, plus the role's markup; app.backends.cloud.tally)."""
    return math.ceil(len(text) / 4) + 4 if text else 0


# -- before sending --------------------------------------------------------------------------
def most_output_tokens(backend: str, budget: int, max_tokens: int) -> int:
    """The most output tokens one call can bill: the Responses API counts the thinking within
    ``max_output_tokens``; the others give the answer ``max_tokens`` on top of the budget
    (app/backends/cloud), and Ponder ends a call that streams past that."""
    return max_tokens if backend == "openai-responses" else budget + max_tokens


@dataclass(frozen=True)
class TurnCeiling:
    """The most a turn with a thinking budget can cost, for one model call."""

    price: Price
    prompt_tokens: int
    output_tokens: int
    budget: int
    max_tokens: int

    @property
    def total(self) -> float:
        return (self.prompt_tokens * self.price.input + self.output_tokens * max(self.price.output,
                                                                                self.price.reasoning_rate)) / PER

    def text(self) -> str:
        return (f"This turn costs at most {money(self.total, self.price.currency)} (prompt ~{self.prompt_tokens:,} "
                f"tokens, thinking budget {self.budget:,} + answer {self.max_tokens:,})")

    def arithmetic(self) -> str:
        p, c = self.price, self.price.currency
        out_rate = max(p.output, p.reasoning_rate)
        lines = ["The most this turn can cost (one model call; tool rounds add calls):",
                 f"prompt: {self.prompt_tokens:,} tokens × {rate(p.input, c)} = "
                 f"{money(self.prompt_tokens * p.input / PER, c)}",
                 f"thinking budget {self.budget:,} + answer {self.max_tokens:,}: {self.output_tokens:,} tokens × "
                 f"{rate(out_rate, c)} = {money(self.output_tokens * out_rate / PER, c)}",
                 f"at most: {money(self.total, c)} (price checked {p.checked})"]
        if self.output_tokens < self.budget + self.max_tokens:
            lines.append("This provider counts the thinking within the answer's limit.")
        return "\n".join(lines)


def thinking_budget(profile: ModelProfile, chosen: int | None) -> int:
    """The thinking budget a turn runs with: the one chosen, else the model's own (0: none)."""
    if chosen is not None:
        return chosen
    return profile.reasoning.budget if profile.reasoning else 0


def turn_ceiling(profile: ModelProfile, prompt_tokens: int, budget: int | None, max_tokens: int
                 ) -> TurnCeiling | None:
    """The most the next turn can cost; None without a price or a thinking budget (``budget``
    None: the model's own, from its ``[model.reasoning]``; 0: no limit)."""
    budget = thinking_budget(profile, budget)
    if profile.price is None or budget <= 0:
        return None
    return TurnCeiling(profile.price, prompt_tokens, most_output_tokens(profile.backend, budget, max_tokens),
                       budget, max_tokens)
