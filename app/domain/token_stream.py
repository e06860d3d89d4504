"""From generated tokens to turn events, with exact per-segment token counts.

A local backend hands every generated token's text here (already UTF-8-safe) with the
token's special flag. The reasoning parser splits the text; this class attributes each token
to reasoning or answer: a token that starts or ends inside a reasoning block (its markers
included) is a reasoning token, any other is an answer token, and tokens Ponder injected
itself (an end marker after a budget cut) are counted apart.
"""

from __future__ import annotations

import time
from typing import Callable

from app.domain import events as ev
from app.domain.reasoning.parser import PassThroughParser, ReasoningParser


class TokenStream:
    """Feeds token texts through a reasoning parser and counts tokens per segment."""

    def __init__(self, parser: ReasoningParser | PassThroughParser, clock: Callable[[], float] = time.monotonic):
        self.parser = parser
        self.clock = clock
        self.reasoning = 0
        self.answer = 0
        self.injected = 0

    def token(self, text: str, *, special: bool = False, token_id: int = -1) -> list[ev.TurnEvent]:
        """One generated token; returns the events it produced (counts last, with the
        token's id when known: the turn runner's loop detection works on ids)."""
        was_reasoning = self.parser.in_reasoning
        out = self.parser.feed(text, special=special) if text else []
        if was_reasoning or self.parser.in_reasoning:
            self.reasoning += 1
        else:
            self.answer += 1
        out.append(ev.TokenCounts(self.reasoning, self.answer, self.injected, self.clock(), token_id))
        return out

    def inject(self, text: str, n_tokens: int, *, special: bool = False) -> list[ev.TurnEvent]:
        """Text Ponder fed to the model itself (not sampled): parsed, counted as injected."""
        out = self.parser.feed(text, special=special)
        self.injected += n_tokens
        out.append(ev.TokenCounts(self.reasoning, self.answer, self.injected, self.clock()))
        return out

    def text(self, text: str) -> list[ev.TurnEvent]:
        """Text that belongs to tokens already counted (a decoder's final flush)."""
        return self.parser.feed(text)

    def finish(self) -> list[ev.TurnEvent]:
        return self.parser.finish()
