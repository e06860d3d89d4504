"""The tools a conversation can offer: built-in ones and MCP servers' as specs, by the user's choice."""

from app.controllers.tool_choices import BUILTIN_SPECS, describe_choice, offered_specs, server_key
from app.controllers.toolbox import BUILTIN


class _Tool:
    def __init__(self, name):
        self.name, self.description, self.parameters = name, f"the {name} tool", {"type": "object"}


class _Server:
    def __init__(self, name, status, tools=()):
        self.name, self.status, self.reason, self.tools = name, status, None, tuple(_Tool(t) for t in tools)


def test_the_chosen_keys_become_specs_without_duplicate_names():
    servers = [_Server("web", "running", ["search", "fetch"]), _Server("dup", "running", ["search"]),
               _Server("down", "failed", ["x"])]
    specs = offered_specs(["python", server_key("web"), server_key("dup"), server_key("down")], servers)
    assert [(s.name, s.source) for s in specs] == [("python", "builtin"), ("search", "mcp:web"), ("fetch", "mcp:web")]
    assert offered_specs([], servers) == ()
    assert [s.name for s in BUILTIN_SPECS] == ["calculator", "python"] and BUILTIN_SPECS == tuple(BUILTIN.values())
    assert describe_choice([]) == "Tools: off" and describe_choice(["calculator", "mcp:web"]) == "Tools: calculator, web"
    assert describe_choice(["a", "b", "c"]) == "Tools: a, 2 more"
