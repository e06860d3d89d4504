"""The composer's tools control: which tools this conversation offers the model (off by default).

A button ("Tools: off", "Tools: calculator, python") with a menu of checkable entries: the
built-in calculator and python, and each MCP server of mcp.json as a whole. A server that is
not running yet can be checked (``start_requested`` asks for it to be started; its tools are
offered once it runs and :meth:`ToolsPicker.refresh` is called); a failed one cannot, and
says why. The choice is a set of keys (:mod:`app.controllers.tool_choices`); ``changed`` carries
the ToolSpecs they stand for, which the window hands to ``ChatSession.set_tools``.

Signals:
    changed(object specs) — the chosen tools changed: a tuple of ToolSpec (empty: off)
    start_requested(str server) — the user chose a server that is not running yet
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QMenu, QToolButton, QWidget

from app.controllers.tool_choices import (BUILTIN_SPECS, RUNNING, describe_choice, offered_specs, server_key,
                                      server_specs)
from app.ui.plain import plain_action_text, plain_tooltip

BUILTIN_LABELS = {"calculator": "Calculator — exact arithmetic", "python": "Python — runs code in a separate process"}
NOT_STARTED = ("stopped", "starting")


class ToolsPicker(QToolButton):
    """A button whose menu chooses the tools of the next turns."""

    changed = Signal(object)
    start_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None, *, servers: Callable[[], Sequence] | None = None):
        super().__init__(parent)
        self.setObjectName("toolsPicker")
        self.setPopupMode(QToolButton.InstantPopup)
        self._servers = servers or (lambda: [])
        self._keys: tuple[str, ...] = ()
        self._specs: tuple = ()
        self.menu_ = QMenu(self)
        self.menu_.setToolTipsVisible(True)
        self.menu_.aboutToShow.connect(self.rebuild_menu)
        self.setMenu(self.menu_)
        self._show_choice()

    # -- reading ---------------------------------------------------------------------------
    @property
    def keys(self) -> tuple[str, ...]:
        """The chosen keys, in the order they were chosen."""
        return self._keys

    @property
    def specs(self) -> tuple:
        return self._specs

    def set_servers(self, servers: Callable[[], Sequence]) -> None:
        """Where the MCP servers' states come from (e.g. ``McpManager.states``)."""
        self._servers = servers
        self.refresh()

    # -- choosing --------------------------------------------------------------------------
    def set_keys(self, keys: Iterable[str], *, emit: bool = False) -> None:
        """Choose ``keys`` (e.g. none, for a new conversation); ``changed`` only with ``emit``."""
        self._keys = tuple(dict.fromkeys(keys))
        self._specs = offered_specs(self._keys, self._servers())
        self._show_choice()
        if emit:
            self.changed.emit(self._specs)

    def toggle(self, key: str, on: bool) -> None:
        """Add or remove one choice (what a menu entry does)."""
        keys = [k for k in self._keys if k != key] + ([key] if on else [])
        self.set_keys(keys, emit=True)
        if on and key.startswith("mcp:"):
            name = key[len("mcp:"):]
            state = next((s for s in self._servers() if s.name == name), None)
            if state is not None and state.status in NOT_STARTED:
                self.start_requested.emit(name)

    def refresh(self) -> None:
        """Take the servers' current tools (after one started or failed); ``changed`` if that
        changes what is offered."""
        specs = offered_specs(self._keys, self._servers())
        if specs != self._specs:
            self._specs = specs
            self._show_choice()
            self.changed.emit(specs)
        else:
            self._show_choice()

    def _show_choice(self) -> None:
        self.setText(plain_action_text(describe_choice(self._keys)))
        offered = ", ".join(s.name for s in self._specs) or "none"
        self.setToolTip(plain_tooltip(f"Tools the model may call in this conversation: {offered}. "
                                      "Off by default; a new conversation starts without tools."))

    # -- the menu --------------------------------------------------------------------------
    def rebuild_menu(self) -> None:
        menu = self.menu_
        menu.clear()
        off = menu.addAction("Off (no tools)")
        off.setCheckable(True)
        off.setChecked(not self._keys)
        off.triggered.connect(lambda: self.set_keys((), emit=True))
        menu.addSection("Built-in")
        for spec in BUILTIN_SPECS:
            action = menu.addAction(plain_action_text(BUILTIN_LABELS.get(spec.name, spec.name)))
            action.setCheckable(True)
            action.setChecked(spec.name in self._keys)
            action.setToolTip(plain_tooltip(spec.description))
            action.toggled.connect(lambda on, k=spec.name: self.toggle(k, on))
        servers = list(self._servers())
        menu.addSection("MCP servers")
        if not servers:
            menu.addAction("No MCP servers (add them to mcp.json)").setEnabled(False)
        for state in servers:
            key = server_key(state.name)
            action = menu.addAction(plain_action_text(self._server_label(state)))
            action.setCheckable(True)
            action.setChecked(key in self._keys)
            if state.status == RUNNING:
                names = ", ".join(s.name for s in server_specs(state)) or "no tools"
                action.setToolTip(plain_tooltip(f"Offers: {names}"))
            elif state.status in NOT_STARTED:
                action.setToolTip(plain_tooltip("Its tools are offered once it has started."))
            else:
                action.setEnabled(key in self._keys)  # a failed server can still be unchecked
                action.setToolTip(plain_tooltip(state.reason or f"The server is {state.status}."))
            action.toggled.connect(lambda on, k=key: self.toggle(k, on))

    @staticmethod
    def _server_label(state) -> str:
        if state.status == RUNNING:
            n = len(state.tools)
            return f"{state.name} ({n} tool{'' if n == 1 else 's'})"
        if state.status in NOT_STARTED:
            return f"{state.name} (not started yet)"
        return f"{state.name} ({state.status})"
