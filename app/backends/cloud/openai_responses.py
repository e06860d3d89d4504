"""OpenAI's Responses API: reasoning summaries into the panel, the hidden count otherwise.

Events read: ``response.reasoning_summary_text.delta`` (and ``response.reasoning_text.delta``,
full reasoning where a model exposes it) → reasoning; ``response.reasoning_summary_part.added``
separates summary parts; ``response.output_item.done`` of a reasoning item ends the block;
``response.output_text.delta`` / ``response.refusal.delta`` → answer;
``response.completed`` / ``response.incomplete`` end the turn with
``usage.output_tokens_details.reasoning_tokens``; ``response.failed`` and ``error`` are faults.
When the provider reasoned but sent no summary, only the count is shown (``HiddenReasoning``).
"""

from __future__ import annotations

import json
from typing import Any, Callable

from httpx_sse import ServerSentEvent

from app.backends.cloud.base import CloudBackend, ProviderStreamError, TurnReader
from app.backends.cloud.faults import provider_detail
from app.backends.cloud.tally import Tally
from app.domain.steering import budget_to_effort
from app.domain import events as ev
from app.domain.profiles import ModelProfile
from app.domain.turn_request import TurnRequest

REASONING_DELTAS = ("response.reasoning_summary_text.delta", "response.reasoning_text.delta")
ANSWER_DELTAS = ("response.output_text.delta", "response.refusal.delta")


class ResponsesReader(TurnReader):
    """Reads Responses API stream events (typed by their ``type`` field)."""

    def __init__(self, profile: ModelProfile, clock: Callable[[], float]) -> None:
        super().__init__(profile, clock)
        self.raw_usage: dict[str, Any] | None = None
        self._part_break = False  # a new summary part starts: separate it from the last one

    def feed(self, sse: ServerSentEvent) -> list[ev.TurnEvent]:
        obj = self.load(sse)
        if obj is None:
            return []
        kind = obj.get("type") or sse.event
        if kind in REASONING_DELTAS:
            text = obj.get("delta")
            if isinstance(text, str) and text and self._part_break and self.fields.in_reasoning:
                text = "\n\n" + text
            if text:
                self._part_break = False
            return self.fields.reasoning(text if isinstance(text, str) else None)
        if kind in ANSWER_DELTAS:
            text = obj.get("delta")
            return self.fields.answer(text if isinstance(text, str) else None)
        if kind == "response.function_call_arguments.delta":
            self.note_progress()
        elif kind == "response.reasoning_summary_part.added":
            self._part_break = True
        elif kind == "response.output_item.done" and (obj.get("item") or {}).get("type") == "reasoning":
            self._part_break = False
            return self.fields.finish()
        elif kind in ("response.completed", "response.incomplete"):
            self._end(obj.get("response") or {}, kind)
        elif kind == "response.failed":
            response = obj.get("response") or {}
            raise ProviderStreamError(provider_detail(json.dumps(response)) or "the response failed")
        elif kind == "error":
            raise ProviderStreamError(provider_detail(json.dumps(obj)) or "unknown error")
        return []

    def _end(self, response: dict[str, Any], kind: str) -> None:
        self.done = True
        if isinstance(response.get("usage"), dict):
            self.raw_usage = response["usage"]
        self.finish_reason = "stop"
        if kind == "response.incomplete":
            reason = (response.get("incomplete_details") or {}).get("reason")
            if reason == "max_output_tokens":
                self.finish_reason = "length"
            else:
                self.error = f'The provider stopped the answer of "{self.profile.id}" ({reason or "incomplete"}).'

    def usage(self, tally: Tally) -> ev.Usage | None:
        u = self.raw_usage
        if not u:
            return None
        output = int(u.get("output_tokens") or 0)
        reasoning = int((u.get("output_tokens_details") or {}).get("reasoning_tokens") or 0)
        reasoning = min(reasoning, output)
        return ev.Usage(int(u.get("input_tokens") or 0), reasoning, output - reasoning, estimated=False)


class OpenAIResponsesBackend(CloudBackend):
    """``POST {base_url}/responses`` with ``stream: true`` and reasoning summaries on."""

    reader_class = ResponsesReader

    def url(self, request: TurnRequest) -> str:
        return f"{self.base}/responses"

    def headers(self, key: str | None) -> dict[str, str]:
        return {"authorization": f"Bearer {key}"} if key else {}

    def payload(self, request: TurnRequest) -> dict[str, Any]:
        system = [m["content"] for m in request.messages if m.get("role") == "system"]
        body: dict[str, Any] = {
            "model": self.api_model,
            "input": [{"role": m["role"], "content": m["content"]} for m in request.messages
                      if m.get("role") != "system"],
            "stream": True,
            "store": False,  # Ponder keeps the conversation; the provider need not
            "max_output_tokens": request.max_tokens,
            "reasoning": {"summary": "auto"},
        }
        if system:
            body["instructions"] = "\n\n".join(system)
        effort = budget_to_effort(request.thinking_budget) if request.thinking_budget else self.profile.reasoning_effort
        if effort:
            body["reasoning"]["effort"] = effort
        if request.temperature is not None:
            body["temperature"] = request.temperature
        return body
