"""OpenAI's Responses API: reasoning summaries into the panel, the hidden count otherwise.

Events read: ``response.reasoning_summary_text.delta`` (and ``response.reasoning_text.delta``,
full reasoning where a model exposes it) → reasoning; ``response.reasoning_summary_part.added``
separates summary parts; ``response.output_item.done`` of a reasoning item ends the block;
``response.output_text.delta`` / ``response.refusal.delta`` → answer;
``response.completed`` / ``response.incomplete`` end the turn with
``usage.output_tokens_details.reasoning_tokens``; ``response.failed`` and ``error`` are faults.
When the provider reasoned but sent no summary, only the count is shown (``HiddenReasoning``).

Tools: ``tools=[{type: function, name, description, parameters, strict: false}]`` (the API
makes an omitted ``strict`` strict, which rejects or distorts ordinary JSON schemas). A call
opens with ``response.output_item.added`` (a ``function_call`` item: ``call_id``, ``name``),
streams as ``response.function_call_arguments.delta`` and is complete with its
``response.output_item.done``. With ``store: false`` nothing stays on the provider, so a tool
round goes back as every output item of the call, in order (reasoning items with their
``encrypted_content``, asked for with ``include: ["reasoning.encrypted_content"]``; message
items; ``function_call`` items), then one ``{type: function_call_output, call_id, output}``
per call; a reasoning item without its following items, or without ``encrypted_content``,
makes the request fail, so one without encrypted content is left out.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from httpx_sse import ServerSentEvent

from app.backends.cloud.base import CloudBackend, ProviderStreamError, TurnReader
from app.backends.cloud.faults import provider_detail
from app.backends.cloud.tally import Tally
from app.backends.cloud.tool_calls import Round, arguments_json, chat_items, has_rounds, plain, tool_schemas
from app.domain.steering import budget_to_effort
from app.domain import events as ev
from app.domain.profiles import ModelProfile
from app.domain.turn_request import TurnRequest

REASONING_DELTAS = ("response.reasoning_summary_text.delta", "response.reasoning_text.delta")
ANSWER_DELTAS = ("response.output_text.delta", "response.refusal.delta")


class ResponsesReader(TurnReader):
    """Reads Responses API stream events (typed by their ``type`` field)."""

    backend = "openai-responses"

    def __init__(self, profile: ModelProfile, clock: Callable[[], float]) -> None:
        super().__init__(profile, clock)
        self.raw_usage: dict[str, Any] | None = None
        self._part_break = False  # a new summary part starts: separate it from the last one
        self.items: dict[int, dict[str, Any]] = {}  # output_index -> the complete output item
        self.final_output: list[dict[str, Any]] | None = None  # response.completed's output

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
            key = self._key(obj)
            if self.calls.is_open(key):
                delta = obj.get("delta")
                self.calls.add(key, delta if isinstance(delta, str) else None)
        elif kind == "response.output_item.added":
            item = obj.get("item") or {}
            if item.get("type") == "function_call":
                key = self._key(obj)
                out = self.calls.open(key, item.get("call_id"), item.get("name"))
                self.calls.add(key, item.get("arguments") if isinstance(item.get("arguments"), str) else None)
                return out
        elif kind == "response.reasoning_summary_part.added":
            self._part_break = True
        elif kind == "response.output_item.done":
            return self._item_done(obj)
        elif kind in ("response.completed", "response.incomplete"):
            self._end(obj.get("response") or {}, kind)
        elif kind == "response.failed":
            response = obj.get("response") or {}
            raise ProviderStreamError(provider_detail(json.dumps(response)) or "the response failed")
        elif kind == "error":
            raise ProviderStreamError(provider_detail(json.dumps(obj)) or "unknown error")
        return []

    @staticmethod
    def _key(obj: dict[str, Any]) -> Any:
        """How an event addresses its output item: its index (else the item's id)."""
        index = obj.get("output_index")
        if isinstance(index, int):
            return index
        return obj.get("item_id") or (obj.get("item") or {}).get("id")

    def _item_done(self, obj: dict[str, Any]) -> list[ev.TurnEvent]:
        item = obj.get("item") or {}
        key = self._key(obj)
        if isinstance(key, int):
            self.items[key] = item
        else:
            self.items[len(self.items) + 10**6] = item  # (no index: after the indexed ones, in order)
        kind = item.get("type")
        if kind == "reasoning":
            self._part_break = False
            return self.fields.finish()
        if kind == "function_call":
            arguments = item.get("arguments")
            if self.calls.is_open(key):
                return self.calls.complete(key, arguments if isinstance(arguments, str) else None)
            # the item arrived whole (no output_item.added before it)
            return self.calls.open(key, item.get("call_id"), item.get("name")) + self.calls.complete(
                key, arguments if isinstance(arguments, str) else "")
        return []

    def provider_state(self) -> dict[str, Any]:
        """The call's output items in order, as the API gave them (the next request sends
        them back: reasoning with encrypted content, messages, function calls)."""
        items = self.final_output if self.final_output else [self.items[k] for k in sorted(self.items)]
        return {"items": [dict(item) for item in items if isinstance(item, dict)]}

    def _end(self, response: dict[str, Any], kind: str) -> None:
        self.done = True
        if isinstance(response.get("usage"), dict):
            self.raw_usage = response["usage"]
        output = response.get("output")
        if isinstance(output, list) and output:
            self.final_output = output
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
        cached = int((u.get("input_tokens_details") or {}).get("cached_tokens") or 0)  # of input_tokens
        return ev.Usage(int(u.get("input_tokens") or 0), reasoning, output - reasoning, estimated=False,
                        cached_tokens=cached)


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
            "input": self.input_items(m for m in request.messages if m.get("role") != "system"),
            "stream": True,
            "store": False,  # Ponder keeps the conversation; the provider need not
            "max_output_tokens": request.max_tokens,
            "reasoning": {"summary": "auto"},
        }
        if system:
            body["instructions"] = "\n\n".join(system)
        if request.tools:
            body["tools"] = [{"type": "function", "name": n, "description": d, "parameters": p, "strict": False}
                             for n, d, p in tool_schemas(request.tools)]
        if request.tools or has_rounds(request.messages):  # with store false, the only way to keep the reasoning
            body["include"] = ["reasoning.encrypted_content"]
        effort = budget_to_effort(request.thinking_budget) if request.thinking_budget else self.profile.reasoning_effort
        if effort:
            body["reasoning"]["effort"] = effort
        if request.temperature is not None:
            body["temperature"] = request.temperature
        return body

    def input_items(self, messages) -> list[dict[str, Any]]:
        """The chat as input items: plain turns as ``{role, content}``, tool rounds as the
        call's output items (or, for a round without them, ``function_call`` items built from
        the calls), then a ``function_call_output`` per call."""
        out: list[dict[str, Any]] = []
        for item in chat_items(messages):
            if not isinstance(item, Round):
                out.append(plain(item))
                continue
            out += self._round_items(item)
            out += [{"type": "function_call_output", "call_id": r["tool_call_id"], "output": r["content"]}
                    for r in item.results]
        return out

    def _round_items(self, tool_round: Round) -> list[dict[str, Any]]:
        state = tool_round.state(self.reader_class.backend)
        items = state.get("items") if isinstance(state, dict) else None
        if not items:
            head = [{"role": "assistant", "content": tool_round.content}] if tool_round.content else []
            return head + [{"type": "function_call", "call_id": c.id, "name": c.name, "arguments": arguments_json(c)}
                           for c in tool_round.calls]
        out = []
        for item in items:
            kind = item.get("type")
            if kind == "reasoning" and not item.get("encrypted_content"):
                continue  # without store, an id alone refers to nothing: the API would refuse it
            if kind == "function_call":
                call = tool_round.call(str(item.get("call_id") or ""))
                if call is None:
                    continue  # (its result is not in the history either)
                item = {**item, "arguments": arguments_json(call)}  # as it ran (the user may have edited it)
            out.append(item)
        return out
