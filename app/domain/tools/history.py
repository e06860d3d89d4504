"""Tool rounds in a turn request: one generic form, shaped per backend when sent.

Every backend receives the chat as generic dicts (``app.domain.conversation``). A tool round
is an assistant dict with ``tool_calls`` (``ToolCall`` records), followed by one ``tool`` dict
per call::

    {"role": "assistant", "content": "text before the calls", "reasoning": "...",
     "tool_calls": (ToolCall, ...), "provider_state": {backend: what it needs back}}
    {"role": "tool", "tool_call_id": "...", "name": "calculator", "content": "42", "is_error": False}

``reasoning`` is set for the current tool loop (templates and providers keep it while calls
follow); ``written`` is all the model wrote in that call, markers included (a local template
that knows no tools gets the round as written, so the next prompt continues the cached one);
``provider_state`` carries what a cloud provider requires back unchanged (thinking
blocks with signatures, encrypted reasoning items, thought signatures) under its backend
name. A local model's template gets the round through :func:`template_messages`, shaped for
its family (:mod:`app.domain.tools.chat_format`); each cloud provider builds its own JSON.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from app.domain.tools.chat_format import round_messages
from app.domain.tools.families import ToolFamily
from app.domain.tools.types import ToolCall, ToolResult

PLAIN_KEYS = ("role", "content")


def round_history(calls: Sequence[ToolCall], results: Sequence[ToolResult], *, content: str = "",
                  reasoning: str = "", provider_state: Mapping[str, Any] | None = None,
                  written: str = "") -> list[dict]:
    """The generic dicts of one round: the assistant's calls, then each call's result."""
    by_id = {r.call_id: r for r in results}
    assistant: dict[str, Any] = {"role": "assistant", "content": content, "tool_calls": tuple(calls)}
    if reasoning:
        assistant["reasoning"] = reasoning
    if written:
        assistant["written"] = written
    if provider_state:
        assistant["provider_state"] = dict(provider_state)
    out = [assistant]
    for call in calls:
        result = by_id[call.id]
        out.append({"role": "tool", "tool_call_id": call.id, "name": call.name, "content": result.text,
                    "is_error": result.is_error})
    return out


def tool_rounds(messages: Iterable[Mapping[str, Any]]) -> list[tuple[int, list[ToolCall], list[ToolResult]]]:
    """(index of the assistant dict, its calls, their results) for every round in ``messages``."""
    items = list(messages)
    rounds = []
    for i, m in enumerate(items):
        if m.get("role") == "assistant" and m.get("tool_calls"):
            results = []
            for t in items[i + 1:]:
                if t.get("role") != "tool":
                    break
                results.append(ToolResult(t.get("tool_call_id", ""), t.get("content") or "", bool(t.get("is_error"))))
            rounds.append((i, list(m["tool_calls"]), results))
    return rounds


def template_messages(messages: Sequence[Mapping[str, Any]], family: str | ToolFamily | None) -> list[dict]:
    """``messages`` as a chat template takes them: plain turns as ``{role, content}``, tool
    rounds shaped for ``family`` (arguments as dict or string, where the reasoning goes...)."""
    out: list[dict] = []
    i = 0
    while i < len(messages):
        m = messages[i]
        if m.get("role") == "assistant" and m.get("tool_calls"):
            calls = list(m["tool_calls"])
            j, results = i + 1, {}
            while j < len(messages) and messages[j].get("role") == "tool":
                t = messages[j]
                results[t.get("tool_call_id", "")] = ToolResult(t.get("tool_call_id", ""), t.get("content") or "",
                                                                bool(t.get("is_error")))
                j += 1
            answered = [c for c in calls if c.id in results]
            if answered:
                out += round_messages(answered, [results[c.id] for c in answered], family,
                                      content=m.get("content") or "", reasoning=m.get("reasoning") or "")
            i = j
            continue
        if m.get("role") == "tool":  # a result without its call (the call was dropped): leave it out
            i += 1
            continue
        out.append({k: m[k] for k in PLAIN_KEYS if k in m})
        i += 1
    return out
