"""The window's MCP servers: the servers of mcp.json for the tools control and menu, started
on the qasync loop when the user picks one, and closed when Ponder quits.

The MCP SDK takes about a second to import, so nothing of it loads before the window shows,
and only when mcp.json exists. A broken mcp.json is said in the window's banner; Ponder goes
on without MCP servers.
"""

from __future__ import annotations

import asyncio
import json
import logging

from app.errors import PonderError

log = logging.getLogger("ponder.mcp")


def schema_tokens(specs) -> int:
    """The tokens tool schemas cost in a prompt, estimated (about four characters a token;
    the gauge counts them exactly for the model in use)."""
    from app.backends.cloud.tally import estimate_tokens
    from app.domain.tools.chat_format import tools_json

    return estimate_tokens(json.dumps(tools_json(specs), ensure_ascii=False))


class McpServers:
    """The servers of mcp.json once loaded (none before, or without the file)."""

    def __init__(self) -> None:
        self.manager = None

    def states(self) -> list:
        return self.manager.states() if self.manager is not None else []

    def load(self, report=None):
        """Read mcp.json and make the manager (None, reported, when the file is broken)."""
        from app import paths

        if self.manager is None and paths.mcp_json().is_file():
            from app.tools.mcp_servers import McpManager

            try:
                self.manager = McpManager.from_file()
            except PonderError as exc:
                if report is not None:
                    report(str(exc))
        return self.manager


def bind(window, session, servers: McpServers, loop: asyncio.AbstractEventLoop) -> None:
    """Load the servers after the window shows; start one when the tools control asks for it,
    then show its tools and state."""
    from PySide6.QtCore import QTimer

    def load() -> None:
        manager = servers.load(window.show_error)
        if manager is not None:
            session.set_mcp(manager, loop)
            window.tools_picker.refresh()

    QTimer.singleShot(300, load)

    def start(server: str) -> None:
        manager = servers.manager
        if manager is None:
            return

        async def run() -> None:
            await manager.start(server)
            window.tools_picker.refresh()

        loop.create_task(run(), name=f"mcp-start-{server}")

    window.tools_picker.start_requested.connect(start)


async def close(servers: McpServers, timeout_s: float = 5.0) -> None:
    """Stop every server (their processes end); a server that hangs is left after the timeout."""
    if servers.manager is None:
        return
    try:
        await asyncio.wait_for(servers.manager.aclose(), timeout_s)
    except (asyncio.TimeoutError, Exception):  # quitting: say it, never hang
        log.warning("The MCP servers did not all stop within %.0f s", timeout_s)
