"""Why an MCP server or call failed, as one sentence the user (and the model) can act on.

Server messages and stderr lines are untrusted: they are flattened to one printable line
and cut short. Header values (tokens) never appear in a message.
"""

from __future__ import annotations

import asyncio

import httpx2
import pydantic
from mcp import MCPError, types

from app.tools.mcp_config import ServerConfig, UnsetVariableError


def first_error(exc: BaseException) -> BaseException:
    """The first real error inside (possibly nested) exception groups."""
    while isinstance(getattr(exc, "exceptions", None), (list, tuple)) and exc.exceptions:
        inner = [e for e in exc.exceptions if not isinstance(e, asyncio.CancelledError)]
        exc = (inner or list(exc.exceptions))[0]
    return exc


def plain_line(text: str, limit: int = 240) -> str:
    """Untrusted text (a server's message) as one short printable line."""
    line = " ".join("".join(ch if ch.isprintable() else " " for ch in str(text)).split())
    return line if len(line) <= limit else line[:limit - 1] + "…"


def handshake_timeout(name: str, seconds: float, stderr_line: str) -> str:
    """A server that started but did not finish the handshake (and tool list) in time."""
    tail = f' Its last words on stderr: "{stderr_line}"' if stderr_line else ""
    return (f'The MCP server "{name}" did not answer the initialize handshake within '
            f"{seconds:g} s and was stopped.{tail}")


def failure_reason(name: str, server: ServerConfig | None, exc: BaseException, *, stderr_line: str = "",
                   running: bool = False, http_status: int | None = None) -> str:
    """One sentence for why server ``name`` failed with ``exc`` (while starting, or ``running``)."""
    local = server is not None and server.transport == "stdio"
    stderr = (f': "{stderr_line}"' if stderr_line else " (it wrote nothing to stderr)") if local else ""
    if isinstance(exc, UnsetVariableError):
        return exc.message
    if isinstance(exc, FileNotFoundError) and server and server.transport == "stdio":
        return (f'The MCP server "{name}" cannot start: the command "{plain_line(server.command)}" was not found. '
                'Install it, or give its full path as "command" in mcp.json.')
    if isinstance(exc, PermissionError) and server and server.transport == "stdio":
        return (f'The MCP server "{name}" cannot start: the command "{plain_line(server.command)}" '
                "may not be run (permission denied).")
    if isinstance(exc, MCPError) and exc.code == types.CONNECTION_CLOSED:
        if running or not local:
            return f'The MCP server "{name}" closed the connection{"" if running else " while starting"}{stderr}.'
        return f'The MCP server "{name}" exited while starting{stderr}.'
    if isinstance(exc, MCPError) and http_status in (401, 403):
        return (f'The MCP server "{name}" refused the connection (HTTP {http_status} '
                f'{httpx2.codes.get_reason_phrase(http_status)}): check its "headers" in mcp.json; '
                "a token may be wrong or expired.")
    if isinstance(exc, MCPError) and http_status is not None:
        return (f'The MCP server "{name}" refused to start (HTTP {http_status} '
                f"{httpx2.codes.get_reason_phrase(http_status)}): {plain_line(exc.error.message)}.")
    if isinstance(exc, MCPError):
        return f'The MCP server "{name}" refused to start: {plain_line(exc.error.message)}.'
    if isinstance(exc, httpx2.HTTPError):
        where = plain_line(server.url) if server else ""
        return (f'The MCP server "{name}" at {where} cannot be reached: '
                f"{plain_line(str(exc)) or type(exc).__name__}.")
    if isinstance(exc, pydantic.ValidationError):
        return f'The MCP server "{name}" answered with messages that do not follow the MCP protocol.'
    if isinstance(exc, OSError):
        return f'The MCP server "{name}" cannot start: {plain_line(exc.strerror or str(exc))}.'
    return f'The MCP server "{name}" failed: {type(exc).__name__}: {plain_line(str(exc))}{stderr}.'
