"""A real MCP server for the tests, written with the SDK's server API (MCPServer, ex-FastMCP).

Run as a script: ``mcp_test_server.py stdio`` serves over stdio; ``mcp_test_server.py http
TOKEN`` serves streamable HTTP on 127.0.0.1 (a free port, printed as the first stdout line)
and answers 401 to requests whose ``Authorization`` is not ``Bearer TOKEN``;
``crash`` writes a reason to stderr and exits; ``hang`` starts but never answers.
"""

import asyncio
import os
import socket
import sys
import time

from mcp.server.mcpserver import Image, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("ponder-test")

# a valid 1x1 PNG
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5f0000000049454e44ae426082"
)


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool()
def divide(a: float, b: float) -> float:
    """Divide a by b; fails for b = 0."""
    if b == 0:
        raise ToolError("cannot divide by zero")
    return a / b


@server.tool()
async def sleepy(seconds: float) -> str:
    """Sleep, then say so."""
    await asyncio.sleep(seconds)
    return f"slept {seconds}"


@server.tool()
def environment(names: list[str]) -> dict[str, str | None]:
    """The values of some environment variables in the server process."""
    return {name: os.environ.get(name) for name in names}


@server.tool()
def picture() -> Image:
    """A tiny picture."""
    return Image(data=PNG, format="png")


@server.tool()
def pid() -> int:
    """The server's process id."""
    return os.getpid()


@server.tool()
def exit_now() -> str:
    """Exit the server process without answering."""
    os._exit(5)


def serve_http(token: str) -> None:
    import uvicorn

    app = server.streamable_http_app()

    async def guarded(scope, receive, send):
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            if headers.get(b"authorization", b"").decode() != f"Bearer {token}":
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"text/plain")]})
                await send({"type": "http.response.body", "body": b"bad token"})
                return
        await app(scope, receive, send)

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    config = uvicorn.Config(guarded, log_level="warning", lifespan="on")
    asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "stdio":
        server.run("stdio")
    elif mode == "http":
        serve_http(sys.argv[2])
    elif mode == "crash":
        print("starting up", file=sys.stderr)
        print("RuntimeError: the database file /nonexistent/db is missing", file=sys.stderr, flush=True)
        sys.exit(3)
    elif mode == "hang":
        print("loading a very large model...", file=sys.stderr, flush=True)
        time.sleep(3600)
