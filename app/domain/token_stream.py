"""From generated tokens to turn events, with exact per-segment token counts.

A local backend hands every generated token's text here (already UTF-8-safe) with the
token's special flag. A tool-call parser (when the model is offered tools) takes the text
first and passes the rest on; the reasoning parser splits that; this class attributes each
token to reasoning or answer: a token that starts or ends inside a reasoning block (its
markers included) is a reasoning token, any other is an answer token (tool-call syntax
included), and tokens Ponder injected itself (an end marker after a budget cut) are counted
apart.
"""

from __future__ import annotations

import time
from typing import Callable

from app.domain import events as ev
from app.domain.reasoning.parser import PassThroughParser, ReasoningParser
from app.domain.tools.pieces import CallAbandoned, CallMentioned, CallOpened, CallParsed, Markup, Text


class TokenStream:
    """Feeds token texts through a reasoning parser and counts tokens per segment."""

    def __init__(self, parser: ReasoningParser | PassThroughParser, clock: Callable[[], float] = time.monotonic,
                 tools=None):
        self.parser = parser
        self.clock = clock
        self.tools = tools  # an app.domain.tools call parser, or None
        self.reasoning = 0
        self.answer = 0
        self.injected = 0

    def token(self, text: str, *, special: bool = False, token_id: int = -1) -> list[ev.TurnEvent]:
        """One generated token; returns the events it produced (counts last, with the
        token's id when known: the turn runner's loop detection works on ids)."""
        was_reasoning = self.parser.in_reasoning
        out = self._feed(text, special) if text else []
        if was_reasoning or self.parser.in_reasoning:
            self.reasoning += 1
        else:
            self.answer += 1
        out.append(ev.TokenCounts(self.reasoning, self.answer, self.injected, self.clock(), token_id))
        return out

    def inject(self, text: str, n_tokens: int, *, special: bool = False) -> list[ev.TurnEvent]:
        """Text Ponder fed to the model itself (not sampled): parsed, counted as injected."""
        out = self._feed(text, special)
        self.injected += n_tokens
        out.append(ev.TokenCounts(self.reasoning, self.answer, self.injected, self.clock()))
        return out

    def text(self, text: str, *, special: bool = False) -> list[ev.TurnEvent]:
        """Text that belongs to tokens already counted, or to none (a decoder's final flush;
        the end-of-generation token that ends a call, for the tool parser)."""
        return self._feed(text, special)

    def finish(self) -> list[ev.TurnEvent]:
        out = self._pieces(self.tools.finish()) if self.tools is not None else []
        return out + self.parser.finish()

    def _feed(self, text: str, special: bool) -> list[ev.TurnEvent]:
        if self.tools is None:
            return self.parser.feed(text, special=special)
        return self._pieces(self.tools.feed(text, special=special, in_reasoning=self.parser.in_reasoning))

    def _pieces(self, pieces) -> list[ev.TurnEvent]:
        """The tool parser's pieces as turn events: text through the reasoning parser."""
        out: list[ev.TurnEvent] = []
        for piece in pieces:
            kind = type(piece)
            if kind is Text:
                out += self.parser.feed(piece.text, special=piece.special)
            elif kind is Markup:
                out.append(ev.MarkupText(piece.text))
            elif kind is CallOpened:
                out.append(ev.ToolCallOpened(self.clock(), "", piece.name, self.parser.in_reasoning))
            elif kind is CallParsed:
                out += [ev.MarkupText(piece.call.raw), ev.ToolCallParsed(self.clock(), piece.call)]
            elif kind is CallMentioned:
                out.append(ev.ToolCallMentioned(self.clock(), piece.call))
            elif kind is CallAbandoned:
                out.append(ev.ToolCallAbandoned(self.clock(), piece.name, piece.reason))
        return out
