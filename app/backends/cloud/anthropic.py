"""Anthropic Messages API with extended thinking.

The request asks for ``thinking: {type: enabled, budget_tokens}`` (at least 1024) when the
turn or the profile sets a thinking budget. Stream events read: ``message_start`` (input
usage), ``content_block_start`` (``thinking`` / ``redacted_thinking`` / ``text``),
``content_block_delta`` (``thinking_delta``, ``signature_delta``, ``text_delta``),
``content_block_stop`` (a thinking block ends there), ``message_delta`` (stop reason, output
usage), ``message_stop`` and ``error``. The signature is kept with its block
(``BlockSignature``); a redacted block keeps its opaque data (``RedactedBlock``).

Anthropic reports one output count, thinking included; Ponder splits it using the answer
text that arrived, and says the split is an estimate.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from httpx_sse import ServerSentEvent

from app.backends.cloud.base import CloudBackend, ProviderStreamError, TurnReader
from app.backends.cloud.faults import provider_detail
from app.backends.cloud.tally import Tally
from app.domain import events as ev
from app.domain.profiles import ModelProfile
from app.domain.turn_request import TurnRequest

API_VERSION = "2023-06-01"
MIN_BUDGET = 1024
STOP = {"end_turn": "stop", "stop_sequence": "stop", "tool_use": "stop", "pause_turn": "stop",
        "max_tokens": "length", "refusal": "stop"}


def thinking_budget(profile: ModelProfile, request: TurnRequest) -> int:
    """The turn's thinking budget (0: thinking off); Anthropic's minimum is 1024."""
    budget = request.thinking_budget or (profile.reasoning.budget if profile.reasoning else 0)
    return max(MIN_BUDGET, budget) if budget else 0


class MessagesReader(TurnReader):
    """Reads Messages API stream events."""

    def __init__(self, profile: ModelProfile, clock: Callable[[], float]) -> None:
        super().__init__(profile, clock)
        self.blocks: dict[int, str] = {}  # index -> content block type
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None

    def feed(self, sse: ServerSentEvent) -> list[ev.TurnEvent]:
        obj = self.load(sse)
        if obj is None:
            return []
        kind = obj.get("type") or sse.event
        if kind == "content_block_delta":
            return self._delta(obj.get("delta") or {})
        if kind == "content_block_start":
            return self._start(obj.get("index", 0), obj.get("content_block") or {})
        if kind == "content_block_stop":
            if self.blocks.get(obj.get("index", 0)) == "thinking":
                return self.fields.finish()
        elif kind == "message_start":
            usage = (obj.get("message") or {}).get("usage") or {}
            self.input_tokens = sum(int(usage.get(k) or 0) for k in
                                    ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"))
            self.output_tokens = int(usage.get("output_tokens") or 0)
        elif kind == "message_delta":
            self.note_progress()  # message_start's usage is not: it comes before any output
            reason = (obj.get("delta") or {}).get("stop_reason")
            if reason:
                self.finish_reason = STOP.get(reason, "stop")
            usage = obj.get("usage") or {}
            if usage.get("output_tokens") is not None:
                self.output_tokens = int(usage["output_tokens"])
        elif kind == "message_stop":
            self.done = True
            self.finish_reason = self.finish_reason or "stop"
        elif kind == "error":
            raise ProviderStreamError(provider_detail(json.dumps(obj)) or "unknown error")
        return []

    def _start(self, index: int, block: dict[str, Any]) -> list[ev.TurnEvent]:
        kind = block.get("type", "")
        self.blocks[index] = kind
        if kind == "thinking":
            out = self.fields.finish() + self.fields.reasoning(block.get("thinking") or None)
            if block.get("signature"):
                out.append(ev.BlockSignature(self.clock(), block["signature"]))
            return out
        if kind == "redacted_thinking":
            return self.fields.finish() + [ev.RedactedBlock(self.clock(), str(block.get("data") or ""))]
        if kind == "text":
            return self.fields.answer(block.get("text") or None)
        if kind == "tool_use":
            self.note_progress()
        return []

    def _delta(self, delta: dict[str, Any]) -> list[ev.TurnEvent]:
        kind = delta.get("type")
        if kind == "thinking_delta":
            return self.fields.reasoning(delta.get("thinking"))
        if kind == "text_delta":
            return self.fields.answer(delta.get("text"))
        if kind == "signature_delta" and delta.get("signature"):
            return [ev.BlockSignature(self.clock(), delta["signature"])]
        if kind == "input_json_delta":
            self.note_progress()  # a tool call's arguments
        return []

    def usage(self, tally: Tally) -> ev.Usage | None:
        if self.output_tokens is None or self.input_tokens is None:
            return None
        output = self.output_tokens
        if not tally.saw_reasoning:
            return ev.Usage(self.input_tokens, 0, output, estimated=False)
        answer = min(output, tally.answer_tokens)
        return ev.Usage(self.input_tokens, output - answer, answer, estimated=True)


class AnthropicBackend(CloudBackend):
    """``POST {base_url}/v1/messages`` with ``stream: true``."""

    reader_class = MessagesReader

    def url(self, request: TurnRequest) -> str:
        base = self.base
        return f"{base}/messages" if base.endswith("/v1") else f"{base}/v1/messages"

    def headers(self, key: str | None) -> dict[str, str]:
        headers = {"anthropic-version": API_VERSION}
        if key:
            headers["x-api-key"] = key
        return headers

    def payload(self, request: TurnRequest) -> dict[str, Any]:
        system = [m["content"] for m in request.messages if m.get("role") == "system"]
        body: dict[str, Any] = {
            "model": self.api_model,
            "messages": [{"role": m["role"], "content": m["content"]} for m in request.messages
                         if m.get("role") != "system"],
            "max_tokens": request.max_tokens,
            "stream": True,
        }
        if system:
            body["system"] = "\n\n".join(system)
        budget = thinking_budget(self.profile, request)
        if budget:  # max_tokens must exceed the budget: the answer gets request.max_tokens on top
            body["thinking"] = {"type": "enabled", "budget_tokens": budget}
            body["max_tokens"] = budget + request.max_tokens
        elif request.temperature is not None:  # thinking requires the default temperature
            body["temperature"] = request.temperature
        return body
