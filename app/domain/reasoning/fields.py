"""Reasoning that arrives in its own field or typed event (cloud providers).

OpenAI-compatible servers put it in ``reasoning_content`` (DeepSeek, llama-server),
``reasoning`` (vLLM, OpenRouter) or ``thinking`` (Ollama); Anthropic, the Responses API
and Gemini send typed blocks/parts. The provider code extracts the text and calls
:class:`FieldReasoningAdapter`, which turns it into the same events as the inline parser.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Callable

from app.domain.events import AnswerDelta, BlockEnd, BlockStart, ReasoningDelta
from app.domain.reasoning.parser import ParserEvent

#: Delta keys that carry reasoning text, in order of preference.
REASONING_KEYS: tuple[str, ...] = ("reasoning_content", "reasoning", "thinking")


def mirrored(**fields: str | None) -> str | None:
    """The reasoning text of one delta whose servers may mirror it in several fields.

    ``mirrored(reasoning="Ok", reasoning_content="Ok")`` is ``"Ok"`` (counted once).
    When the fields differ, the first non-empty one in :data:`REASONING_KEYS` order (then
    any other key, in call order) wins; null, empty and non-string fields are ignored.
    """
    for key in (*REASONING_KEYS, *fields):
        text = fields.get(key)
        if isinstance(text, str) and text:
            return text
    return None


class FieldReasoningAdapter:
    """Stateful mapper from reasoning/answer fields to turn events.

    * null or empty text opens nothing;
    * the first non-empty reasoning opens a block (``BlockStart(marker="")``);
    * the first non-empty answer text closes it, so thinking time ends there;
    * reasoning after answer text opens a new block (interleaved thinking, tool turns).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._in_block = False
        self._truncated = False

    @property
    def in_reasoning(self) -> bool:
        """A block is open."""
        return self._in_block

    @property
    def truncated(self) -> bool:
        """``finish(truncated=True)`` closed an open block."""
        return self._truncated

    def reasoning(self, text: str | None) -> list[ParserEvent]:
        """Reasoning text from a field or a typed thinking event."""
        if not text:
            return []
        if self._in_block:
            return [ReasoningDelta(text)]
        self._in_block = True
        return [BlockStart(self._clock(), ""), ReasoningDelta(text)]

    def answer(self, text: str | None) -> list[ParserEvent]:
        """Answer (content) text; closes an open block first."""
        if not text:
            return []
        if not self._in_block:
            return [AnswerDelta(text)]
        self._in_block = False
        return [BlockEnd(self._clock(), ""), AnswerDelta(text)]

    def delta(self, fields: Mapping[str, Any]) -> list[ParserEvent]:
        """One OpenAI-style ``delta`` object: reasoning keys (mirrors counted once), then content."""
        content = fields.get("content")
        return self.reasoning(mirrored(**{k: fields.get(k) for k in REASONING_KEYS})) + self.answer(
            content if isinstance(content, str) else None
        )

    def finish(self, truncated: bool = False) -> list[ParserEvent]:
        """Close an open block; ``truncated`` when the stream stopped inside the reasoning."""
        if not self._in_block:
            return []
        self._in_block = False
        self._truncated = truncated
        return [BlockEnd(self._clock(), "", truncated=truncated)]
