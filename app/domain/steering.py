"""Steering the thinking of a local model: when to cut it, when to make it go on.

The backend asks, token by token, whether the reasoning should end now (the thinking
budget, with a small grace window to land the cut at the end of a sentence or line, or the
user's "Answer now") and whether an attempt by the model to end its reasoning comes too
early ("Think longer": the s1 budget-forcing method replaces the end with a continuation
word).
"""

from __future__ import annotations

from dataclasses import dataclass

# Tokens past the budget that the cut may wait for the end of a sentence or line.
GRACE_TOKENS = 12
CONTINUATION = " Wait,"
# A model that insists on stopping is let go after this many extensions in one turn.
MAX_EXTENSIONS = 8
_SENTENCE_ENDS = (".", "!", "?", "\n", ":", ";")


@dataclass
class Steering:
    """Per-turn thinking controls: budget (0 = none), minimum (0 = none), grace window."""

    budget: int = 0
    min_thinking: int = 0
    grace: int = GRACE_TOKENS
    extensions: int = 0

    def should_cut(self, reasoning_tokens: int, last_text: str, *, answer_now: bool = False) -> bool:
        """End the reasoning after this token? Always on a token boundary; within the grace
        window only where the last token ends a sentence or a line."""
        if answer_now:
            return True
        if not self.budget or reasoning_tokens < self.budget:
            return False
        if reasoning_tokens >= self.budget + self.grace:
            return True
        return last_text.rstrip(" ").endswith(_SENTENCE_ENDS)

    def too_early(self, reasoning_tokens: int) -> bool:
        """Would ending the reasoning now come before the minimum? (Then extend it, at most
        ``MAX_EXTENSIONS`` times.)"""
        return reasoning_tokens < self.min_thinking and self.extensions < MAX_EXTENSIONS

    def extend(self) -> str:
        """The continuation to feed instead of the end of the reasoning."""
        self.extensions += 1
        return CONTINUATION


def budget_to_effort(budget: int) -> str:
    """OpenAI-compatible ``reasoning_effort`` for a thinking budget (bands, documented in the
    composer's tooltip): up to 2,048 tokens low, up to 8,192 medium, more high."""
    if budget <= 2048:
        return "low"
    return "medium" if budget <= 8192 else "high"
