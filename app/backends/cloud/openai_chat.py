"""OpenAI-compatible chat completions (OpenAI, DeepSeek, OpenRouter, vLLM, llama-server, Ollama, LM Studio).

Reasoning arrives in ``delta.reasoning_content`` (DeepSeek, llama-server) or
``delta.reasoning`` (vLLM, OpenRouter), counted once when a server mirrors both, or inline
between think markers in ``delta.content`` (servers that do not separate it). The final
chunk's ``usage`` (asked for with ``stream_options.include_usage``) gives exact counts,
``completion_tokens_details.reasoning_tokens`` included; OpenAI's own reasoning models send
no reasoning text, so the count alone becomes ``HiddenReasoning``.
"""

from __future__ import annotations

from typing import Any, Callable

from httpx_sse import ServerSentEvent

from app.backends.cloud.base import CloudBackend, ProviderStreamError, TurnReader
from app.backends.cloud.faults import provider_detail
from app.backends.cloud.tally import Tally
from app.domain.steering import budget_to_effort
from app.domain import events as ev
from app.domain.profiles import ModelProfile
from app.domain.reasoning.fields import REASONING_KEYS, mirrored
from app.domain.reasoning.markers import FAMILIES, MarkerSpec, family_for_name
from app.domain.reasoning.parser import make_parser
from app.domain.turn_request import TurnRequest

FINISH = {"stop": "stop", "length": "length", "max_tokens": "length", "tool_calls": "stop",
          "function_call": "stop", "content_filter": "error"}


def inline_spec(profile: ModelProfile) -> MarkerSpec:
    """The markers to look for in ``content``: the profile's, the model family's, else ``<think>``."""
    r = profile.reasoning
    if r is not None and r.start and r.end:
        return MarkerSpec("profile", r.start, r.end)
    return family_for_name(profile.model or profile.id) or FAMILIES["think"]


class ChatCompletionsReader(TurnReader):
    """Reads ``chat.completion.chunk`` events (choice 0)."""

    def __init__(self, profile: ModelProfile, clock: Callable[[], float]) -> None:
        super().__init__(profile, clock)
        forced = bool(profile.reasoning and profile.reasoning.forced_open)
        self.inline = make_parser(inline_spec(profile), forced_open=forced, clock=clock)
        self.raw_usage: dict[str, Any] | None = None

    def feed(self, sse: ServerSentEvent) -> list[ev.TurnEvent]:
        if sse.data.strip() == "[DONE]":
            self.done = True
            return []
        obj = self.load(sse)
        if obj is None:
            return []
        if obj.get("error"):
            raise ProviderStreamError(provider_detail(sse.data))
        out: list[ev.TurnEvent] = []
        for choice in obj.get("choices") or ():
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            if delta.get("tool_calls"):
                self.note_progress()
            out += self.fields.reasoning(mirrored(**{k: delta.get(k) for k in REASONING_KEYS}))
            content = delta.get("content")
            if isinstance(content, str) and content:
                out += self._content(self.inline.feed(content))
            reason = choice.get("finish_reason")
            if reason:
                self.finish_reason = FINISH.get(reason, "stop")
                if reason == "content_filter":
                    self.error = f'The provider\'s content filter stopped the answer of "{self.profile.id}".'
        if isinstance(obj.get("usage"), dict):
            self.raw_usage = obj["usage"]
            self.note_progress()
        return out

    def _content(self, events: list) -> list[ev.TurnEvent]:
        """Inline-parsed content: answer text closes a field block; parser blocks pass through."""
        out: list[ev.TurnEvent] = []
        for event in events:
            if type(event) is ev.AnswerDelta:
                out += self.fields.answer(event.text)
            else:
                if self.fields.in_reasoning:
                    out += self.fields.finish()
                out.append(event)
        return out

    def complete(self) -> bool:
        return self.done or self.finish_reason is not None

    def close(self, truncated: bool) -> list[ev.TurnEvent]:
        return self._content(self.inline.finish()) + self.fields.finish(truncated)

    def usage(self, tally: Tally) -> ev.Usage | None:
        u = self.raw_usage
        if not u:
            return None
        completion = int(u.get("completion_tokens") or 0)
        details = u.get("completion_tokens_details") or {}
        reasoning = details.get("reasoning_tokens") if isinstance(details, dict) else None
        estimated = False
        if reasoning is None:  # the server does not split: attribute by the text that arrived
            reasoning = max(0, completion - tally.answer_tokens) if tally.reasoning_chars else 0
            estimated = tally.reasoning_chars > 0
        reasoning = min(int(reasoning), completion)
        return ev.Usage(int(u.get("prompt_tokens") or 0), reasoning, completion - reasoning, estimated=estimated)


class OpenAIChatBackend(CloudBackend):
    """``POST {base_url}/chat/completions`` with ``stream: true``."""

    reader_class = ChatCompletionsReader

    def url(self, request: TurnRequest) -> str:
        return f"{self.base}/chat/completions"

    def headers(self, key: str | None) -> dict[str, str]:
        return {"authorization": f"Bearer {key}"} if key else {}

    def payload(self, request: TurnRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.api_model,
            "messages": [dict(m) for m in request.messages],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        # A turn's thinking budget maps onto effort bands (low/medium/high); else the profile's.
        effort = budget_to_effort(request.thinking_budget) if request.thinking_budget else self.profile.reasoning_effort
        if effort:  # OpenAI reasoning models take max_completion_tokens (reasoning included)
            body["reasoning_effort"] = effort
            body["max_completion_tokens"] = request.max_tokens
        else:
            body["max_tokens"] = request.max_tokens
        if request.temperature is not None:
            body["temperature"] = request.temperature
        return body
