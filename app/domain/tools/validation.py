"""Checking a call before it runs, and cutting long results: answers the model can read.

``check_call`` returns ``None`` when the call may run, or a sentence for the model (sent
back as the call's error result): unknown tool, unreadable arguments, arguments that fail
the tool's JSON schema (checked with the ``jsonschema`` library). Nothing here raises on
what a model wrote.

``truncate_result`` cuts a long result in the middle with a visible note, never silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for

from app.domain.tools.types import ToolCall, ToolSpec

_MAX_REPORTED = 5


def unknown_tool_message(name: str, available: list[str]) -> str:
    names = ", ".join(sorted(available)) or "none"
    if not name:
        return f"This tool call names no tool. Available tools: {names}."
    return f"There is no tool named {name!r}. Available tools: {names}."


def _where(path: Any) -> str:
    parts = list(path)
    if not parts:
        return "the arguments"
    out = parts[0] if isinstance(parts[0], str) else f"[{parts[0]}]"
    for p in parts[1:]:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return f"argument {out!r}"


def schema_errors(arguments: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    """What is wrong with ``arguments`` under ``schema``, one sentence each ([] = valid).

    A schema that is itself invalid is not the model's fault: it gives [] (the tool will
    say what it thinks of the arguments).
    """
    if not isinstance(schema, Mapping) or not schema:
        return []
    cls = validator_for(schema)
    try:
        cls.check_schema(schema)
    except SchemaError:
        return []
    errors = sorted(cls(schema).iter_errors(dict(arguments)), key=lambda e: (list(e.path), e.message))
    return [f"{_where(e.path)}: {e.message}" for e in errors[:_MAX_REPORTED]] + (
        [f"(and {len(errors) - _MAX_REPORTED} more)"] if len(errors) > _MAX_REPORTED else [])


def check_call(call: ToolCall, tools: Mapping[str, ToolSpec]) -> str | None:
    """None if ``call`` may run; otherwise the error text to answer it with."""
    if call.name not in tools:
        return unknown_tool_message(call.name, list(tools))
    if call.error:
        return call.error
    problems = schema_errors(call.arguments, tools[call.name].parameters)
    if problems:
        return (f"The arguments of {call.name!r} do not match its schema: " + "; ".join(problems)
                + ". Call it again with corrected arguments.")
    return None


@dataclass(frozen=True, slots=True)
class Truncated:
    """A result after ``truncate_result``: ``truncated_from`` is the length before the cut."""

    text: str
    truncated_from: int | None = None


def truncate_result(text: str, limit_chars: int) -> Truncated:
    """``text`` if it fits in ``limit_chars``; else its start and end around a visible note.

    The note reads "[… N characters cut by Ponder]"; what is kept (head two thirds, tail one
    third, cut at line breaks when one is near) is at most ``limit_chars`` characters.
    """
    n = len(text)
    if limit_chars < 0:
        raise ValueError("limit_chars must not be negative")
    if n <= limit_chars:
        return Truncated(text)
    head_n = (limit_chars * 2) // 3
    tail_n = limit_chars - head_n
    head = text[:head_n]
    nl = head.rfind("\n")
    if nl >= head_n * 3 // 4:  # keep whole lines when that costs little
        head = head[: nl + 1]
    tail = text[n - tail_n:] if tail_n else ""
    nl = tail.find("\n")
    if 0 <= nl < len(tail) // 4:
        tail = tail[nl + 1:]
    cut = n - len(head) - len(tail)
    note = f"[… {cut:,} characters cut by Ponder]"
    sep_head = "" if not head or head.endswith("\n") else "\n"
    sep_tail = "\n" if tail else ""
    return Truncated(f"{head}{sep_head}{note}{sep_tail}{tail}", n)
