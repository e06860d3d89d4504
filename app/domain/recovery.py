"""How a turn that could not finish is run again, as the user chose.

Two kinds of message offer choices (see the message's buttons): a prompt that did not fit
the context (strip earlier thinking, or leave out the oldest turns), and a turn whose
thinking used up the token budget before an answer could start (continue with a larger
limit, or stop thinking and answer). Each choice becomes a :class:`RetryPlan`, with the
sentence the retried answer shows about what was done.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.messages import AssistantMessage
from app.domain.profiles import DEFAULT_N_CTX
from app.domain.steering import GRACE_TOKENS

ACTIONS = ("strip", "drop", "larger", "answer")


@dataclass(frozen=True)
class RetryPlan:
    """The last turn again, changed: only the fields that are set change."""

    note: str = ""
    carry: str | None = None
    drop_turns: int = 0
    thinking_budget: int | None = None
    max_tokens: int | None = None
    n_ctx: int | None = None  # a larger context: the model reloads with it


def recovery_plan(message: AssistantMessage, action: str, *, max_tokens: int,
                  n_ctx: int | None = None) -> RetryPlan | None:
    """The retry for ``action`` on ``message``; None when the action does not apply.

    ``max_tokens`` is the token limit the turn ran with, ``n_ctx`` the model's configured
    context (used when the message does not say which window it ran in).
    """
    if action == "strip":
        return RetryPlan(carry="strip", note="Earlier thinking was left out so the prompt fits the context.")
    if action == "drop":
        n = message.overflow.drop_turns if message.overflow else 0
        if not n:
            return None
        return RetryPlan(carry="strip", drop_turns=n,
                         note=f"The {n} oldest turn{'s' if n > 1 else ''} (and earlier thinking) were left out "
                              "so the prompt fits the context.")
    if action == "larger":
        if message.stats.generated_tokens >= max_tokens:
            return RetryPlan(max_tokens=2 * max_tokens, note=f"Continued with a larger token limit ({2 * max_tokens:,}).")
        larger = 2 * (message.stats.n_ctx or n_ctx or DEFAULT_N_CTX)
        return RetryPlan(n_ctx=larger, note=f"Continued with a larger context ({larger:,} tokens).")
    if action == "answer":
        budget = max(16, int(message.stats.reasoning_tokens * 0.75))
        return RetryPlan(thinking_budget=budget, max_tokens=max(max_tokens, budget + GRACE_TOKENS + 256),
                         note=f"Thinking was limited to {budget:,} tokens so that an answer fits.")
    return None
