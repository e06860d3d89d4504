"""Tool calls on the wire, the same for every cloud provider: reading them, sending them back.

Reading: :class:`CallBook` collects the calls of one model call as their pieces arrive
(OpenAI's ``delta.tool_calls`` fragments, Responses' argument deltas, Anthropic's
``input_json_delta``, Gemini's whole ``functionCall`` parts) and turns them into
``ToolCallOpened`` when a call starts and ``ToolCallParsed`` when it is complete. Arguments
are decoded here once: text that is not a JSON object gives a ``ToolCall`` with ``error``
set (the runner answers the model with it), never an exception; a call the stream cut off
is never offered as runnable.

Sending back: :func:`chat_items` walks the generic chat dicts of a request
(:mod:`app.domain.tools.history`) and hands each provider plain turns and whole tool rounds
(the assistant's calls with one result per call, in call order), so that no provider ever
sees a call without its result or a result without its call. Every payload builder picks
the fields a provider may see (:func:`plain` for plain turns); Ponder's own keys
(``provider_state``, ``is_error``, ``reasoning``, ``tool_calls`` records) never go out verbatim.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable

from app.domain import events as ev
from app.domain.tools.types import ToolCall, ToolSpec

#: The result sent for a call that has none in the history (a provider rejects a call
#: without its result); the runner normally gives every call one.
NOT_RUN = "The call was not run (no result was recorded)."
#: Prefix of call ids Ponder made up for providers that give none (Gemini before 3).
LOCAL_ID = "ponder-call-"


def local_id() -> str:
    """A fresh call id for a provider that did not name its call."""
    return LOCAL_ID + uuid.uuid4().hex[:12]


def decode_call(call_id: str, name: str, text: str) -> ToolCall:
    """The call with its arguments decoded from ``text`` (JSON); ``error`` set when unusable."""
    name = name or ""
    if not name:
        return ToolCall(call_id, "", {}, raw=text, error="The call names no tool, so it was not run.")
    if not text.strip():  # a tool without parameters: providers send "" or nothing
        return ToolCall(call_id, name, {}, raw=text)
    try:
        value = json.loads(text)
    except ValueError as exc:
        detail = getattr(exc, "msg", "not JSON")
        return ToolCall(call_id, name, {}, raw=text,
                        error=f'The arguments of "{name}" are not valid JSON ({detail}), so the call was not run.')
    return whole_call(call_id, name, value, text)


def whole_call(call_id: str, name: str, value: Any, raw: str | None = None) -> ToolCall:
    """A call whose arguments arrived decoded (Gemini's ``args``, Ollama's dict arguments)."""
    if raw is None:
        raw = json.dumps(value, ensure_ascii=False) if value is not None else ""
    if not name:
        return ToolCall(call_id, "", {}, raw=raw, error="The call names no tool, so it was not run.")
    if value is None:
        return ToolCall(call_id, name, {}, raw=raw)
    if not isinstance(value, dict):
        kind = type(value).__name__.replace("str", "string").replace("list", "array")
        return ToolCall(call_id, name, {}, raw=raw,
                        error=f'The arguments of "{name}" are a JSON {kind}, not an object, so the call was not run.')
    return ToolCall(call_id, name, value, raw=raw)


def cut_call(call_id: str, name: str, text: str) -> ToolCall:
    """A call the stream ended inside (length limit, dropped connection): never runnable."""
    return ToolCall(call_id, name or "", {}, raw=text,
                    error="The answer ended before this call was complete, so it was not run.")


@dataclass
class _Pending:
    call_id: str
    name: str
    parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.parts)


class CallBook:
    """The tool calls of one model call, keyed by whatever the provider uses to address a
    call while it streams (an index, an item id, a block index).

    :meth:`open` / :meth:`add` / :meth:`complete` return the turn events to yield;
    :meth:`finish` completes what is still open when the stream ends. ``parsed`` lists
    every complete call in order (those with ``error`` included).
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.pending: dict[Hashable, _Pending] = {}
        self.parsed: list[ToolCall] = []

    def __bool__(self) -> bool:
        return bool(self.parsed or self.pending)

    def is_open(self, key: Hashable) -> bool:
        return key in self.pending

    def current(self, key: Hashable) -> _Pending | None:
        return self.pending.get(key)

    def open(self, key: Hashable, call_id: str | None, name: str | None) -> list[ev.TurnEvent]:
        """A call starts (its card can show); a call still open under ``key`` completes first."""
        out = self.complete(key) if key in self.pending else []
        pending = _Pending(call_id or local_id(), name or "")
        self.pending[key] = pending
        return out + [ev.ToolCallOpened(self.clock(), pending.call_id, pending.name)]

    def add(self, key: Hashable, fragment: str | None, *, name: str | None = None) -> None:
        """A piece of the call's arguments (and its name, if it arrives late)."""
        pending = self.pending[key]
        if name and not pending.name:
            pending.name = name
        if fragment:
            pending.parts.append(fragment)

    def complete(self, key: Hashable, arguments: str | None = None) -> list[ev.TurnEvent]:
        """The call under ``key`` is complete; ``arguments`` (the provider's whole text, when it
        sends one) wins over the fragments."""
        pending = self.pending.pop(key, None)
        if pending is None:
            return []
        text = arguments if isinstance(arguments, str) else pending.text
        return self._parsed(decode_call(pending.call_id, pending.name, text))

    def whole(self, call_id: str | None, name: str | None, value: Any) -> list[ev.TurnEvent]:
        """A call that arrived complete in one piece (opened and parsed at once)."""
        call = whole_call(call_id or local_id(), name or "", value)
        return [ev.ToolCallOpened(self.clock(), call.id, call.name), *self._parsed(call)]

    def finish(self, truncated: bool) -> list[ev.TurnEvent]:
        """Complete every open call (in the order they opened); cut off ones when ``truncated``."""
        out: list[ev.TurnEvent] = []
        for key in list(self.pending):
            if truncated:
                pending = self.pending.pop(key)
                # (not in ``parsed``: it was never a call the model finished)
                out.append(ev.ToolCallParsed(self.clock(), cut_call(pending.call_id, pending.name, pending.text)))
            else:
                out += self.complete(key)
        return out

    def _parsed(self, call: ToolCall) -> list[ev.TurnEvent]:
        self.parsed.append(call)
        return [ev.ToolCallParsed(self.clock(), call)]


# -- the history, as providers need it ------------------------------------------------------


@dataclass
class Round:
    """One tool round of the history: the assistant dict, its calls, one result per call."""

    assistant: Mapping[str, Any]
    calls: list[ToolCall]
    results: list[dict[str, Any]]  # {"tool_call_id", "name", "content", "is_error"}, in call order

    @property
    def content(self) -> str:
        text = self.assistant.get("content")
        return text if isinstance(text, str) else ""

    @property
    def reasoning(self) -> str:
        text = self.assistant.get("reasoning")
        return text if isinstance(text, str) else ""

    def state(self, backend: str) -> Any:
        """What the provider ``backend`` asked to get back for this round (None: not recorded,
        e.g. a round of an earlier turn reopened from the history)."""
        states = self.assistant.get("provider_state")
        return states.get(backend) if isinstance(states, Mapping) else None

    def call(self, call_id: str) -> ToolCall | None:
        return next((c for c in self.calls if c.id == call_id), None)


def as_call(value: Any) -> ToolCall:
    """A ``ToolCall`` record (or its mapping form, as a store may give it back)."""
    if isinstance(value, ToolCall):
        return value
    if isinstance(value, Mapping):
        arguments = value.get("arguments")
        return ToolCall(str(value.get("id") or ""), str(value.get("name") or ""),
                        dict(arguments) if isinstance(arguments, Mapping) else {},
                        error=value.get("error"))
    raise TypeError(f"not a tool call: {type(value).__name__}")


def chat_items(messages: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any] | Round]:
    """``messages`` as plain turns and :class:`Round` s. A result without its call is left
    out; a call without a result gets :data:`NOT_RUN` as an error result."""
    items = list(messages)
    out: list[Mapping[str, Any] | Round] = []
    i = 0
    while i < len(items):
        m = items[i]
        role = m.get("role")
        if role == "assistant" and m.get("tool_calls"):
            calls = [as_call(c) for c in m["tool_calls"]]
            found: dict[str, Mapping[str, Any]] = {}
            j = i + 1
            while j < len(items) and items[j].get("role") == "tool":
                found.setdefault(str(items[j].get("tool_call_id") or ""), items[j])
                j += 1
            results = []
            for call in calls:
                t = found.get(call.id)
                content = t.get("content") if t is not None else NOT_RUN
                results.append({"tool_call_id": call.id, "name": call.name,
                                "content": content if isinstance(content, str) else str(content or ""),
                                "is_error": bool(t.get("is_error")) if t is not None else True})
            out.append(Round(m, calls, results))
            i = j
            continue
        if role != "tool":  # a result whose call was dropped: providers reject it alone
            out.append(m)
        i += 1
    return out


def has_rounds(messages: Iterable[Mapping[str, Any]]) -> bool:
    """The chat holds at least one tool round."""
    return any(m.get("role") == "assistant" and m.get("tool_calls") for m in messages)


def plain(m: Mapping[str, Any]) -> dict[str, Any]:
    """A plain turn as ``{role, content}`` (nothing else of Ponder's goes out)."""
    content = m.get("content")
    return {"role": m.get("role"), "content": content if isinstance(content, str) else str(content or "")}


def tool_schemas(specs: Sequence[ToolSpec]) -> list[tuple[str, str, dict[str, Any]]]:
    """(name, description, parameters) of the tools offered; parameters default to an empty object."""
    out = []
    for spec in specs:
        parameters = dict(spec.parameters) if isinstance(spec.parameters, Mapping) and spec.parameters else {}
        parameters.setdefault("type", "object")
        out.append((spec.name, spec.description or "", parameters))
    return out


def schema_text(specs: Sequence[ToolSpec]) -> str:
    """The tools offered as text, to estimate what they cost in the prompt."""
    return json.dumps([{"name": n, "description": d, "parameters": p} for n, d, p in tool_schemas(specs)],
                      ensure_ascii=False)


def arguments_json(call: ToolCall) -> str:
    """The arguments a call ran with, as the JSON string OpenAI-style APIs take: the model's
    own text when the arguments are still what it wrote, else their JSON (``{}`` for a call
    that was not usable: its error result says why)."""
    if call.raw and not call.error:
        try:
            if json.loads(call.raw) == call.arguments:
                return call.raw
        except ValueError:
            pass  # (raw text with markers, from a local model)
    return json.dumps(call.arguments, ensure_ascii=False)
