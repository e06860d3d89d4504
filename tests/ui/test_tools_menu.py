"""The Tools menu: each MCP server's state, its tools and their schema cost in tokens."""

import json

from app.tools.mcp_results import McpTool
from app.tools.mcp_servers import ServerState
from app.ui.tools_menu import ToolsMenu


class Counter:
    """A stand-in tokenizer: 1 token per 4 characters of the schemas, and how often it was asked."""

    def __init__(self):
        self.calls = 0

    def __call__(self, specs):
        self.calls += 1
        return sum(len(json.dumps({"name": s.name, "description": s.description, "parameters": s.parameters}))
                   for s in specs) // 4


def _servers():
    big = {"type": "object", "properties": {f"p{i}": {"type": "string", "description": "x" * 40} for i in range(8)}}
    return [ServerState("files", "running", "stdio", tools=(McpTool("files", "read", "Read a file", big),
                                                           McpTool("files", "list", "List a folder", {"type": "object"}))),
            ServerState("remote", "failed", "http", reason="Could not reach https://example.invalid/mcp: name not known."),
            ServerState("later", "stopped", "stdio"), ServerState("off", "disabled", "stdio")]


def _texts(menu):
    return [a.text() for a in menu.actions() if not a.isSeparator()]


def test_servers_their_state_tools_and_schema_cost(qtbot):
    counter = Counter()
    menu = ToolsMenu(servers=_servers, count_tokens=counter)
    menu.rebuild()
    texts = _texts(menu)
    state = _servers()[0]
    from app.controllers.tool_choices import server_specs

    read, listing = server_specs(state)
    total, read_cost, list_cost = counter([read, listing]), counter([read]), counter([listing])
    assert read_cost > list_cost > 0
    assert f"files — running · 2 tools · {total:,} tokens" in texts
    assert "remote — failed" in texts and "later — not started yet" in texts and "off — disabled in mcp.json" in texts
    files = next(a.menu() for a in menu.actions() if a.text().startswith("files"))
    assert _texts(files) == [f"read — {read_cost:,} tokens", f"list — {list_cost:,} tokens"]
    remote = next(a.menu() for a in menu.actions() if a.text() == "remote — failed")
    assert _texts(remote) == ["Could not reach https://example.invalid/mcp: name not known."]
    assert any(t.startswith("calculator — ") and t.endswith(" tokens") for t in texts)


def test_costs_are_counted_once_per_set_of_schemas(qtbot):
    counter = Counter()
    menu = ToolsMenu(servers=_servers, count_tokens=counter)
    menu.rebuild()
    asked = counter.calls
    menu.rebuild()
    assert asked == 2 + 3 and counter.calls == asked  # built-ins, the server and its two tools; then remembered


def test_without_servers_or_a_tokenizer_it_says_so(qtbot):
    menu = ToolsMenu()
    menu.rebuild()
    texts = _texts(menu)
    assert "No MCP servers: add them to mcp.json" in texts
    assert "calculator — schema cost unknown" in texts
