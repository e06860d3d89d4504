"""The tools one conversation offers: the calculator, the python interpreter, MCP servers'
tools — with their approval policies, what each can reach, and the limits of a turn.

It imports no Qt: the turn runner uses it on whichever asyncio loop runs the turn. MCP
sessions live on the loop that started them (the window's qasync loop); a call from another
loop (the model worker's) is handed over to it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from app.domain.tools.calculator import CALCULATOR_SPEC, run_calculator
from app.domain.tools.policy import default_policy
from app.domain.tools.types import ToolCall, ToolResult, ToolSpec

log = logging.getLogger("ponder.tools")

PYTHON_SPEC = ToolSpec(
    name="python",
    description=("Run Python 3 code in a sandbox and get back its output: what it prints, the value of its last "
                 "expression, and the last line of an error. Each call starts fresh (no state is kept), with "
                 "limits on time, memory and output. Use it for computations, data handling and checks."),
    parameters={"type": "object", "properties": {"code": {"type": "string", "description": "The Python code"}},
                "required": ["code"], "additionalProperties": False},
)
BUILTIN = {"calculator": CALCULATOR_SPEC, "python": PYTHON_SPEC}
CALCULATOR_REACH = "Exact arithmetic inside Ponder; it reaches nothing else (no files, no network)."


@dataclass(frozen=True)
class ToolLimits:
    """Per turn: tool rounds; per call: seconds, and characters of result the model reads."""

    max_rounds: int = 8
    timeout_s: float = 60.0
    max_result_chars: int = 20_000


@dataclass
class ToolBox:
    """The tools a turn offers and how they run (see module docstring).

    ``mcp`` is an ``app.tools.mcp_servers.McpManager`` (its loop ``mcp_loop``) whose tools
    are in ``mcp_tools`` as {tool name: (server, tool)}; ``allowed`` holds the tools the user
    allowed for this conversation; ``yes`` runs everything without asking (``ask --yes``);
    ``interactive`` False: nobody can answer an approval card (headless).
    """

    specs: tuple[ToolSpec, ...]
    mcp: Any = None
    mcp_loop: asyncio.AbstractEventLoop | None = None
    mcp_tools: dict[str, tuple[str, str]] = field(default_factory=dict)
    policies: dict[str, str] = field(default_factory=dict)
    allowed: set[str] = field(default_factory=set)
    yes: bool = False
    interactive: bool = True
    limits: ToolLimits = ToolLimits()

    @classmethod
    def builtin(cls, names=("calculator", "python"), **kw) -> "ToolBox":
        return cls(tuple(BUILTIN[n] for n in names), **kw)

    def by_name(self) -> dict[str, ToolSpec]:
        return {s.name: s for s in self.specs}

    def policy(self, name: str) -> str:
        spec = self.by_name().get(name)
        return self.policies.get(name) or (default_policy(spec) if spec else "ask")

    def reach(self, name: str) -> str:
        """What the tool can reach, said truthfully for the approval card."""
        if name == "calculator":
            return CALCULATOR_REACH
        if name == "python":
            from app.tools.sandbox_reach import cached_enforcement, reach_summary

            enforced = cached_enforcement()
            return reach_summary(enforced) if enforced is not None else \
                "Runs your code in a separate process with time and memory limits; what it can reach is checked " \
                "when Python first runs."
        server = self.mcp_tools.get(name, ("an MCP server", name))[0]
        return f"Runs on the MCP server “{server}”: it can reach whatever that server can."

    async def run(self, call: ToolCall) -> ToolResult:
        """Run ``call`` (already checked against its schema and approved); every failure comes
        back as an error result the model can read."""
        started = time.monotonic()
        try:
            text, is_error = await asyncio.wait_for(self._run(call), self.limits.timeout_s)
        except asyncio.TimeoutError:
            text, is_error = f"The tool did not answer within {self.limits.timeout_s:.0f} s; it was stopped.", True
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a tool must never break the turn
            log.exception("The tool %s failed", call.name)
            text, is_error = f"The tool failed: {type(exc).__name__}: {exc}", True
        return ToolResult(call.id, text, is_error, time.monotonic() - started)

    async def _run(self, call: ToolCall) -> tuple[str, bool]:
        if call.name == "calculator":
            return run_calculator(call.arguments)
        if call.name == "python":
            from app.tools.python_sandbox import run_python

            result = await run_python(str(call.arguments.get("code", "")))
            return result.as_text(), bool(result.error or result.stopped)
        if call.name in self.mcp_tools and self.mcp is not None:
            server, tool = self.mcp_tools[call.name]
            coro = self.mcp.call_tool(server, tool, dict(call.arguments), timeout=self.limits.timeout_s)
            loop = asyncio.get_running_loop()
            if self.mcp_loop is None or self.mcp_loop is loop:
                result = await coro
            else:  # the MCP session lives on another loop (the window's): run it there
                result = await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.mcp_loop))
            return result.text, bool(result.is_error)
        return f"There is no tool named {call.name!r}.", True


async def toolbox_for(names: list[str], *, manager=None, **options) -> ToolBox:
    """A toolbox of ``names``: the built-in ``calculator`` and ``python``, an MCP server's name
    (all its tools) or ``server.tool`` (one); MCP servers come from ``manager`` (mcp.json) and
    are started on the running loop. An unknown name or a server that cannot start is a
    :class:`PonderError` that says which."""
    from app.errors import PonderError

    specs: list[ToolSpec] = []
    mcp_tools: dict[str, tuple[str, str]] = {}
    for name in names:
        if name in BUILTIN:
            specs.append(BUILTIN[name])
            continue
        server, _, only = name.partition(".")
        if manager is None or server not in manager.config.servers:
            known = ", ".join([*BUILTIN, *(sorted(manager.config.servers) if manager is not None else [])])
            raise PonderError(f'There is no tool or MCP server named "{name}". Known: {known} '
                              "(MCP servers come from mcp.json in Ponder's config folder).")
        state = await manager.start(server)
        if state.status != "running":
            raise PonderError(f'The MCP server "{server}" is not available: {state.reason}')
        tools = [t for t in await manager.list_tools(server) if not only or t.name == only]
        if only and not tools:
            raise PonderError(f'The MCP server "{server}" has no tool named "{only}".')
        for tool in tools:
            spec_name = tool.name if tool.name not in BUILTIN and tool.name not in mcp_tools else f"{server}_{tool.name}"
            specs.append(ToolSpec(spec_name, tool.description, tool.parameters, source=f"mcp:{server}"))
            mcp_tools[spec_name] = (server, tool.name)
    return ToolBox(tuple(specs), mcp=manager, mcp_loop=asyncio.get_running_loop() if manager else None,
                   mcp_tools=mcp_tools, **options)
