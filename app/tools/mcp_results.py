"""What Ponder keeps of an MCP server's tools and of a tool call's result: plain values.

:class:`McpTool` is a tool as listed by a server (name, description, input JSON schema);
:meth:`McpTool.as_dict` gives the ``{"name", "description", "parameters"}`` dict that
tool specs are built from. :func:`result_from_call` maps a ``CallToolResult`` of the SDK
to :class:`McpToolResult`: one text for the model plus an error flag. Text content stays
as it is; images, audio, resource links and binary resources are summarised in a line of
text (the model is not shown bytes); ``structured_content`` is used as JSON when the
server sent no text.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from mcp import types


@dataclass(frozen=True)
class McpTool:
    """One tool of one server; ``parameters`` is its input JSON schema."""

    server: str
    name: str
    description: str
    parameters: dict[str, Any]
    title: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """``{"name", "description", "parameters"}``: what a tool spec is built from."""
        return {"name": self.name, "description": self.description, "parameters": self.parameters}

    @classmethod
    def from_sdk(cls, server: str, tool: types.Tool) -> McpTool:
        """From the SDK's ``Tool`` (a missing schema becomes an empty object schema)."""
        schema = tool.input_schema if isinstance(tool.input_schema, dict) else {}
        return cls(server=server, name=tool.name, description=tool.description or "",
                   parameters=dict(schema) or {"type": "object", "properties": {}}, title=tool.title)


@dataclass(frozen=True)
class McpToolResult:
    """A tool call's outcome: ``text`` for the model, ``is_error`` when it failed.

    ``structured`` is the server's ``structured_content`` (None if it sent none);
    ``duration_s`` the time from request to answer. Failures of Ponder's side (server not
    running, timeout, connection lost) are results too, with a sentence as the text.
    """

    text: str
    is_error: bool
    structured: dict[str, Any] | None = None
    duration_s: float = 0.0
    content_kinds: tuple[str, ...] = field(default_factory=tuple)


def _size(data: str) -> str:
    try:
        count = len(base64.b64decode(data, validate=False))
    except (binascii.Error, ValueError):
        count = len(data)
    return f"{count / 1024:.1f} KB" if count >= 1024 else f"{count} bytes"


def describe_block(block: Any) -> str:
    """One content block as text: text as is, anything else as a one-line summary."""
    if isinstance(block, types.TextContent):
        return block.text
    if isinstance(block, types.ImageContent):
        return f"[image: {block.mime_type}, {_size(block.data)}; not shown to the model]"
    if isinstance(block, types.AudioContent):
        return f"[audio: {block.mime_type}, {_size(block.data)}; not shown to the model]"
    if isinstance(block, types.ResourceLink):
        label = block.title or block.name
        extra = f" — {block.description}" if block.description else ""
        return f"[resource link: {label} <{block.uri}>{extra}]"
    if isinstance(block, types.EmbeddedResource):
        resource = block.resource
        if isinstance(resource, types.TextResourceContents):
            return f"[resource {resource.uri}]\n{resource.text}"
        mime = getattr(resource, "mime_type", None) or "binary"
        return f"[resource {resource.uri}: {mime}, {_size(getattr(resource, 'blob', ''))}; not shown to the model]"
    kind = getattr(block, "type", type(block).__name__)
    return f"[{kind} content; not shown to the model]"


def result_from_call(result: types.CallToolResult, *, duration_s: float = 0.0) -> McpToolResult:
    """The SDK's ``CallToolResult`` as text + error flag."""
    pieces = [describe_block(block) for block in result.content]
    structured = result.structured_content if isinstance(result.structured_content, dict) else None
    has_text = any(isinstance(block, (types.TextContent, types.EmbeddedResource)) for block in result.content)
    if structured is not None and not has_text:
        pieces.append(json.dumps(structured, ensure_ascii=False, indent=1))
    text = "\n".join(piece for piece in pieces if piece) or ("(the tool reported an error without a message)"
                                                             if result.is_error else "(no output)")
    kinds = tuple(str(getattr(block, "type", "?")) for block in result.content)
    return McpToolResult(text=text, is_error=bool(result.is_error), structured=structured,
                         duration_s=duration_s, content_kinds=kinds)


def failure(text: str, *, duration_s: float = 0.0) -> McpToolResult:
    """A result for a call that did not get an answer from the tool."""
    return McpToolResult(text=text, is_error=True, duration_s=duration_s)
