"""An MCP server's tool in the window: mcp.json read after the window shows, the server started
from the tools control on the qasync loop, and a local turn (on the worker thread) calling the
tool through it."""

import json
import sys
from pathlib import Path

from app import paths
from app.backends.fake import FakeBackend
from app.controllers.chat_session import ChatSession
from app.domain.config import load_user_models
from app.domain.tools.types import ToolCall
from app.ui import mcp_binding
from app.ui.main_window import MainWindow
from helpers.cloud_replay import qloop, run_until  # noqa: F401 (fixture)

SERVER = str(Path(__file__).parents[1] / "tools" / "mcp_test_server.py")


def test_a_local_turn_calls_an_mcp_tool_through_the_windows_loop(qtbot, qloop):  # noqa: F811
    paths.mcp_json().parent.mkdir(parents=True, exist_ok=True)
    paths.mcp_json().write_text(json.dumps({"mcpServers": {"test": {"command": sys.executable,
                                                                     "args": [SERVER, "stdio"]}}}))
    call = ToolCall("m1", "add", {"a": 20, "b": 22})
    session = ChatSession(load_user_models(), factory=lambda p: FakeBackend(p, [call], follow_up=["done"]))
    servers = mcp_binding.McpServers()
    win = MainWindow(session, mcp_servers=servers.states, count_tool_tokens=mcp_binding.schema_tokens)
    qtbot.addWidget(win)
    mcp_binding.bind(win, session, servers, qloop)
    run_until(qloop, lambda: servers.manager is not None, timeout=10)
    win.tools_picker.start_requested.emit("test")
    run_until(qloop, lambda: any(s.status == "running" for s in servers.states()), timeout=60)
    session.set_tools(tuple(s for s in _server_specs(servers) if s.name == "add"))
    done, asked = [], []

    def approve(message):  # what the card's Run does (MCP tools ask first)
        for part in message.tool_calls:
            if part.state == "awaiting-approval" and part.call_id not in asked:
                asked.append(part.call_id)
                session.approve_tool(part.call_id, dict(part.call.arguments))

    session.message_changed.connect(approve)
    session.turn_finished.connect(done.append)
    assert session.send("What is 20 + 22?")
    run_until(qloop, lambda: bool(done), timeout=60)
    part = done[0].tool_calls[0]
    assert asked == ["m1"] and "test" in part.reach  # the card said which server it runs on
    assert part.state == "done" and part.result.text.strip() == "42"
    qloop.run_until_complete(mcp_binding.close(servers))
    session.shutdown()


def _server_specs(servers):
    from app.controllers.tool_choices import server_specs

    return [spec for state in servers.states() for spec in server_specs(state)]
