"""Context accounting: how a turn's tokens split the model's context window.

Segments (interfaces.md): system, history (earlier turns and this user message, template
tokens included), carried_reasoning (earlier reasoning left in the prompt), reasoning
(this turn's, Ponder's injected end marker included), answer, free. ``used`` is the sum of
all but free, which for local models equals the tokens in llama.cpp's context after the turn.
"""

from __future__ import annotations

from app.domain.messages import TurnStats


def context_segments(stats: TurnStats) -> dict:
    """The ``context`` object of ``ponder ask --json`` for one turn."""
    system = stats.system_tokens
    carried = stats.carried_tokens
    history = max(0, stats.prompt_tokens - system - carried)
    reasoning = stats.reasoning_tokens + stats.injected_tokens
    answer = stats.answer_tokens
    used = system + history + carried + reasoning + answer
    return {
        "n_ctx": stats.n_ctx,
        "used": used,
        "segments": {
            "system": system,
            "history": history,
            "carried_reasoning": carried,
            "reasoning": reasoning,
            "answer": answer,
            "free": max(0, stats.n_ctx - used),
        },
    }
