"""Small text formatters shared by the widgets (numbers, durations, panel headers)."""

from __future__ import annotations


def seconds(s: float) -> str:
    """One decimal; a thought of 0.04 s still says 0.0 s only when it really was that short."""
    return f"{s:.1f} s" if s < 60 else f"{int(s // 60)} min {s % 60:.0f} s"


def tokens(n: int) -> str:
    return f"{n:,} token" + ("" if n == 1 else "s")


def thinking_header(*, live: bool, secs: float, n_tokens: int, n_ctx: int = 0,
                    hidden_tokens: int = 0, redacted: bool = False, truncated: bool = False,
                    budget_cut: bool = False, called: str = "", continued_after: str = "") -> str:
    """The thinking panel's header line.

    ``called``: the tools the model called in the middle of this thought (it is not done: a
    later block goes on); ``continued_after``: this block goes on with a thought that paused
    for those tools.
    """
    if hidden_tokens and not live:
        return f"Reasoned for {hidden_tokens:,} tokens (hidden by the provider)"
    if redacted and not n_tokens:
        return "Thinking redacted by the provider"
    if live:
        doing = f"Continuing after {continued_after}…" if continued_after else "Thinking…"
        return f"{doing} {seconds(secs)} · {tokens(n_tokens)}"
    text = f"Continued for {seconds(secs)} after {continued_after}" if continued_after else f"Thought for {seconds(secs)}"
    if called:
        text += f", then called {called}"
    text += f" · {tokens(n_tokens)}"
    if n_ctx:
        share = 100 * n_tokens / n_ctx
        text += f" · {share:.0f}% of context" if share >= 1 or not n_tokens else " · <1% of context"
    if budget_cut:
        text += " · cut at the thinking budget"
    elif truncated:
        text += " · truncated"
    return text


def join_names(names: list[str]) -> str:
    """``calculator``, ``calculator and python``, ``a, b and c``."""
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]
