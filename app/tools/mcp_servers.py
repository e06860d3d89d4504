"""The MCP servers of mcp.json as tools: started lazily, listed, called, shut down.

Built on the official ``mcp`` SDK (v2: ``mcp.Client`` over ``stdio_client`` or
``streamable_http_client``), on whatever asyncio loop runs it — qasync's in the window,
``asyncio.run``'s in the CLI. Each server has one owner task that opens the SDK client,
lists the tools and then holds the connection until :meth:`McpManager.aclose` (the SDK's
task groups must be entered and left in one task); calls come from any task on the loop.

Each server has a :class:`ServerState`: ``stopped`` (not started yet), ``starting``,
``running`` with its tools (a local server that exits is noticed by the end of its stderr
and checked at once), ``failed`` with a one-sentence reason (a bad entry in
mcp.json with its line, a command that is not installed, a server that exits at start —
with the last line it wrote to stderr —, one that does not answer the initialize
handshake in time, a URL that cannot be reached, a ``${VAR}`` that is not set), or
``disabled``. One failing server never affects the others.

:meth:`McpManager.call_tool` never raises for a tool's or a server's failure: it returns
an :class:`McpToolResult` whose text says what happened (the model can read it), with
``is_error`` set; it has a timeout, and cancelling the awaiting task cancels the call
(the SDK tells the server so).

Local servers get the SDK's safe subset of the environment (HOME, PATH, USER, SHELL,
TERM, LOGNAME), the locale and temp-folder variables, plus their own ``env`` from
mcp.json — never Ponder's variables or API keys.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import shutil
import sys
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx2
import pydantic
from mcp import Client, MCPError, StdioServerParameters, stdio_client, types
from mcp.client.streamable_http import streamable_http_client

from app.errors import ConfigError, PonderError
from app.version import __version__
from app.tools.mcp_config import McpConfig, ServerConfig, expand, load_mcp_config
from app.tools.mcp_failures import failure_reason, first_error, handshake_timeout, plain_line
from app.tools.mcp_results import McpTool, McpToolResult, failure, result_from_call
from app.tools.stderr_tail import StderrTail

log = logging.getLogger(__name__)

STOPPED, STARTING, RUNNING, FAILED, DISABLED = "stopped", "starting", "running", "failed", "disabled"
EXTRA_ENV = ("LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "TEMP", "TMP")
_MAX_TOOL_PAGES = 50


class McpServerError(PonderError):
    """An MCP server is not available (it failed to start, or is disabled); ``server`` names it."""

    def __init__(self, server: str, message: str) -> None:
        super().__init__(message)
        self.server = server


@dataclass(frozen=True)
class ServerState:
    """What the tools menu shows of one server: its status, the reason when it failed, its tools."""

    name: str
    status: str
    transport: str = ""
    reason: str | None = None
    tools: tuple[McpTool, ...] = ()

    def tool_dicts(self) -> list[dict]:
        """Its tools as ``{"name", "description", "parameters"}`` dicts."""
        return [tool.as_dict() for tool in self.tools]


class _Slot:
    """One server's mutable state, owned by the manager."""

    def __init__(self, name: str, config: ServerConfig | None, problem: ConfigError | None) -> None:
        self.name = name
        self.config = config
        self.status = FAILED if problem else (DISABLED if config and config.disabled else STOPPED)
        self.reason = str(problem) if problem else None
        self.tools: tuple[McpTool, ...] = ()
        self.client: Client | None = None
        self.task: asyncio.Task | None = None
        self.ready: asyncio.Future | None = None
        self.stop: asyncio.Event | None = None
        self.scope: anyio.CancelScope | None = None
        self.tail: StderrTail | None = None
        self.http_status: int | None = None  # the last error status an HTTP server answered
        self.watch: asyncio.Task | None = None  # the liveness check after stderr ended

    def state(self) -> ServerState:
        transport = self.config.transport if self.config else ""
        return ServerState(self.name, self.status, transport, self.reason, self.tools)

    def fail(self, reason: str) -> None:
        self.status, self.reason, self.client = FAILED, reason, None


class McpManager:
    """The servers of one mcp.json. Use on one asyncio loop; ``async with`` closes everything.

    ``start_timeout``: seconds for a server to start, answer the initialize handshake and
    list its tools; ``call_timeout``: the default seconds per tool call.
    ``secret_lookup(name)`` is asked for a ``${NAME}`` that the environment does not have
    (e.g. the keyring); it must never log the value.
    """

    def __init__(self, config: McpConfig, *, start_timeout: float = 60.0, call_timeout: float = 60.0,
                 secret_lookup: Callable[[str], str | None] | None = None) -> None:
        self.config = config
        self.start_timeout = start_timeout
        self.call_timeout = call_timeout
        self._secret_lookup = secret_lookup
        by_name = {server.name: server for server in config.servers}
        self._slots = {name: _Slot(name, by_name.get(name), config.problems.get(name))
                       for name in config.names()}

    @classmethod
    def from_file(cls, path: Path | None = None, **options) -> McpManager:
        """A manager for the user's mcp.json (or ``path``); ConfigError if the file is unusable."""
        return cls(load_mcp_config(path), **options)

    async def __aenter__(self) -> McpManager:
        return self

    async def __aexit__(self, *_exc) -> None:
        await self.aclose()

    # ----------------------------------------------------------------- reading state

    def server_names(self) -> list[str]:
        """All servers of mcp.json in file order (failed and disabled ones too)."""
        return list(self._slots)

    def state(self, name: str) -> ServerState:
        """One server's current state (without starting it)."""
        return self._slot(name).state()

    def states(self) -> list[ServerState]:
        """Every server's current state, in file order."""
        return [slot.state() for slot in self._slots.values()]

    def _slot(self, name: str) -> _Slot:
        slot = self._slots.get(name)
        if slot is None:
            known = ", ".join(self._slots) or "(none)"
            raise McpServerError(name, f'There is no MCP server "{name}" in mcp.json. Known servers: {known}.')
        return slot

    # ----------------------------------------------------------------- starting

    async def start(self, name: str) -> ServerState:
        """Start ``name`` if it is not running yet and wait until it runs or fails."""
        slot = self._slot(name)
        if slot.status == STOPPED and slot.task is None:
            loop = asyncio.get_running_loop()
            slot.status, slot.reason = STARTING, None
            slot.ready = loop.create_future()
            slot.stop = asyncio.Event()
            slot.task = loop.create_task(self._own(slot), name=f"mcp-server-{name}")
        if slot.ready is not None and slot.status == STARTING:
            await asyncio.shield(slot.ready)
        return slot.state()

    async def start_all(self) -> list[ServerState]:
        """Start every server at once; returns all states when each runs or has failed."""
        await asyncio.gather(*(self.start(name) for name in self._slots))
        return self.states()

    async def list_tools(self, name: str) -> list[McpTool]:
        """The tools of ``name`` (started if needed); McpServerError when it is not available."""
        state = await self.start(name)
        if state.status != RUNNING:
            raise McpServerError(name, state.reason or f'The MCP server "{name}" is {state.status}.')
        return list(state.tools)

    def _lookup(self, variable: str) -> str | None:
        value = os.environ.get(variable)
        if value is None and self._secret_lookup is not None:
            value = self._secret_lookup(variable)
        return value

    def _stdio_parameters(self, server: ServerConfig) -> StdioServerParameters:
        env = {key: os.environ[key] for key in EXTRA_ENV if key in os.environ}
        for key, value in server.env.items():
            env[key] = expand(value, self._lookup, server=server.name, where=f'"env" value {key}')
        args = [expand(arg, self._lookup, server=server.name, where='"args"') for arg in server.args]
        command = server.command
        search_path = env.get("PATH", os.environ.get("PATH", os.defpath))
        if sys.platform != "win32" and shutil.which(command, path=search_path) is None:
            raise FileNotFoundError(command)
        return StdioServerParameters(command=command, args=args, env=env, cwd=server.cwd)

    def _headers(self, server: ServerConfig) -> dict[str, str]:
        return {key: expand(value, self._lookup, server=server.name, where=f'header "{key}"')
                for key, value in server.headers.items()}

    async def _connect(self, stack: AsyncExitStack, slot: _Slot, mode: str) -> Client:
        server = slot.config
        assert server is not None
        if server.transport == "stdio":
            params = self._stdio_parameters(server)
            if slot.tail is not None:
                slot.tail.close()
            slot.tail = StderrTail()
            transport = stdio_client(params, errlog=slot.tail.file)
        else:
            url = expand(server.url, self._lookup, server=server.name, where='"url"')

            async def note_status(response: httpx2.Response) -> None:
                if response.status_code >= 400:
                    slot.http_status = response.status_code

            http = await stack.enter_async_context(httpx2.AsyncClient(
                headers=self._headers(server), timeout=httpx2.Timeout(30.0, read=300.0),
                event_hooks={"response": [note_status]}))
            transport = streamable_http_client(url, http_client=http)
        client = Client(transport, mode=mode, client_info=types.Implementation(name="Ponder", version=__version__))
        return await stack.enter_async_context(client)

    @staticmethod
    async def _all_tools(name: str, client: Client) -> tuple[McpTool, ...]:
        tools: list[McpTool] = []
        cursor = None
        for _ in range(_MAX_TOOL_PAGES):
            page = await client.list_tools(cursor=cursor)
            tools.extend(McpTool.from_sdk(name, tool) for tool in page.tools)
            cursor = page.next_cursor
            if not cursor:
                break
        return tuple(tools)

    async def _own(self, slot: _Slot) -> None:
        """The owner task: connect, list, hold the connection until asked to stop."""
        modes = ["legacy", "auto"]  # initialize first: some older servers exit on a discover probe
        try:
            while modes:
                mode = modes.pop(0)
                try:
                    await self._hold(slot, mode)
                    return
                except MCPError as exc:
                    if exc.code == types.UNSUPPORTED_PROTOCOL_VERSION and modes and slot.status == STARTING:
                        continue  # a server of the 2026 protocol only: discover instead
                    slot.fail(self._reason(slot, exc))
                    return
                except Exception as exc:  # the SDK and transports raise many kinds; each becomes a sentence
                    slot.fail(self._reason(slot, exc))
                    return
        finally:
            if slot.status in (STARTING, RUNNING):
                slot.status = STOPPED if slot.status == RUNNING else FAILED
                slot.reason = slot.reason or f'The MCP server "{slot.name}" stopped.'
            slot.client = None
            if slot.tail is not None:
                slot.tail.close()
            if slot.ready is not None and not slot.ready.done():
                slot.ready.set_result(None)

    async def _hold(self, slot: _Slot, mode: str) -> None:
        with anyio.CancelScope(deadline=anyio.current_time() + self.start_timeout) as scope:
            slot.scope = scope
            try:
                async with AsyncExitStack() as stack:
                    client = await self._connect(stack, slot, mode)
                    if slot.tail is not None:  # the server has its stderr now: watch for its end
                        slot.tail.release_writer()
                        slot.tail.on_eof = lambda: self._check_alive(slot)
                    tools = await self._all_tools(slot.name, client)
                    scope.deadline = math.inf
                    slot.client, slot.tools, slot.status = client, tools, RUNNING
                    if slot.ready is not None and not slot.ready.done():
                        slot.ready.set_result(None)
                    assert slot.stop is not None
                    await slot.stop.wait()
            except BaseException as exc:
                leaf = first_error(exc)
                if leaf is not exc and not isinstance(leaf, asyncio.CancelledError):
                    raise leaf from exc
                raise
        if scope.cancelled_caught and slot.status == STARTING:
            stopped = slot.stop is not None and slot.stop.is_set()
            slot.fail(f'The MCP server "{slot.name}" was stopped while it was starting.' if stopped
                      else self._start_timeout_reason(slot))

    def _check_alive(self, slot: _Slot) -> None:
        """The server's stderr ended: it exited (or closed stderr). Ask it, and fail it if gone."""
        def stopping() -> bool:
            return slot.stop is not None and slot.stop.is_set()

        async def check() -> None:
            client = slot.client
            if client is None or slot.status != RUNNING or stopping():
                return
            try:
                await asyncio.wait_for(client.list_tools(cache_mode="refresh"), timeout=5.0)
            except MCPError as exc:
                if exc.code == types.CONNECTION_CLOSED and slot.status == RUNNING and not stopping():
                    slot.fail(self._reason(slot, exc))
                    if slot.stop is not None:
                        slot.stop.set()  # let the owner task close the transport
            except (asyncio.TimeoutError, anyio.ClosedResourceError, anyio.BrokenResourceError):
                pass  # busy, or already being closed: the next call will tell
        if slot.status == RUNNING and not stopping():
            slot.watch = asyncio.get_running_loop().create_task(check())  # kept: a task needs a reference

    def _start_timeout_reason(self, slot: _Slot) -> str:
        return handshake_timeout(slot.name, self.start_timeout, slot.tail.last_line() if slot.tail else "")

    def _reason(self, slot: _Slot, exc: BaseException) -> str:
        """One sentence for why ``slot`` failed."""
        return failure_reason(slot.name, slot.config, exc, stderr_line=slot.tail.last_line() if slot.tail else "",
                              running=slot.status == RUNNING, http_status=slot.http_status)

    # ----------------------------------------------------------------- calling

    async def call_tool(self, server: str, tool: str, arguments: dict | None = None, *,
                        timeout: float | None = None) -> McpToolResult:
        """Call ``tool`` of ``server`` (started if needed); failures come back as error results."""
        started = time.monotonic()
        try:
            state = await self.start(server)
        except McpServerError as exc:
            return failure(exc.message)
        slot = self._slots[server]
        if state.status != RUNNING or slot.client is None:
            return failure(state.reason or f'The MCP server "{server}" is {state.status}.')
        if tool not in {t.name for t in state.tools}:
            listed = ", ".join(t.name for t in state.tools) or "(none)"
            return failure(f'The MCP server "{server}" has no tool "{tool}". Its tools: {listed}.')
        limit = self.call_timeout if timeout is None else timeout
        try:
            result = await slot.client.call_tool(tool, arguments or {}, read_timeout_seconds=limit)
        except MCPError as exc:
            took = time.monotonic() - started
            if exc.code == types.REQUEST_TIMEOUT:
                return failure(f'The tool "{tool}" of MCP server "{server}" did not answer within {limit:g} s; '
                               "the call was cancelled.", duration_s=took)
            if exc.code == types.CONNECTION_CLOSED:
                slot.fail(self._reason(slot, exc))
                return failure(slot.reason or "", duration_s=took)
            return failure(f'The MCP server "{server}" answered the call of "{tool}" with an error: '
                           f"{plain_line(exc.error.message, 2000)}", duration_s=took)
        except pydantic.ValidationError:
            return failure(f'The MCP server "{server}" returned a result for "{tool}" that does not follow '
                           "the MCP protocol.", duration_s=time.monotonic() - started)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, httpx2.HTTPError, OSError) as exc:
            slot.fail(f'The MCP server "{server}" could not be reached during the call: '
                      f"{plain_line(str(exc)) or type(exc).__name__}.")
            return failure(slot.reason or "", duration_s=time.monotonic() - started)
        return result_from_call(result, duration_s=time.monotonic() - started)

    # ----------------------------------------------------------------- stopping

    async def stop(self, name: str, *, grace: float = 10.0) -> None:
        """Stop one server (a graceful close, then cancellation after ``grace`` seconds)."""
        await self._stop_slots([self._slot(name)], grace)

    async def restart(self, name: str) -> ServerState:
        """Stop ``name`` if it runs, forget its failure, and start it again."""
        slot = self._slot(name)
        if slot.config is None:
            return slot.state()
        await self._stop_slots([slot], 10.0)
        slot.status, slot.reason, slot.tools, slot.task = STOPPED, None, (), None
        if slot.config.disabled:
            slot.status = DISABLED
            return slot.state()
        return await self.start(name)

    async def aclose(self, *, grace: float = 10.0) -> None:
        """Shut every server down: close stdin / end the HTTP session, kill what lingers."""
        await self._stop_slots(list(self._slots.values()), grace)

    @staticmethod
    async def _stop_slots(slots: list[_Slot], grace: float) -> None:
        tasks = [slot.task for slot in slots if slot.task is not None and not slot.task.done()]
        for slot in slots:
            if slot.stop is not None:
                slot.stop.set()
            if slot.status == STARTING and slot.scope is not None:
                slot.scope.cancel()
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=grace)
        for slot in slots:
            if slot.task in pending and slot.scope is not None:
                slot.scope.cancel()
        if pending:
            await asyncio.wait(pending, timeout=5.0)
