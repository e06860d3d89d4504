"""Google Gemini ``models/{model}:streamGenerateContent?alt=sse`` with thought summaries.

The request sets ``generationConfig.thinkingConfig`` (``includeThoughts: true`` and, when a
budget is set, ``thinkingBudget``; ``reasoning_effort = "none"`` turns thinking off). Parts
with ``thought: true`` are reasoning, other text parts the answer; ``usageMetadata``
(``promptTokenCount``, ``candidatesTokenCount``, ``thoughtsTokenCount``) gives exact counts.
The key travels in the ``x-goog-api-key`` header, never in the URL.

Tools: ``tools=[{functionDeclarations: [{name, description, parametersJsonSchema}]}]`` (the
JSON-schema field: tool schemas, MCP ones included, are JSON Schema, which the OpenAPI-subset
``parameters`` field may refuse). ``functionCall`` parts arrive whole (``name``, ``args``,
``id`` when the model names its call); Gemini 3 puts a ``thoughtSignature`` on the part that
carries the (first) call of a step and requires it back, or answers 400
(ai.google.dev/gemini-api/docs/thought-signatures). A round goes back as the model's parts in
the order received, signatures where they were (parts are merged only where neither carries
one), then a user turn of ``functionResponse`` parts (``name``, ``response: {output}`` or
``{error}``, ``id`` when the call had one). Gemini has no finish reason for calls: ``STOP``
after calls finishes the call with ``"tool_calls"``.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from httpx_sse import ServerSentEvent

from app.backends.cloud.base import CloudBackend, ProviderStreamError, TurnReader
from app.backends.cloud.faults import provider_detail
from app.backends.cloud.tally import Tally
from app.backends.cloud.tool_calls import LOCAL_ID, Round, chat_items, plain, tool_schemas
from app.domain import events as ev
from app.domain.profiles import ModelProfile
from app.domain.turn_request import TurnRequest

FINISH = {"STOP": "stop", "FINISH_REASON_UNSPECIFIED": "stop", "MAX_TOKENS": "length"}
SIGNATURE = "thoughtSignature"


class GeminiReader(TurnReader):
    """Reads ``GenerateContentResponse`` chunks (candidate 0)."""

    backend = "gemini"

    def __init__(self, profile: ModelProfile, clock: Callable[[], float]) -> None:
        super().__init__(profile, clock)
        self.raw_usage: dict[str, Any] | None = None
        self.parts: list[dict[str, Any]] = []  # the model's parts, as they must go back

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
                self._keep(part)
                call = part.get("functionCall")
                if isinstance(call, dict):
                    call_id = call.get("id") if isinstance(call.get("id"), str) and call.get("id") else None
                    out += self.calls.whole(call_id, call.get("name"), call.get("args"))
                    continue
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

    def _keep(self, part: dict[str, Any]) -> None:
        """Add a streamed part to the model's parts; text continues the last text part of the
        same kind unless either carries a signature (a signed part goes back as it came)."""
        last = self.parts[-1] if self.parts else None
        if (last is not None and set(part) <= {"text", "thought"} and set(last) <= {"text", "thought"}
                and isinstance(part.get("text"), str) and isinstance(last.get("text"), str)
                and bool(part.get("thought")) == bool(last.get("thought"))):
            last["text"] += part["text"]
            return
        self.parts.append(dict(part))

    def provider_state(self) -> dict[str, Any]:
        """The model's parts in order (thought signatures where they came)."""
        return {"parts": [dict(p) for p in self.parts]}

    def complete(self) -> bool:
        return self.finish_reason is not None

    def usage(self, tally: Tally) -> ev.Usage | None:
        u = self.raw_usage
        if not u:
            return None
        return ev.Usage(int(u.get("promptTokenCount") or 0), int(u.get("thoughtsTokenCount") or 0),
                        int(u.get("candidatesTokenCount") or 0), estimated=False,
                        cached_tokens=int(u.get("cachedContentTokenCount") or 0))  # of promptTokenCount


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
        contents = self.contents(m for m in request.messages if m.get("role") != "system")
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
        if request.tools:
            body["tools"] = [{"functionDeclarations": [
                {"name": n, "description": d, "parametersJsonSchema": p} for n, d, p in tool_schemas(request.tools)]}]
        return body

    def contents(self, messages) -> list[dict[str, Any]]:
        """The chat as ``contents``: plain turns as one text part, a tool round as the model's
        parts, then a user turn of ``functionResponse`` parts."""
        out: list[dict[str, Any]] = []
        for item in chat_items(messages):
            if not isinstance(item, Round):
                m = plain(item)
                out.append({"role": "model" if m["role"] == "assistant" else "user", "parts": [{"text": m["content"]}]})
                continue
            out.append({"role": "model", "parts": self._parts(item)})
            out.append({"role": "user", "parts": [self._response(r) for r in item.results]})
        return out

    def _parts(self, tool_round: Round) -> list[dict[str, Any]]:
        state = tool_round.state(self.reader_class.backend)
        parts = state.get("parts") if isinstance(state, dict) else None
        if not parts:
            head = [{"text": tool_round.content}] if tool_round.content else []
            return head + [{"functionCall": function_call(c)} for c in tool_round.calls]
        out = []
        calls = iter(tool_round.calls)
        for part in parts:
            if isinstance(part.get("functionCall"), dict):
                call = next(calls, None)
                if call is None:
                    continue  # (its result is not in the history either)
                part = {**part, "functionCall": {**part["functionCall"], "args": dict(call.arguments)}}
            out.append(dict(part))
        return out

    @staticmethod
    def _response(result: dict[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = {"name": result["name"],
                                    "response": {"error" if result["is_error"] else "output": result["content"]}}
        if not result["tool_call_id"].startswith(LOCAL_ID):  # the model named its call
            response["id"] = result["tool_call_id"]
        return {"functionResponse": response}


def function_call(call) -> dict[str, Any]:
    """A ``functionCall`` as the model wrote it (its id only when the model gave one)."""
    body: dict[str, Any] = {"name": call.name, "args": dict(call.arguments)}
    if call.id and not call.id.startswith(LOCAL_ID):
        body["id"] = call.id
    return body
