"""The context budget: what fills a model's context window, and whether thinking will fit.

Numbers for local models are exact (the model's template and tokenizer; generated tokens
counted as sampled). The segments are the gauge's and ``ponder ask --json``'s.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.messages import TurnStats

SEGMENTS = (
    ("system", "system prompt"),
    ("history", "earlier turns"),
    ("carried_reasoning", "reasoning carried from earlier turns"),
    ("tools", "tools: their schemas and results"),
    ("reasoning", "reasoning this turn"),
    ("answer", "answer this turn"),
    ("free", "free"),
)


def answer_reserve(n_ctx: int) -> int:
    """Room kept for the answer: the larger of 10% of the window or 512 tokens (≤ half)."""
    return min(max(n_ctx // 10, 512), n_ctx // 2)


@dataclass(frozen=True)
class ContextUsage:
    """How one turn fills the context window, segment by segment (tokens)."""

    n_ctx: int
    system: int = 0
    history: int = 0  # earlier turns and this user message, template tokens included
    carried_reasoning: int = 0
    tools: int = 0  # tool schemas in the prompt and what tool rounds added (results, their markup)
    reasoning: int = 0  # this turn's, Ponder's injected end marker included
    answer: int = 0
    estimated: bool = False
    tool_schemas: int = 0  # of ``tools``: the schemas offered (the rest is what the rounds added)

    @property
    def used(self) -> int:
        return self.system + self.history + self.carried_reasoning + self.tools + self.reasoning + self.answer

    @property
    def free(self) -> int:
        return max(0, self.n_ctx - self.used)

    def tokens(self, key: str) -> int:
        return self.free if key == "free" else getattr(self, key)

    def as_dict(self) -> dict:
        """The ``context`` object of ``ponder ask --json``."""
        out = {"n_ctx": self.n_ctx, "used": self.used,
               "segments": {key: self.tokens(key) for key, _ in SEGMENTS}}
        if self.estimated:
            out["estimated"] = True
        return out

    def describe(self, key: str) -> str:
        """One legend line: ``reasoning this turn: 1,804 tokens, 22% of 8,192``."""
        label = dict(SEGMENTS)[key]
        n = self.tokens(key)
        share = 100 * n / self.n_ctx if self.n_ctx else 0
        approx = "~" if self.estimated else ""
        line = f"{label}: {approx}{n:,} tokens, {share:.0f}% of {self.n_ctx:,}"
        if key == "tools" and n:
            line += f" (schemas {self.tool_schemas:,}, results {n - self.tool_schemas:,})"
        return line

    @classmethod
    def from_stats(cls, stats: TurnStats) -> "ContextUsage":
        return cls(
            n_ctx=stats.n_ctx,
            system=stats.system_tokens,
            history=max(0, stats.prompt_tokens - stats.system_tokens - stats.carried_tokens - stats.tool_schema_tokens),
            carried_reasoning=stats.carried_tokens,
            tools=stats.tool_schema_tokens + stats.tool_result_tokens,
            reasoning=stats.reasoning_tokens + stats.injected_tokens,
            answer=stats.answer_tokens,
            estimated=stats.estimated,
            tool_schemas=stats.tool_schema_tokens,
        )


@dataclass(frozen=True)
class Forecast:
    """Whether, at the current pace, thinking will fill the window before an answer starts."""

    warning: bool
    seconds_to_fill: float | None = None
    message: str = ""


def thinking_forecast(usage: ContextUsage, *, thinking_s: float, reasoning_tokens: int,
                      max_tokens_left: int | None = None) -> Forecast:
    """Warn when the room left (less the answer reserve) runs out sooner than the model has
    already been thinking — if it thinks as long again, the answer will not fit."""
    if thinking_s <= 0.5 or reasoning_tokens < 16:
        return Forecast(False)
    rate = reasoning_tokens / thinking_s
    room = usage.free - answer_reserve(usage.n_ctx)
    limit = "fill the context"
    if max_tokens_left is not None:
        token_room = max_tokens_left - min(512, max_tokens_left // 4)
        if token_room < room:  # the turn's max_tokens runs out first: say that, not the context
            room, limit = token_room, "use up this turn's token limit"
    seconds = max(0.0, room / rate)
    if room <= 0 or seconds < max(30.0, thinking_s):
        return Forecast(True, seconds, f"at this rate, thinking will {limit} in ~{seconds:.0f} s")
    return Forecast(False, seconds)
