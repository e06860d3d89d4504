"""Google Gemini ``models/{model}:streamGenerateContent?alt=sse`` with thought summaries.

The request sets ``generationConfig.thinkingConfig`` (``includeThoughts: true`` and, when a
budget is set, ``thinkingBudget``; ``reasoning_effort = "none"`` turns thinking off). Parts
with ``thought: true`` are reasoning, other text parts the answer; ``usageMetadata``
(``promptTokenCount``, ``candidatesTokenCount``, ``thoughtsTokenCount``) gives exact counts.
The key travels in the ``x-goog-api-key`` header, never in the URL.
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

FINISH = {"STOP": "stop", "FINISH_REASON_UNSPECIFIED": "stop", "MAX_TOKENS": "length"}


class GeminiReader(TurnReader):
    """Reads ``GenerateContentResponse`` chunks (candidate 0)."""

    def __init__(self, profile: ModelProfile, clock: Callable[[], float]) -> None:
        super().__init__(profile, clock)
        self.raw_usage: dict[str, Any] | None = None

    def feed(self, sse: ServerSentEvent) -> list[ev.TurnEvent]:
        obj = self.load(sse)
        if obj is None:
            return []
        if obj.get("error"):
            raise ProviderStreamError(provider_detail(json.dumps(obj)))
        out: list[ev.TurnEvent] = []
        for candidate in obj.get("candidates") or ():
            if candidate.get("index", 0) != 0:
                continue
            for part in (candidate.get("content") or {}).get("parts") or ():
                if part.get("functionCall"):
                    self.note_progress()
                text = part.get("text")
                if not isinstance(text, str) or not text:
                    continue
                out += self.fields.reasoning(text) if part.get("thought") else self.fields.answer(text)
            reason = candidate.get("finishReason")
            if reason:
                self.finish_reason = FINISH.get(reason, "error")
                if self.finish_reason == "error":
                    self.error = f'Gemini stopped the answer of "{self.profile.id}" ({reason}).'
        blocked = (obj.get("promptFeedback") or {}).get("blockReason")
        if blocked:
            self.finish_reason = "error"
            self.error = f'Gemini refused the prompt for "{self.profile.id}" ({blocked}).'
        if isinstance(obj.get("usageMetadata"), dict):
            self.raw_usage = obj["usageMetadata"]
            self.note_progress()
        return out

    def complete(self) -> bool:
        return self.finish_reason is not None

    def usage(self, tally: Tally) -> ev.Usage | None:
        u = self.raw_usage
        if not u:
            return None
        return ev.Usage(int(u.get("promptTokenCount") or 0), int(u.get("thoughtsTokenCount") or 0),
                        int(u.get("candidatesTokenCount") or 0), estimated=False)


class GeminiBackend(CloudBackend):
    """``POST {base_url}/models/{model}:streamGenerateContent?alt=sse``."""

    reader_class = GeminiReader

    @property
    def api_model(self) -> str:
        return super().api_model.removeprefix("models/")

    def url(self, request: TurnRequest) -> str:
        return f"{self.base}/models/{self.api_model}:streamGenerateContent?alt=sse"

    def headers(self, key: str | None) -> dict[str, str]:
        return {"x-goog-api-key": key} if key else {}

    def auth_error(self, status: int, body: bytes) -> bool:
        return status == 400 and (b"API_KEY_INVALID" in body or b"API key not valid" in body)

    def payload(self, request: TurnRequest) -> dict[str, Any]:
        system = [m["content"] for m in request.messages if m.get("role") == "system"]
        contents = [{"role": "model" if m["role"] == "assistant" else "user", "parts": [{"text": m["content"]}]}
                    for m in request.messages if m.get("role") != "system"]
        budget = request.thinking_budget or (self.profile.reasoning.budget if self.profile.reasoning else 0)
        thinking: dict[str, Any] = {"includeThoughts": True}
        if self.profile.reasoning_effort == "none":
            thinking = {"includeThoughts": False, "thinkingBudget": 0}
        elif budget:
            thinking["thinkingBudget"] = budget
        config: dict[str, Any] = {"maxOutputTokens": request.max_tokens + (budget or 0), "thinkingConfig": thinking}
        if request.temperature is not None:
            config["temperature"] = request.temperature
        body: dict[str, Any] = {"contents": contents, "generationConfig": config}
        if system:
            body["systemInstruction"] = {"parts": [{"text": "\n\n".join(system)}]}
        return body
