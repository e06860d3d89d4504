"""Anthropic Messages API with extended thinking.

The request asks for ``thinking: {type: enabled, budget_tokens}`` (at least 1024) when the
turn or the profile sets a thinking budget. Stream events read: ``message_start`` (input
usage), ``content_block_start`` (``thinking`` / ``redacted_thinking`` / ``text``),
``content_block_delta`` (``thinking_delta``, ``signature_delta``, ``text_delta``),
``content_block_stop`` (a thinking block ends there), ``message_delta`` (stop reason, output
usage), ``message_stop`` and ``error``. The signature is kept with its block
(``BlockSignature``); a redacted block keeps its opaque data (``RedactedBlock``).

Anthropic reports one output count, thinking included; Ponder splits it using the answer
text (and tool-call arguments) that arrived, and says the split is an estimate.

Tools: ``tools=[{name, description, input_schema}]``; ``tool_choice`` is left to its default
(``auto``: with thinking only ``auto`` and ``none`` are allowed). A call is a ``tool_use``
block (``id``, ``name``) whose input streams as ``input_json_delta`` fragments, complete at
its ``content_block_stop``; ``stop_reason: tool_use`` ends the call. A round goes back as the
assistant message with the call's content blocks in order — ``thinking`` and
``redacted_thinking`` blocks unchanged with their signatures (else the request fails), text,
``tool_use`` — then a user message of ``tool_result`` blocks (``tool_use_id``, ``content``,
``is_error``). With thinking on and tools in play, the ``interleaved-thinking-2025-05-14``
beta header lets the model think between calls (older models; adaptive thinking does it by
itself). A request whose history holds tool blocks must declare tools: when the turn offers
none (the last round, a later turn), the tools named in the history are declared with
``tool_choice: none``.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from httpx_sse import ServerSentEvent

from app.backends.cloud.base import CloudBackend, ProviderStreamError, TurnReader
from app.backends.cloud.faults import provider_detail
from app.backends.cloud.tally import Tally
from app.backends.cloud.tool_calls import Round, chat_items, has_rounds, plain, tool_schemas
from app.domain import events as ev
from app.domain.profiles import ModelProfile
from app.domain.turn_request import TurnRequest

API_VERSION = "2023-06-01"
MIN_BUDGET = 1024
# "tool_use" becomes "stop" here; the call finishes with "tool_calls" when calls were read
STOP = {"end_turn": "stop", "stop_sequence": "stop", "tool_use": "stop", "pause_turn": "stop",
        "max_tokens": "length", "refusal": "stop"}
INTERLEAVED_BETA = "interleaved-thinking-2025-05-14"


def thinking_budget(profile: ModelProfile, request: TurnRequest) -> int:
    """The turn's thinking budget (0: thinking off); Anthropic's minimum is 1024."""
    budget = request.thinking_budget or (profile.reasoning.budget if profile.reasoning else 0)
    return max(MIN_BUDGET, budget) if budget else 0


class MessagesReader(TurnReader):
    """Reads Messages API stream events."""

    backend = "anthropic"

    def __init__(self, profile: ModelProfile, clock: Callable[[], float]) -> None:
        super().__init__(profile, clock)
        self.blocks: dict[int, str] = {}  # index -> content block type
        self.content: dict[int, dict[str, Any]] = {}  # index -> the block as it will go back
        self._delta_index = 0
        self.input_tokens: int | None = None
        self.cached_tokens = 0  # of input_tokens: cache_read_input_tokens (priced apart)
        self.output_tokens: int | None = None

    def feed(self, sse: ServerSentEvent) -> list[ev.TurnEvent]:
        obj = self.load(sse)
        if obj is None:
            return []
        kind = obj.get("type") or sse.event
        if kind == "content_block_delta":
            self._delta_index = obj.get("index", 0)
            return self._delta(obj.get("delta") or {})
        if kind == "content_block_start":
            return self._start(obj.get("index", 0), obj.get("content_block") or {})
        if kind == "content_block_stop":
            index = obj.get("index", 0)
            if self.blocks.get(index) == "thinking":
                return self.fields.finish()
            if self.blocks.get(index) == "tool_use":
                return self._tool_done(index)
        elif kind == "message_start":
            usage = (obj.get("message") or {}).get("usage") or {}
            self.input_tokens = sum(int(usage.get(k) or 0) for k in
                                    ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"))
            self.cached_tokens = int(usage.get("cache_read_input_tokens") or 0)
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
        self._record(index, block)
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
            return self.calls.open(index, block.get("id"), block.get("name"))
        return []

    def _record(self, index: int, block: dict[str, Any]) -> None:
        """Keep the block as it must go back: thinking with its text and signature, redacted
        thinking with its data, text, tool use (its input set when complete)."""
        kind = block.get("type")
        if kind == "thinking":
            self.content[index] = {"type": "thinking", "thinking": block.get("thinking") or "",
                                   "signature": block.get("signature") or ""}
        elif kind == "redacted_thinking":
            self.content[index] = {"type": "redacted_thinking", "data": block.get("data") or ""}
        elif kind == "text":
            self.content[index] = {"type": "text", "text": block.get("text") or ""}
        elif kind == "tool_use":
            self.content[index] = {"type": "tool_use", "id": block.get("id") or "", "name": block.get("name") or "",
                                   "input": {}}

    def _delta(self, delta: dict[str, Any]) -> list[ev.TurnEvent]:
        kind = delta.get("type")
        block = self.content.get(self._delta_index)
        if kind == "thinking_delta":
            if block is not None and isinstance(delta.get("thinking"), str):
                block["thinking"] += delta["thinking"]
            return self.fields.reasoning(delta.get("thinking"))
        if kind == "text_delta":
            if block is not None and isinstance(delta.get("text"), str):
                block["text"] += delta["text"]
            return self.fields.answer(delta.get("text"))
        if kind == "signature_delta" and delta.get("signature"):
            if block is not None:
                block["signature"] = delta["signature"]
            return [ev.BlockSignature(self.clock(), delta["signature"])]
        if kind == "input_json_delta":
            self.note_progress()  # a tool call's arguments
            if self.calls.is_open(self._delta_index):
                fragment = delta.get("partial_json")
                self.calls.add(self._delta_index, fragment if isinstance(fragment, str) else None)
        return []

    def _tool_done(self, index: int) -> list[ev.TurnEvent]:
        out = self.calls.complete(index)
        block = self.content.get(index)
        if out and block is not None:
            block["input"] = dict(out[-1].call.arguments)
            block["id"] = out[-1].call.id
        return out

    def provider_state(self) -> dict[str, Any]:
        """The assistant's content blocks in order, as they must go back (signatures included)."""
        return {"content": [dict(self.content[i]) for i in sorted(self.content)]}

    def usage(self, tally: Tally) -> ev.Usage | None:
        if self.output_tokens is None or self.input_tokens is None:
            return None
        output = self.output_tokens
        if not tally.saw_reasoning:
            return ev.Usage(self.input_tokens, 0, output, estimated=False, cached_tokens=self.cached_tokens)
        # thinking is billed as output and counted with it: the split is Ponder's estimate
        answer = min(output, tally.answer_tokens + tally.call_tokens)  # tool calls are not thinking
        return ev.Usage(self.input_tokens, output - answer, answer, estimated=True, cached_tokens=self.cached_tokens,
                        split_estimated=True)


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

    def request_headers(self, request: TurnRequest) -> dict[str, str]:
        if thinking_budget(self.profile, request) and (request.tools or has_rounds(request.messages)):
            return {"anthropic-beta": INTERLEAVED_BETA}
        return {}

    def payload(self, request: TurnRequest) -> dict[str, Any]:
        system = [m["content"] for m in request.messages if m.get("role") == "system"]
        body: dict[str, Any] = {
            "model": self.api_model,
            "messages": self.messages(m for m in request.messages if m.get("role") != "system"),
            "max_tokens": request.max_tokens,
            "stream": True,
        }
        if system:
            body["system"] = "\n\n".join(system)
        if request.tools:
            body["tools"] = [{"name": n, "description": d, "input_schema": p}
                             for n, d, p in tool_schemas(request.tools)]
        elif has_rounds(request.messages):
            body["tools"] = history_tools(request.messages)
            body["tool_choice"] = {"type": "none"}
        budget = thinking_budget(self.profile, request)
        if budget:  # max_tokens must exceed the budget: the answer gets request.max_tokens on top
            body["thinking"] = {"type": "enabled", "budget_tokens": budget}
            body["max_tokens"] = budget + request.max_tokens
        elif request.temperature is not None:  # thinking requires the default temperature
            body["temperature"] = request.temperature
        return body

    def messages(self, messages) -> list[dict[str, Any]]:
        """The chat in the API's form: plain turns as ``{role, content}``, a tool round as the
        assistant's content blocks, then a user message of ``tool_result`` blocks."""
        out: list[dict[str, Any]] = []
        for item in chat_items(messages):
            if not isinstance(item, Round):
                out.append(plain(item))
                continue
            out.append({"role": "assistant", "content": self._blocks(item)})
            out.append({"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": r["tool_call_id"], "content": r["content"],
                 "is_error": r["is_error"]} for r in item.results]})
        return out

    def _blocks(self, tool_round: Round) -> list[dict[str, Any]]:
        state = tool_round.state(self.reader_class.backend)
        blocks = state.get("content") if isinstance(state, dict) else None
        if not blocks:
            head = [{"type": "text", "text": tool_round.content}] if tool_round.content.strip() else []
            return head + [{"type": "tool_use", "id": c.id, "name": c.name, "input": dict(c.arguments)}
                           for c in tool_round.calls]
        out = []
        for block in blocks:  # thinking and redacted thinking exactly as received
            if block.get("type") == "text" and not str(block.get("text") or "").strip():
                continue  # the API refuses a text block without text
            if block.get("type") == "tool_use":
                call = tool_round.call(str(block.get("id") or ""))
                if call is None:
                    continue  # (its result is not in the history either)
                block = {**block, "input": dict(call.arguments)}  # as it ran (the user may have edited it)
            out.append(dict(block))
        return out


def history_tools(messages) -> list[dict[str, Any]]:
    """Declarations for the tools the history's rounds called (a request with tool blocks must
    declare tools; sent with ``tool_choice: none`` when the turn offers none)."""
    names: list[str] = []
    for item in chat_items(messages):
        for call in item.calls if isinstance(item, Round) else ():
            if call.name and call.name not in names:
                names.append(call.name)
    return [{"name": n, "description": "A tool used earlier in this conversation.",
             "input_schema": {"type": "object"}} for n in names]
