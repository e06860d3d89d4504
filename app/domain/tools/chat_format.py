"""Tools and tool turns as the JSON that chat templates and OpenAI-style APIs take.

* ``tools_json(specs)``: ``[{"type": "function", "function": {name, description,
  parameters}}]``, the ``tools=`` of Hugging Face chat templates and of chat completions.
* ``assistant_message`` / ``tool_message`` / ``round_messages``: the Hugging Face
  convention for the history of a tool loop, shaped for the family's template:

  - ``arguments``: a dict, except DeepSeek R1/V3.1 whose templates concatenate it as a
    string; Qwen3-Coder iterates it (dict required), gpt-oss and Llama ``tojson`` it.
  - ``content``: "" (Qwen3 tests ``'</think>' in content``), ``None`` for DeepSeek R1 (its
    template renders a second, empty assistant turn for any non-None content).
  - reasoning: ``reasoning_content`` (Qwen3 keeps it for the current tool loop, DeepSeek
    V3.2 too) or ``thinking`` (gpt-oss, which refuses content and thinking together).
  - gpt-oss and Llama 3.1 render only ``tool_calls[0]`` (Llama raises on more), so a round
    with several calls becomes one assistant message and its result per call.
  - the result is ``{"role": "tool", "tool_call_id", "name", "content"}``: Mistral needs the
    id, gpt-oss takes the name from the call before it.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from app.domain.tools.families import ToolFamily, tool_family
from app.domain.tools.types import ToolCall, ToolResult, ToolSpec

_GENERIC = ToolFamily("generic", "none", ())


def tool_json(spec: ToolSpec) -> dict[str, Any]:
    """One tool in the OpenAI function format."""
    return {"type": "function",
            "function": {"name": spec.name, "description": spec.description, "parameters": spec.parameters}}


def tools_json(specs: Iterable[ToolSpec]) -> list[dict[str, Any]]:
    return [tool_json(s) for s in specs]


def _row(family: str | ToolFamily | None) -> ToolFamily:
    if family is None:
        return _GENERIC
    return tool_family(family) if isinstance(family, str) else family


def call_json(call: ToolCall, family: str | ToolFamily | None = None) -> dict[str, Any]:
    """One entry of an assistant message's ``tool_calls``."""
    row = _row(family)
    arguments: Any = call.arguments_json if row.arguments_as_string else dict(call.arguments)
    return {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": arguments}}


def assistant_message(calls: Sequence[ToolCall], family: str | ToolFamily | None = None, *,
                      content: str = "", reasoning: str = "") -> dict[str, Any]:
    """The assistant turn that made ``calls`` (all of them: see ``round_messages``)."""
    row = _row(family)
    # content_with_calls None: the template cannot take text next to calls (DeepSeek R1)
    text = None if row.content_with_calls is None else (content or row.content_with_calls)
    message: dict[str, Any] = {"role": "assistant", "content": text,
                               "tool_calls": [call_json(c, row) for c in calls]}
    if reasoning:
        message[row.reasoning_key] = reasoning
        if row.reasoning_key == "thinking":
            message["content"] = ""  # gpt-oss refuses both; its analysis is the thinking
    return message


def tool_message(result: ToolResult, call: ToolCall) -> dict[str, Any]:
    """A tool's answer to one call."""
    return {"role": "tool", "tool_call_id": result.call_id, "name": call.name, "content": result.text}


def round_messages(calls: Sequence[ToolCall], results: Sequence[ToolResult],
                   family: str | ToolFamily | None = None, *, content: str = "",
                   reasoning: str = "") -> list[dict[str, Any]]:
    """One tool round (the assistant's calls and their results) for the next prompt.

    ``results[i]`` answers ``calls[i]``. The reasoning goes with the first message.
    """
    if len(calls) != len(results):
        raise ValueError("every call needs exactly one result")
    row = _row(family)
    if not row.one_call_per_message:
        return [assistant_message(calls, row, content=content, reasoning=reasoning),
                *(tool_message(r, c) for c, r in zip(calls, results))]
    out: list[dict[str, Any]] = []
    for i, (c, r) in enumerate(zip(calls, results)):
        first = i == 0
        out.append(assistant_message([c], row, content=content if first else "",
                                     reasoning=reasoning if first else ""))
        out.append(tool_message(r, c))
    return out
