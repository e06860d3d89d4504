"""The window's Tools menu: the built-in tools and each MCP server, with what they cost.

Rebuilt each time it opens. Every tool's schema is in every prompt that offers it, so each
entry says its schema cost in tokens: the built-in calculator and python, then per MCP server
of mcp.json its state — running (with its tools, each with its own cost, and the server's
total), not started yet, failed with the reason, or disabled. The states come from a callable
(``McpManager.states``); the token counts from ``count_tokens(specs) -> int | None`` (the
model's tokenizer over the tools as the prompt carries them; None when it cannot tell), asked
once per set of schemas and remembered. Names, descriptions and reasons are shown as text.

Signals: none.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from PySide6.QtWidgets import QMenu, QWidget

from app.controllers.tool_choices import BUILTIN_SPECS, RUNNING, server_specs
from app.domain.tools.types import ToolSpec
from app.ui import format as fmt
from app.ui.plain import plain_action_text, plain_tooltip

TokenCounter = Callable[[Sequence[ToolSpec]], "int | None"]
STATUS_WORDS = {"stopped": "not started yet", "starting": "starting…", "disabled": "disabled in mcp.json"}


class ToolsMenu(QMenu):
    """Tools → built-in tools and MCP servers, their state, their tools, their schema cost."""

    def __init__(self, parent: QWidget | None = None, *, servers: Callable[[], Sequence] | None = None,
                 count_tokens: TokenCounter | None = None):
        super().__init__("&Tools", parent)
        self.setObjectName("toolsMenu")
        self.setToolTipsVisible(True)
        self._servers = servers or (lambda: [])
        self._count = count_tokens
        self._costs: dict[tuple, int | None] = {}
        self.aboutToShow.connect(self.rebuild)

    def set_sources(self, *, servers: Callable[[], Sequence] | None = None,
                    count_tokens: TokenCounter | None = None) -> None:
        """Where the servers' states and the token counts come from (the window wires them)."""
        if servers is not None:
            self._servers = servers
        if count_tokens is not None:
            self._count = count_tokens
            self._costs.clear()

    # -- figures ---------------------------------------------------------------------------
    def cost(self, specs: Sequence[ToolSpec]) -> int | None:
        """The schema tokens of ``specs`` (remembered per set of schemas)."""
        if self._count is None or not specs:
            return None if specs else 0
        key = tuple((s.source, s.name, s.description, json.dumps(s.parameters, sort_keys=True)) for s in specs)
        if key not in self._costs:
            self._costs[key] = self._count(list(specs))
        return self._costs[key]

    def _cost_text(self, specs: Sequence[ToolSpec]) -> str:
        n = self.cost(specs)
        return "schema cost unknown" if n is None else fmt.tokens(n)

    # -- the menu --------------------------------------------------------------------------
    def rebuild(self) -> None:
        self.clear()
        self.addSection("Built-in tools")
        for spec in BUILTIN_SPECS:
            action = self.addAction(plain_action_text(f"{spec.name} — {self._cost_text([spec])}"))
            action.setToolTip(plain_tooltip(spec.description))
        self.addSection("MCP servers (mcp.json)")
        servers = list(self._servers())
        if not servers:
            self.addAction("No MCP servers: add them to mcp.json").setEnabled(False)
        for state in servers:
            self._add_server(state)

    def _add_server(self, state) -> None:
        if state.status == RUNNING:
            specs = server_specs(state)
            n = len(specs)
            title = f"{state.name} — running · {n} tool{'' if n == 1 else 's'} · {self._cost_text(specs)}"
            sub = self.addMenu(plain_action_text(title))
            sub.setToolTipsVisible(True)
            for spec in specs:
                entry = sub.addAction(plain_action_text(f"{spec.name} — {self._cost_text([spec])}"))
                entry.setToolTip(plain_tooltip(spec.description or spec.name))
            if not specs:
                sub.addAction("It offers no tools").setEnabled(False)
            return
        if state.status == "failed":
            sub = self.addMenu(plain_action_text(f"{state.name} — failed"))
            reason = state.reason or "The server failed without saying why."
            sub.addAction(plain_action_text(_one_line(reason))).setToolTip(plain_tooltip(reason))
            return
        self.addAction(plain_action_text(f"{state.name} — {STATUS_WORDS.get(state.status, state.status)}"))


def _one_line(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
