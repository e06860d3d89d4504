"""mcp.json: the MCP servers a user configured, in the Claude Desktop / Cursor / LM Studio format.

```json
{"mcpServers": {
  "files":  {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/home/me"],
             "env": {"LOG": "${LOG_LEVEL:-info}"}},
  "search": {"url": "https://example.org/mcp", "headers": {"Authorization": "Bearer ${SEARCH_TOKEN}"}}
}}
```

A server with ``command`` runs over stdio; one with ``url`` over streamable HTTP. Also
understood, because pasted configs carry them: ``type`` (``stdio``, ``http``,
``streamable-http``, ``streamableHttp``; ``sse`` is refused with a sentence), ``cwd``,
``disabled``; other keys are ignored. ``"servers"`` (VS Code's name) works like
``"mcpServers"``.

A file that is not JSON, or whose top level is wrong, is a :class:`ConfigError` with the
line, like models.toml errors. A bad *entry* only disables that server: it is kept in
:attr:`McpConfig.problems` with its line, and the other servers still work.

``${NAME}`` (also ``${env:NAME}`` and ``${NAME:-default}``) in header values, ``env``
values, ``args`` and ``url`` is expanded when the server starts (:func:`expand`), so a
secret never has to be written into the file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from app import paths
from app.domain.config import read_config_text
from app.errors import ConfigError

SOURCE = "mcp.json"
STDIO_TYPES = ("stdio",)
HTTP_TYPES = ("http", "streamable-http", "streamable_http", "streamableHttp", "streamablehttp")
_VARIABLE = re.compile(r"\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

Lookup = Callable[[str], "str | None"]


@dataclass(frozen=True)
class ServerConfig:
    """One server entry. ``transport`` is ``"stdio"`` (``command``/``args``/``env``/``cwd``)
    or ``"http"`` (``url``/``headers``); values are as written, before ``${}`` expansion."""

    name: str
    transport: str
    command: str = ""
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    disabled: bool = False
    line: int | None = None


@dataclass(frozen=True)
class McpConfig:
    """The servers of mcp.json in file order, and the entries that could not be used."""

    servers: tuple[ServerConfig, ...] = ()
    problems: Mapping[str, ConfigError] = field(default_factory=dict)
    path: Path | None = None
    order: tuple[str, ...] = ()

    def names(self) -> list[str]:
        """Every server name in file order, the unusable ones included."""
        return list(self.order) or [s.name for s in self.servers] + list(self.problems)


class UnsetVariableError(ConfigError):
    """A ``${NAME}`` in mcp.json names a variable that is not set (and has no default)."""


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """The 1-based line of every object key in a JSON text, by its key path.

    The standard json module keeps no positions; this small scanner walks the text once
    (strings with escapes, nesting) so that messages can name the line of an entry.
    """
    lines: dict[tuple[str, ...], int] = {}
    stack: list[list] = []  # per open container: [is_object, current key or None]
    i, line, n = 0, 1, len(text)
    while i < n:
        ch = text[i]
        if ch == "\n":
            line += 1
        elif ch == '"':
            start_line, j, chars = line, i + 1, []
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n:
                    chars.append(text[j:j + 2])
                    j += 2
                    continue
                if text[j] == "\n":
                    line += 1
                chars.append(text[j])
                j += 1
            k = j + 1
            while k < n and text[k] in " \t\r\n":
                k += 1
            if k < n and text[k] == ":" and stack and stack[-1][0]:
                try:
                    key = json.loads('"' + "".join(chars) + '"')
                except ValueError:
                    key = "".join(chars)
                stack[-1][1] = key
                path = tuple(frame[1] for frame in stack if frame[1] is not None)
                lines.setdefault(path, start_line)
            i = j
        elif ch in "{[":
            stack.append([ch == "{", None])
        elif ch in "}]":
            if stack:
                stack.pop()
        i += 1
    return lines


def _string_map(value, what: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValueError(f'"{what}" must be an object of names and strings')
    out = {}
    for key, item in value.items():
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise ValueError(f'"{what}" value of "{key}" must be a string')
        out[str(key)] = str(item)
    return out


def _server(name: str, entry) -> ServerConfig:
    """One entry; raises ValueError with the detail (the caller adds name and line)."""
    if not isinstance(entry, dict):
        raise ValueError("must be an object with \"command\" (a local server) or \"url\" (a remote one)")
    kind = entry.get("type", entry.get("transport"))
    if kind is not None and not isinstance(kind, str):
        raise ValueError('"type" must be a string')
    if kind == "sse":
        raise ValueError('uses the SSE transport, which Ponder does not support: '
                         'use the server\'s streamable HTTP address ("type": "http"), or run it over stdio')
    if kind is not None and kind not in STDIO_TYPES + HTTP_TYPES:
        raise ValueError(f'has "type": {json.dumps(kind)}; use "stdio" or "http"')
    command, url = entry.get("command"), entry.get("url", entry.get("serverUrl"))
    if command is not None and url is not None:
        raise ValueError('has both "command" and "url"; keep one')
    disabled = entry.get("disabled", False)
    if not isinstance(disabled, bool):
        raise ValueError('"disabled" must be true or false')
    if url is not None or kind in HTTP_TYPES:
        if not isinstance(url, str) or not re.match(r"https?://", url.strip(), re.IGNORECASE):
            raise ValueError('"url" must be an http:// or https:// address')
        return ServerConfig(name, "http", url=url.strip(),
                            headers=_string_map(entry.get("headers", {}), "headers"), disabled=disabled)
    if not isinstance(command, str) or not command.strip():
        raise ValueError('needs "command" (the program that starts a local server) or "url" (a remote server)')
    args = entry.get("args", [])
    if not isinstance(args, list) or not all(isinstance(a, (str, int, float)) and not isinstance(a, bool)
                                             for a in args):
        raise ValueError('"args" must be a list of strings')
    cwd = entry.get("cwd")
    if cwd is not None and not isinstance(cwd, str):
        raise ValueError('"cwd" must be a string')
    return ServerConfig(name, "stdio", command=command.strip(), args=tuple(str(a) for a in args),
                        env=_string_map(entry.get("env", {}) or {}, "env"), cwd=cwd or None, disabled=disabled)


def parse_mcp_json(text: str, *, path: Path | None = None) -> McpConfig:
    """Parse mcp.json text. ConfigError (with the line) for a file that is not usable at all."""
    source = str(path) if path else SOURCE
    try:
        data = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        raise ConfigError(f"JSON syntax error: {exc.msg} (column {exc.colno}). Fix the line; "
                          "the file should look like {\"mcpServers\": {\"name\": {\"command\": ...}}}.",
                          source=source, path=path, line=exc.lineno) from exc
    lines = key_lines(text)
    if not isinstance(data, dict):
        raise ConfigError('must be a JSON object like {"mcpServers": {...}}.', source=source, path=path, line=1)
    top = "mcpServers" if "mcpServers" in data or "servers" not in data else "servers"
    servers = data.get(top, {})
    if not isinstance(servers, dict):
        raise ConfigError(f'"{top}" must be an object that maps server names to their settings.',
                          source=source, path=path, line=lines.get((top,)))
    usable: list[ServerConfig] = []
    problems: dict[str, ConfigError] = {}
    for name, entry in servers.items():
        line = lines.get((top, name))
        try:
            server = _server(name, entry)
        except ValueError as exc:
            problems[name] = ConfigError(f'server "{name}" {exc}.', source=source, path=path, line=line,
                                         key=name)
            continue
        usable.append(ServerConfig(**{**server.__dict__, "line": line}))
    return McpConfig(servers=tuple(usable), problems=problems, path=path, order=tuple(servers))


def load_mcp_config(path: Path | None = None) -> McpConfig:
    """The user's mcp.json (default: in the config folder); no file means no servers."""
    path = paths.mcp_json() if path is None else path
    if not path.exists():
        return McpConfig(path=path)
    return parse_mcp_json(read_config_text(path, str(path)), path=path)


def expand(value: str, lookup: Lookup, *, server: str, where: str) -> str:
    """``value`` with each ``${NAME}`` replaced by ``lookup(NAME)``.

    ``${NAME:-default}`` falls back to the default; a variable that is unset without
    one is an :class:`UnsetVariableError` naming it (never its value).
    """
    def replace(match: re.Match) -> str:
        name, default = match.group(1), match.group(2)
        found = lookup(name)
        if found is not None and found != "":
            return found
        if default is not None:
            return default
        raise UnsetVariableError(
            f'server "{server}": {where} uses ${{{name}}}, which is not set. Set the environment '
            f"variable {name} before starting Ponder, or write the value into mcp.json.",
            source=SOURCE, key=name,
        )

    return _VARIABLE.sub(replace, value)
