"""Small text formatters shared by the widgets (numbers, durations, panel headers)."""

from __future__ import annotations


def seconds(s: float) -> str:
    """One decimal; a thought of 0.04 s still says 0.0 s only when it really was that short."""
    return f"{s:.1f} s" if s < 60 else f"{int(s // 60)} min {s % 60:.0f} s"


def tokens(n: int) -> str:
    return f"{n:,} token" + ("" if n == 1 else "s")


def thinking_header(*, live: bool, secs: float, n_tokens: int, n_ctx: int = 0,
                    hidden_tokens: int = 0, redacted: bool = False, truncated: bool = False,
                    budget_cut: bool = False) -> str:
    """The thinking panel's header line."""
    if hidden_tokens and not live:
        return f"Reasoned for {hidden_tokens:,} tokens (hidden by the provider)"
    if redacted and not n_tokens:
        return "Thinking redacted by the provider"
    if live:
        return f"Thinking… {seconds(secs)} · {tokens(n_tokens)}"
    text = f"Thought for {seconds(secs)} · {tokens(n_tokens)}"
    if n_ctx:
        share = 100 * n_tokens / n_ctx
        text += f" · {share:.0f}% of context" if share >= 1 or not n_tokens else " · <1% of context"
    if budget_cut:
        text += " · cut at the thinking budget"
    elif truncated:
        text += " · truncated"
    return text
