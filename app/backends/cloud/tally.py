"""Token estimates for cloud turns until the provider reports its usage.

Cloud providers send text, not tokens, so Ponder estimates (about four characters a
token) for the live gauge and the timeline; the provider's usage replaces the estimate
at the end (``Usage(estimated=False)``). Estimates are always flagged as such.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from typing import Callable

from app.domain import events as ev

CHARS_PER_TOKEN = 4
MESSAGE_OVERHEAD = 4  # role and separators a chat template adds per message


def estimate_tokens(text: str) -> int:
    """Rough token count of ``text`` (0 for empty text)."""
    return math.ceil(len(text) / CHARS_PER_TOKEN) if text else 0


def estimate_prompt(messages: Iterable[Mapping]) -> tuple[int, int]:
    """(all prompt tokens, of which system tokens) of chat messages, estimated."""
    total = system = 0
    for message in messages:
        content = message.get("content")
        n = MESSAGE_OVERHEAD + estimate_tokens(content if isinstance(content, str) else str(content or ""))
        for call in message.get("tool_calls") or ():  # a tool round: the calls are in the prompt too
            n += MESSAGE_OVERHEAD + estimate_tokens(getattr(call, "name", "") + getattr(call, "arguments_json", ""))
        total += n
        if message.get("role") == "system":
            system += n
    return total, system


class Tally:
    """Watches a turn's events and adds estimated :class:`TokenCounts` after new text."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.reasoning_chars = 0
        self.answer_chars = 0
        self.call_chars = 0  # the tool calls' arguments (output beside reasoning and answer)
        self.saw_reasoning = False  # reasoning text, a redacted block or a signed block

    @property
    def reasoning_tokens(self) -> int:
        return math.ceil(self.reasoning_chars / CHARS_PER_TOKEN)

    @property
    def answer_tokens(self) -> int:
        return math.ceil(self.answer_chars / CHARS_PER_TOKEN)

    @property
    def call_tokens(self) -> int:
        return math.ceil(self.call_chars / CHARS_PER_TOKEN)

    def counted(self, events: list[ev.TurnEvent]) -> list[ev.TurnEvent]:
        """``events`` plus a ``TokenCounts`` at the end when they carried text."""
        grew = False
        for event in events:
            kind = type(event)
            if kind is ev.ReasoningDelta:
                self.reasoning_chars += len(event.text)
                self.saw_reasoning = grew = True
            elif kind is ev.AnswerDelta:
                self.answer_chars += len(event.text)
                grew = True
            elif kind in (ev.RedactedBlock, ev.BlockSignature):
                self.saw_reasoning = True
            elif kind is ev.ToolCallParsed:
                self.call_chars += len(getattr(event.call, "name", "")) + len(getattr(event.call, "raw", ""))
        if grew:
            events.append(ev.TokenCounts(self.reasoning_tokens, self.answer_tokens, 0, self.clock()))
        return events
