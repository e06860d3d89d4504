"""The composer's tools control: off by default, built-in tools and MCP servers, start on demand."""

from app.domain.tools.calculator import CALCULATOR_SPEC
from app.tools.mcp_results import McpTool
from app.tools.mcp_servers import ServerState
from app.ui.tools_picker import ToolsPicker


def _tool(server, name):
    return McpTool(server, name, f"{name} things", {"type": "object", "properties": {"q": {"type": "string"}}})


def _states(web_status="running"):
    return [ServerState("web", web_status, "stdio", tools=(_tool("web", "search"), _tool("web", "fetch"))
                        if web_status == "running" else ()),
            ServerState("broken", "failed", "stdio", reason='The MCP server "broken" exited at start: '
                                                               "ModuleNotFoundError: No module named 'foo'.")]


def _entries(picker):
    picker.rebuild_menu()
    return {a.text(): a for a in picker.menu_.actions() if not a.isSeparator()}


def test_off_by_default_then_the_chosen_tools_are_emitted(qtbot):
    picker = ToolsPicker(servers=_states)
    qtbot.addWidget(picker)
    assert picker.text() == "Tools: off" and picker.specs == ()
    chosen = []
    picker.changed.connect(chosen.append)
    entries = _entries(picker)
    assert entries["Off (no tools)"].isChecked()
    entries["Calculator — exact arithmetic"].trigger()
    assert chosen == [(CALCULATOR_SPEC,)] and picker.text() == "Tools: calculator"
    _entries(picker)["web (2 tools)"].trigger()
    specs = chosen[-1]
    assert [(s.name, s.source) for s in specs] == [("calculator", "builtin"), ("search", "mcp:web"), ("fetch", "mcp:web")]
    assert specs[1].parameters["properties"]["q"]["type"] == "string"
    _entries(picker)["Off (no tools)"].trigger()
    assert chosen[-1] == () and picker.text() == "Tools: off"


def test_a_failed_server_cannot_be_chosen_and_says_why(qtbot):
    picker = ToolsPicker(servers=_states)
    qtbot.addWidget(picker)
    broken = _entries(picker)["broken (failed)"]
    assert not broken.isEnabled() and "No module named 'foo'" in broken.toolTip()


def test_a_server_not_started_yet_is_started_and_offered_once_it_runs(qtbot):
    status = {"web": "stopped"}
    picker = ToolsPicker(servers=lambda: _states(status["web"]))
    qtbot.addWidget(picker)
    starts, chosen = [], []
    picker.start_requested.connect(starts.append)
    picker.changed.connect(chosen.append)
    _entries(picker)["web (not started yet)"].trigger()
    assert starts == ["web"] and chosen == [()]  # chosen, but it has no tools to offer yet
    status["web"] = "running"
    picker.refresh()
    assert [s.name for s in chosen[-1]] == ["search", "fetch"] and picker.text() == "Tools: web"
