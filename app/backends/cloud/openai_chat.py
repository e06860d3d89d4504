"""OpenAI-compatible chat completions (OpenAI, DeepSeek, OpenRouter, vLLM, llama-server, Ollama, LM Studio).

Reasoning arrives in ``delta.reasoning_content`` (DeepSeek, llama-server) or
``delta.reasoning`` (vLLM, OpenRouter), counted once when a server mirrors both, or inline
between think markers in ``delta.content`` (servers that do not separate it). The final
chunk's ``usage`` (asked for with ``stream_options.include_usage``) gives exact counts,
``completion_tokens_details.reasoning_tokens`` included; OpenAI's own reasoning models send
no reasoning text, so the count alone becomes ``HiddenReasoning``.

Tools: ``tools=[{type: function, function: {name, description, parameters}}]``. Calls stream
as ``delta.tool_calls[{index, id?, function: {name?, arguments}}]``, the arguments in string
fragments per index; Ollama gives every call of a parallel batch index 0, so a new id with a
name (or after complete arguments) at a used index is a new call; a server that sends the
arguments as an object is read too. A round goes back as the assistant message with
``tool_calls`` (arguments as a JSON string), then ``{role: tool, tool_call_id, content}`` per
call. DeepSeek's thinking mode requires the ``reasoning_content`` of every assistant message
that made tool calls in all later requests, or answers 400 (api-docs.deepseek.com
guides/thinking_mode): it is sent back exactly as streamed (``ProviderState``), else from the
round's reasoning, else empty, whenever the server streamed its reasoning in that field or the
model is a DeepSeek one.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from httpx_sse import ServerSentEvent

from app.backends.cloud.base import CloudBackend, ProviderStreamError, TurnReader
from app.backends.cloud.faults import provider_detail
from app.backends.cloud.tally import Tally
from app.backends.cloud.tool_calls import Round, arguments_json, chat_items, plain, tool_schemas
from app.domain.steering import budget_to_effort
from app.domain import events as ev
from app.domain.profiles import ModelProfile
from app.domain.reasoning.fields import REASONING_KEYS, mirrored
from app.domain.reasoning.markers import FAMILIES, MarkerSpec, family_for_name
from app.domain.reasoning.parser import make_parser
from app.domain.turn_request import TurnRequest

# "tool_calls" becomes "stop" here; the call finishes with "tool_calls" when calls were read
FINISH = {"stop": "stop", "length": "length", "max_tokens": "length", "tool_calls": "stop",
          "function_call": "stop", "content_filter": "error"}
DEEPSEEK_FIELD = "reasoning_content"


def is_deepseek(profile: ModelProfile) -> bool:
    """A DeepSeek model or endpoint (whose thinking mode wants ``reasoning_content`` back)."""
    return "deepseek" in f"{profile.model or ''} {profile.id} {profile.base_url or ''}".lower()


def inline_spec(profile: ModelProfile) -> MarkerSpec:
    """The markers to look for in ``content``: the profile's, the model family's, else ``<think>``."""
    r = profile.reasoning
    if r is not None and r.start and r.end:
        return MarkerSpec("profile", r.start, r.end)
    return family_for_name(profile.model or profile.id) or FAMILIES["think"]


class ChatCompletionsReader(TurnReader):
    """Reads ``chat.completion.chunk`` events (choice 0)."""

    backend = "openai"

    def __init__(self, profile: ModelProfile, clock: Callable[[], float]) -> None:
        super().__init__(profile, clock)
        forced = bool(profile.reasoning and profile.reasoning.forced_open)
        self.inline = make_parser(inline_spec(profile), forced_open=forced, clock=clock)
        self.raw_usage: dict[str, Any] | None = None
        self.reasoning_field: str | None = None  # the delta key the reasoning came in
        self.reasoning_parts: list[str] = []
        self._slots: dict[int, tuple[int, str]] = {}  # raw index -> (call key, call id)
        self._keys = 0

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
            thought = mirrored(**{k: delta.get(k) for k in REASONING_KEYS})
            if thought:
                self.reasoning_parts.append(thought)
                self.reasoning_field = self.reasoning_field or next(
                    (k for k in REASONING_KEYS if isinstance(delta.get(k), str) and delta[k]), None)
            out += self.fields.reasoning(thought)
            content = delta.get("content")
            if isinstance(content, str) and content:
                out += self._content(self.inline.feed(content))
            if delta.get("tool_calls"):
                self.note_progress()
                for fragment in delta["tool_calls"]:
                    out += self._call_fragment(fragment)
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

    def _call_fragment(self, fragment: dict[str, Any]) -> list[ev.TurnEvent]:
        """One ``delta.tool_calls`` entry: opens a call or adds to the one at its index."""
        index = fragment.get("index")
        index = index if isinstance(index, int) else 0  # (Mistral-style servers send none)
        call_id = fragment.get("id") if isinstance(fragment.get("id"), str) else ""
        function = fragment.get("function") or {}
        name = function.get("name") if isinstance(function.get("name"), str) else ""
        arguments = function.get("arguments")
        slot = self._slots.get(index)
        out: list[ev.TurnEvent] = []
        if slot is None or (call_id and slot[1] and call_id != slot[1] and self._starts_new(slot[0], name)):
            self._keys += 1
            slot = (self._keys, call_id)
            self._slots[index] = slot
            out += self.calls.open(slot[0], call_id or None, name)
        if isinstance(arguments, (dict, list)):  # a server that sends the arguments decoded
            arguments = json.dumps(arguments, ensure_ascii=False)
        self.calls.add(slot[0], arguments if isinstance(arguments, str) else None, name=name)
        return out

    def _starts_new(self, key: int, name: str) -> bool:
        """A new id at a used index opens a new call (Ollama's parallel batch) when it names a
        tool or the current call's arguments are already a whole JSON value."""
        if name:
            return True
        pending = self.calls.current(key)
        if pending is None:
            return True
        try:
            json.loads(pending.text)
        except ValueError:
            return False
        return True

    def complete(self) -> bool:
        return self.done or self.finish_reason is not None

    def close(self, truncated: bool) -> list[ev.TurnEvent]:
        return self._content(self.inline.finish()) + self.fields.finish(truncated) + self.end_calls(truncated)

    def provider_state(self) -> dict[str, Any]:
        """The reasoning exactly as streamed (and its field) and the calls as the API gives them."""
        return {"reasoning_field": self.reasoning_field, "reasoning": "".join(self.reasoning_parts),
                "tool_calls": [assistant_call(c) for c in self.calls.parsed]}

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
        return ev.Usage(int(u.get("prompt_tokens") or 0), reasoning, completion - reasoning, estimated=estimated,
                        cached_tokens=cached_prompt_tokens(u), split_estimated=estimated)


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
            "messages": self.messages(request.messages),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if request.tools:
            body["tools"] = [{"type": "function", "function": {"name": n, "description": d, "parameters": p}}
                             for n, d, p in tool_schemas(request.tools)]
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

    def messages(self, messages) -> list[dict[str, Any]]:
        """The chat in the API's form: plain turns as ``{role, content}``, tool rounds as the
        assistant's ``tool_calls`` message followed by one ``tool`` message per call."""
        out: list[dict[str, Any]] = []
        for item in chat_items(messages):
            if not isinstance(item, Round):
                out.append(plain(item))
                continue
            out.append(self._assistant(item))
            out += [{"role": "tool", "tool_call_id": r["tool_call_id"], "content": r["content"]}
                    for r in item.results]
        return out

    def _assistant(self, tool_round: Round) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": tool_round.content or None,
                                   "tool_calls": [assistant_call(c) for c in tool_round.calls]}
        state = tool_round.state(self.reader_class.backend)
        field = state.get("reasoning_field") if isinstance(state, dict) else None
        if field:  # exactly what streamed, in the field it streamed in
            message[field] = state.get("reasoning") or ""
        elif is_deepseek(self.profile):  # required on every tool-call turn, or HTTP 400
            message[DEEPSEEK_FIELD] = tool_round.reasoning
        return message


def cached_prompt_tokens(usage: dict[str, Any]) -> int:
    """Of ``prompt_tokens``, those read from the prompt cache: OpenAI's
    ``prompt_tokens_details.cached_tokens``, else DeepSeek's ``prompt_cache_hit_tokens``."""
    details = usage.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    if cached is None:
        cached = usage.get("prompt_cache_hit_tokens")
    return int(cached) if isinstance(cached, (int, float)) and not isinstance(cached, bool) and cached > 0 else 0


def assistant_call(call) -> dict[str, Any]:
    """One entry of an assistant message's ``tool_calls``: the call as it ran."""
    return {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": arguments_json(call)}}
