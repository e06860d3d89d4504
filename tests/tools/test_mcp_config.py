"""mcp.json: the shared Claude Desktop / Cursor / LM Studio format, lines in messages, ${VAR}."""

import json

import pytest

from app import paths
from app.errors import ConfigError
from app.tools.mcp_config import (
    UnsetVariableError,
    expand,
    key_lines,
    load_mcp_config,
    parse_mcp_json,
)

# the example of interfaces.md, as a user would paste it
PASTED = """{"mcpServers": {
  "files": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/home/me/notes"], "env": {}},
  "search": {"url": "https://example.org/mcp", "headers": {"Authorization": "Bearer ${SEARCH_TOKEN}"}}
}}
"""


def test_the_shared_format_gives_a_stdio_and_an_http_server():
    config = parse_mcp_json(PASTED)
    files, search = config.servers
    assert (files.name, files.transport, files.command) == ("files", "stdio", "npx")
    assert files.args == ("-y", "@modelcontextprotocol/server-filesystem", "/home/me/notes")
    assert (search.transport, search.url) == ("http", "https://example.org/mcp")
    assert search.headers == {"Authorization": "Bearer ${SEARCH_TOKEN}"}  # expanded only at start
    assert (files.line, search.line) == (2, 3)
    assert config.names() == ["files", "search"] and not config.problems


def test_mcp_json_lives_in_the_config_folder(ponder_home):
    assert paths.mcp_json() == ponder_home / "config" / "mcp.json"
    assert load_mcp_config().servers == ()  # no file: no servers, no error
    paths.mcp_json().write_text(PASTED)
    assert [s.name for s in load_mcp_config().servers] == ["files", "search"]


def test_a_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "mcp.json"
    path.write_text('{"mcpServers": {\n  "a": {"command": "x"},\n  "b": {"command": "y",}\n}}\n')
    with pytest.raises(ConfigError) as caught:
        load_mcp_config(path)
    assert caught.value.line == 3
    assert str(caught.value).startswith(f"{path} line 3: JSON syntax error:")


def test_a_wrong_top_level_is_an_error_with_its_line():
    with pytest.raises(ConfigError) as caught:
        parse_mcp_json('{\n  "mcpServers": ["a", "b"]\n}')
    assert caught.value.line == 2 and "must be an object" in str(caught.value)
    with pytest.raises(ConfigError):
        parse_mcp_json("[1, 2]")


def test_a_bad_entry_fails_alone_with_its_line():
    text = json.dumps({"mcpServers": {
        "good": {"command": "srv"},
        "typo": {"comand": "srv"},
        "both": {"command": "srv", "url": "http://x"},
        "old": {"type": "sse", "url": "http://localhost:1/sse"},
        "args": {"command": "srv", "args": "--flag"},
        "ftp": {"url": "ftp://example.org"},
    }}, indent=2)
    config = parse_mcp_json(text)
    assert [s.name for s in config.servers] == ["good"]
    assert config.names() == ["good", "typo", "both", "old", "args", "ftp"]
    lines = text.splitlines()
    for name, problem in config.problems.items():
        assert f'"{name}"' in lines[problem.line - 1], name
        assert str(problem).startswith(f"mcp.json line {problem.line}: server \"{name}\" ")
    assert 'needs "command"' in str(config.problems["typo"])
    assert "SSE transport, which Ponder does not support" in str(config.problems["old"])
    assert '"args" must be a list of strings' in str(config.problems["args"])


def test_pasted_extras_are_understood_or_ignored():
    config = parse_mcp_json(json.dumps({"servers": {
        "remote": {"type": "http", "url": "http://127.0.0.1:9/mcp", "alwaysAllow": ["x"]},
        "off": {"command": "srv", "disabled": True, "cwd": "/tmp", "env": {"N": 3}},
    }}))
    remote, off = config.servers
    assert remote.transport == "http"
    assert off.disabled and off.cwd == "/tmp" and off.env == {"N": "3"}


def test_key_lines_follow_nesting_and_escapes():
    text = '{\n "a": {\n  "b\\"q": [1, {"c": 2}],\n  "d": "x:y"\n },\n "e": 1\n}'
    lines = key_lines(text)
    assert lines[("a",)] == 2 and lines[("a", 'b"q')] == 3 and lines[("a", "d")] == 4 and lines[("e",)] == 6
    assert ("x",) not in lines  # a value that contains a colon is no key


def test_expansion_of_variables():
    env = {"TOKEN": "t0k", "EMPTY": ""}.get
    assert expand("Bearer ${TOKEN}", env, server="s", where="w") == "Bearer t0k"
    assert expand("${env:TOKEN}/${TOKEN}", env, server="s", where="w") == "t0k/t0k"
    assert expand("${MISSING:-fallback} ${EMPTY:-e}", env, server="s", where="w") == "fallback e"
    assert expand("no $TOKEN braces", env, server="s", where="w") == "no $TOKEN braces"
    with pytest.raises(UnsetVariableError) as caught:
        expand("Bearer ${MISSING}", env, server="search", where='header "Authorization"')
    message = str(caught.value)
    assert 'server "search": header "Authorization" uses ${MISSING}, which is not set' in message
