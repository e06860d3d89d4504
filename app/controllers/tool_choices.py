"""Which tools a conversation can offer, and the user's choice among them.

The choices are the built-in tools (:data:`BUILTIN_SPECS`: the calculator and the python
code interpreter, as :mod:`app.controllers.toolbox` runs them) and each MCP server of
mcp.json as a whole (all its tools). A choice is
named by a *key*: the tool's name for a built-in one, ``"mcp:<server>"`` for a server. The
composer's tools control keeps a set of keys; :func:`offered_specs` turns them into the
:class:`ToolSpec` tuple a turn request carries (``TurnOptions.tools`` → ``TurnRequest.tools``).

Servers are read duck-typed (``name``, ``status``, ``tools`` whose items have ``name``,
``description``, ``parameters``: ``app.tools.mcp_servers.ServerState``), so this module stays
free of the MCP SDK (and of Qt).
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from app.controllers.toolbox import BUILTIN
from app.domain.tools.types import ToolSpec

BUILTIN_SPECS: tuple[ToolSpec, ...] = tuple(BUILTIN.values())  # the calculator and python, the toolbox's own
MCP_PREFIX = "mcp:"
RUNNING = "running"


def server_key(name: str) -> str:
    return MCP_PREFIX + name


def key_of(spec: ToolSpec) -> str:
    """The choice ``spec`` belongs to: its name (built-in) or its server's key."""
    return spec.source if spec.is_mcp else spec.name


def server_specs(server: Any) -> tuple[ToolSpec, ...]:
    """The tools of one MCP server (a ``ServerState``) as specs; none unless it runs."""
    if getattr(server, "status", "") != RUNNING:
        return ()
    return tuple(ToolSpec(t.name, t.description or "", dict(t.parameters or {}), source=server_key(server.name))
                 for t in server.tools)


def available_specs(servers: Iterable[Any] = ()) -> tuple[ToolSpec, ...]:
    """Every tool that could be offered now: the built-in ones, then each running server's."""
    out = list(BUILTIN_SPECS)
    for server in servers:
        out += server_specs(server)
    return tuple(out)


def offered_specs(keys: Iterable[str], servers: Iterable[Any] = ()) -> tuple[ToolSpec, ...]:
    """The specs of the chosen ``keys``, in the order of :func:`available_specs`.

    A tool whose name is taken by an earlier one (two servers with a ``search`` tool, or a
    server's own ``python``) is left out: the model could not tell them apart.
    """
    chosen = set(keys)
    out: list[ToolSpec] = []
    names: set[str] = set()
    for spec in available_specs(servers):
        if key_of(spec) in chosen and spec.name not in names:
            out.append(spec)
            names.add(spec.name)
    return tuple(out)


def describe_choice(keys: Sequence[str]) -> str:
    """The tools control's text: ``Tools: off``, ``Tools: calculator``, ``Tools: calculator, 2 more``."""
    names = [k[len(MCP_PREFIX):] if k.startswith(MCP_PREFIX) else k for k in keys]
    if not names:
        return "Tools: off"
    if len(names) <= 2:
        return "Tools: " + ", ".join(names)
    return f"Tools: {names[0]}, {len(names) - 1} more"
