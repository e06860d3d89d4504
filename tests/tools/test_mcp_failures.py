"""Failure sentences: untrusted text flattened, stderr mentioned only for local servers."""

import asyncio
import sys

from mcp import MCPError, types

from app.tools.mcp_config import ServerConfig
from app.tools.mcp_failures import failure_reason, first_error, plain_line

LOCAL = ServerConfig("files", "stdio", command="srv")
REMOTE = ServerConfig("search", "http", url="https://example.org/mcp", headers={"Authorization": "Bearer t0k"})
if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup  # anyio's backport

CLOSED = MCPError(code=types.CONNECTION_CLOSED, message="Connection closed")


def test_a_closed_connection_reads_differently_for_local_and_remote_servers():
    assert failure_reason("files", LOCAL, CLOSED) == (
        'The MCP server "files" exited while starting (it wrote nothing to stderr).')
    assert failure_reason("files", LOCAL, CLOSED, stderr_line="boom", running=True) == (
        'The MCP server "files" closed the connection: "boom".')
    assert failure_reason("search", REMOTE, CLOSED) == 'The MCP server "search" closed the connection while starting.'


def test_server_text_is_one_printable_line_and_tokens_never_appear():
    hostile = MCPError(code=types.INTERNAL_ERROR, message="bad\x1b[31m\nthing\r\x00" + "x" * 500)
    reason = failure_reason("search", REMOTE, hostile, http_status=500)
    assert "\n" not in reason and "\x1b" not in reason and "\x00" not in reason
    assert reason.startswith(
        'The MCP server "search" refused to start (HTTP 500 Internal Server Error): bad [31m thing')
    assert len(reason) < 400 and "t0k" not in reason
    assert plain_line("a\tb\n\nc") == "a b c"


def test_the_first_real_error_is_found_inside_exception_groups():
    inner = ValueError("the real one")
    group = BaseExceptionGroup("outer", [asyncio.CancelledError(), BaseExceptionGroup("inner", [inner])])
    assert first_error(group) is inner
