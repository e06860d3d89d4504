"""The tool vocabulary: what a tool is, what a model asked of it, and what it answered.

These are plain frozen records shared by the parsers, the validation, the tool runners and
(later) the turn runner, the store and the views. ``arguments``/``parameters`` are dicts
decoded from JSON; treat them as read-only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ToolSpec:
    """A tool the model may call.

    ``parameters`` is the JSON schema of the arguments object (what MCP calls
    ``inputSchema``); ``source`` says where the tool comes from: ``"builtin"`` or
    ``"mcp:<server name>"``.
    """

    name: str
    description: str
    parameters: dict[str, Any]
    source: str = "builtin"

    @property
    def is_mcp(self) -> bool:
        return self.source.startswith("mcp:")


@dataclass(frozen=True)
class ToolCall:
    """One call the model wrote.

    ``raw`` is the call exactly as it appeared in the output (markers included), so the
    trace can show it. ``in_reasoning`` says the call was written inside the reasoning.
    ``error`` is set when the call is complete but unusable (arguments that are not valid
    JSON or not an object, a missing name): ``arguments`` is then ``{}`` and the turn answers
    the model with the error instead of running anything.
    """

    id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    raw: str = ""
    in_reasoning: bool = False
    error: str | None = None

    @property
    def arguments_json(self) -> str:
        """The arguments as a JSON string (the form some templates and APIs want)."""
        return json.dumps(self.arguments, ensure_ascii=False)


@dataclass(frozen=True)
class ToolResult:
    """What a tool answered to one call.

    ``text`` is what the model reads (already truncated when ``truncated_from`` is set: that
    is the length before the cut). ``is_error`` marks failures the model should know about
    (unknown tool, invalid arguments, a tool that raised, a denied call, a timeout).
    """

    call_id: str
    text: str
    is_error: bool = False
    duration_s: float = 0.0
    truncated_from: int | None = None
