"""Tool calls of a message as JSON-ready dicts and back: one form for the store, the exports
and the trace.

:func:`part_record` gives every field of a :class:`~app.domain.messages.ToolCallPart`, its
``call`` (:class:`ToolCall`) and its ``result`` (:class:`ToolResult`, or None) as plain
values; :func:`part_from_record` rebuilds the part and ignores keys it does not know, so a
record written by a later Ponder with more fields still reads. Arguments and results stay
exactly as they were (no truncation here).
"""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

from app.domain.messages import TOOL_STATES, ToolCallPart
from app.domain.tools.types import ToolCall, ToolResult

_CALL_FIELDS = tuple(f.name for f in fields(ToolCall))
_RESULT_FIELDS = tuple(f.name for f in fields(ToolResult))
_PART_FIELDS = tuple(f.name for f in fields(ToolCallPart) if f.name not in ("call", "result"))


class ToolRecordError(ValueError):
    """A stored or exported tool call that cannot be read back (the text says what is wrong)."""


def call_record(call: ToolCall) -> dict[str, Any]:
    return {k: (dict(getattr(call, k)) if k == "arguments" else getattr(call, k)) for k in _CALL_FIELDS}


def result_record(result: ToolResult | None) -> dict[str, Any] | None:
    return None if result is None else {k: getattr(result, k) for k in _RESULT_FIELDS}


def part_record(part: ToolCallPart) -> dict[str, Any]:
    """Everything of ``part``: ``{"call": {...}, "result": {...} | None, "state": ..., ...}``."""
    return {"call": call_record(part.call), "result": result_record(part.result),
            **{k: getattr(part, k) for k in _PART_FIELDS}}


def call_from_record(d: Any) -> ToolCall:
    if not isinstance(d, dict):
        raise ToolRecordError("a tool call is not an object")
    values = {k: d[k] for k in _CALL_FIELDS if k in d}
    arguments = values.get("arguments", {})
    if isinstance(arguments, str):  # a store column holds them as JSON text
        arguments = json.loads(arguments or "{}")
    if not isinstance(arguments, dict):
        raise ToolRecordError("a tool call's arguments are not an object")
    values["arguments"] = arguments
    if not isinstance(values.get("id", ""), str) or not isinstance(values.get("name", ""), str):
        raise ToolRecordError("a tool call's id or name is not text")
    return ToolCall(**{"id": "", "name": "", **values})


def result_from_record(d: Any) -> ToolResult | None:
    if d is None:
        return None
    if not isinstance(d, dict) or not isinstance(d.get("text", ""), str):
        raise ToolRecordError("a tool result is not an object with a text")
    return ToolResult(**{"call_id": "", "text": "", **{k: d[k] for k in _RESULT_FIELDS if k in d}})


def part_from_record(d: Any) -> ToolCallPart:
    """The part :func:`part_record` described; ToolRecordError when it is not one."""
    if not isinstance(d, dict):
        raise ToolRecordError("a tool call part is not an object")
    part = ToolCallPart(call_from_record(d.get("call")), result=result_from_record(d.get("result")),
                        **{k: d[k] for k in _PART_FIELDS if k in d})
    if part.state not in TOOL_STATES:
        raise ToolRecordError(f"a tool call has the unknown state {part.state!r}")
    return part


def measured_result_tokens(message, part: ToolCallPart) -> int | None:
    """The tokens ``part``'s result added to the context (``AssistantMessage.result_tokens``),
    or None while its round is not measured yet (the next model call measures it)."""
    if part.result is None or part.round not in message.stats.round_tokens:
        return None
    return message.result_tokens(part)


def round_tokens_from_json(data: Any) -> dict[int, int]:
    """``TurnStats.round_tokens`` read back from JSON, whose object keys are strings."""
    return {int(k): int(v) for k, v in (data or {}).items()}


def arguments_text(call: ToolCall) -> str:
    """The arguments as a reader sees them: pretty JSON (keys in the model's order)."""
    return json.dumps(call.arguments, ensure_ascii=False, indent=2)
