"""MCP servers from mcp.json, against a real server written with the SDK (tests/tools/mcp_test_server.py)."""

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app import paths
from app.errors import ConfigError
from app.tools.mcp_servers import FAILED, RUNNING, STOPPED, McpManager, McpServerError

SERVER = str(Path(__file__).with_name("mcp_test_server.py"))


def stdio(mode: str = "stdio", **extra) -> dict:
    return {"command": sys.executable, "args": [SERVER, mode], **extra}


def write_mcp_json(servers: dict) -> Path:
    path = paths.mcp_json()
    path.write_text(json.dumps({"mcpServers": servers}, indent=2))
    return path


def run(scenario):
    return asyncio.run(asyncio.wait_for(scenario(), timeout=120))


def test_a_stdio_server_lists_its_tools_with_their_schemas():
    write_mcp_json({"test": stdio()})

    async def scenario():
        async with McpManager.from_file() as manager:
            assert manager.state("test").status == STOPPED  # lazy: nothing started yet
            tools = {tool.name: tool for tool in await manager.list_tools("test")}
            return tools, manager.state("test")

    tools, state = run(scenario)
    assert {"add", "divide", "sleepy", "environment", "picture"} <= set(tools)
    add = tools["add"].as_dict()
    assert add["description"] == "Add two integers."
    assert add["parameters"]["properties"]["a"]["type"] == "integer"
    assert add["parameters"]["required"] == ["a", "b"]
    assert state.status == RUNNING and state.transport == "stdio" and state.reason is None
    assert add in state.tool_dicts()


def test_calling_tools_gives_text_and_the_error_flag():
    write_mcp_json({"test": stdio()})

    async def scenario():
        async with McpManager.from_file() as manager:
            return (await manager.call_tool("test", "add", {"a": 2, "b": 40}),
                    await manager.call_tool("test", "divide", {"a": 1, "b": 0}),
                    await manager.call_tool("test", "add", {"a": "two"}),
                    await manager.call_tool("test", "no_such_tool", {}),
                    await manager.call_tool("test", "picture", {}))

    added, divided, invalid, unknown, picture = run(scenario)
    assert (added.text, added.is_error, added.structured) == ("42", False, {"result": 42})
    assert divided.is_error and "cannot divide by zero" in divided.text
    assert invalid.is_error and "validation error" in invalid.text  # the model can read what was wrong
    assert unknown.is_error and unknown.text.startswith('The MCP server "test" has no tool "no_such_tool". Its tools:')
    assert picture.text == "[image: image/png, 66 bytes; not shown to the model]" and not picture.is_error


def test_a_call_past_its_timeout_is_an_error_result_and_the_server_goes_on():
    write_mcp_json({"test": stdio()})

    async def scenario():
        async with McpManager.from_file(call_timeout=30) as manager:
            await manager.start("test")
            started = time.monotonic()
            slow = await manager.call_tool("test", "sleepy", {"seconds": 60}, timeout=1.0)
            took = time.monotonic() - started
            after = await manager.call_tool("test", "add", {"a": 1, "b": 1})
            return slow, took, after

    slow, took, after = run(scenario)
    assert slow.is_error
    assert slow.text == 'The tool "sleepy" of MCP server "test" did not answer within 1 s; the call was cancelled.'
    assert 0.9 <= took < 10
    assert after.text == "2" and not after.is_error


def test_cancelling_a_call_stops_waiting_at_once():
    write_mcp_json({"test": stdio()})

    async def scenario():
        async with McpManager.from_file() as manager:
            await manager.start("test")
            call = asyncio.ensure_future(manager.call_tool("test", "sleepy", {"seconds": 60}))
            await asyncio.sleep(0.3)
            cancelled_at = time.monotonic()
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            latency = time.monotonic() - cancelled_at
            return latency, await manager.call_tool("test", "add", {"a": 3, "b": 4})

    latency, after = run(scenario)
    assert latency < 2.0
    assert after.text == "7"


def test_a_server_that_crashes_at_start_says_why_and_the_others_still_work():
    write_mcp_json({"crashy": stdio("crash"), "test": stdio()})

    async def scenario():
        async with McpManager.from_file() as manager:
            states = {state.name: state for state in await manager.start_all()}
            call = await manager.call_tool("crashy", "add", {"a": 1, "b": 2})
            works = await manager.call_tool("test", "add", {"a": 1, "b": 2})
            with pytest.raises(McpServerError) as listing:
                await manager.list_tools("crashy")
            return states, call, works, listing.value

    states, call, works, listing_error = run(scenario)
    crashy = states["crashy"]
    assert crashy.status == FAILED and crashy.tools == ()
    assert crashy.reason == ('The MCP server "crashy" exited while starting: '
                             '"RuntimeError: the database file /nonexistent/db is missing".')
    assert call.is_error and call.text == crashy.reason
    assert str(listing_error) == crashy.reason
    assert states["test"].status == RUNNING and works.text == "3"


def test_a_server_that_never_answers_the_handshake_times_out_with_a_sentence():
    write_mcp_json({"hangy": stdio("hang"), "test": stdio()})

    async def scenario():
        async with McpManager.from_file(start_timeout=2.0) as manager:
            started = time.monotonic()
            states = {state.name: state for state in await manager.start_all()}
            return states, time.monotonic() - started

    states, took = run(scenario)
    assert states["hangy"].status == FAILED
    assert states["hangy"].reason == (
        'The MCP server "hangy" did not answer the initialize handshake within 2 s and was stopped. '
        'Its last words on stderr: "loading a very large model..."')
    assert states["test"].status == RUNNING
    assert took < 20  # the timeout, then the SDK's bounded shutdown of the silent process


def test_an_unknown_command_and_a_bad_entry_are_sentences():
    path = write_mcp_json({"missing": {"command": "ponder-no-such-server", "args": []},
                           "broken": {"args": ["--only-args"]}, "test": stdio()})

    async def scenario():
        async with McpManager.from_file() as manager:
            assert manager.state("broken").status == FAILED  # known before anything starts
            return {state.name: state for state in await manager.start_all()}

    states = run(scenario)
    assert states["missing"].reason == (
        'The MCP server "missing" cannot start: the command "ponder-no-such-server" was not found. '
        'Install it, or give its full path as "command" in mcp.json.')
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if '"broken"' in text)
    assert states["broken"].reason.startswith(f'{path} line {line}: server "broken" needs "command"')
    assert states["test"].status == RUNNING


def test_a_file_that_is_not_json_is_a_config_error_with_the_line():
    paths.mcp_json().write_text('{"mcpServers": {\n  "a": {"command": "x"}\n  "b": {}\n}}')
    with pytest.raises(ConfigError) as caught:
        McpManager.from_file()
    assert caught.value.line == 3 and "JSON syntax error" in str(caught.value)


def test_the_server_gets_a_safe_environment_plus_its_own_expanded_env(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fake-0123456789")
    monkeypatch.setenv("PONDER_SECRET_SETTING", "x")
    monkeypatch.setenv("GREETING_SOURCE", "hello from the environment")
    write_mcp_json({"test": stdio(env={"GREETING": "${GREETING_SOURCE}", "LEVEL": "${LEVEL:-info}"})})
    names = ["GREETING", "LEVEL", "OPENAI_API_KEY", "PONDER_HOME", "PONDER_SECRET_SETTING", "PATH"]

    async def scenario():
        async with McpManager.from_file() as manager:
            return await manager.call_tool("test", "environment", {"names": names})

    seen = run(scenario).structured
    assert seen["GREETING"] == "hello from the environment" and seen["LEVEL"] == "info"
    assert seen["OPENAI_API_KEY"] is None and seen["PONDER_HOME"] is None and seen["PONDER_SECRET_SETTING"] is None
    assert seen["PATH"]  # the safe subset: the server can still find its programs


def test_an_unset_variable_fails_that_server_only():
    write_mcp_json({"needs": stdio(env={"TOKEN": "${PONDER_TEST_UNSET_TOKEN}"}), "test": stdio()})

    async def scenario():
        async with McpManager.from_file() as manager:
            return {state.name: state for state in await manager.start_all()}

    states = run(scenario)
    assert states["needs"].status == FAILED
    assert 'uses ${PONDER_TEST_UNSET_TOKEN}, which is not set' in states["needs"].reason
    assert states["test"].status == RUNNING


def test_shutdown_ends_the_server_processes():
    write_mcp_json({"test": stdio()})

    async def scenario():
        manager = McpManager.from_file()
        pid = int((await manager.call_tool("test", "pid", {})).text)
        started = time.monotonic()
        await manager.aclose()
        return pid, time.monotonic() - started, manager.state("test")

    pid, took, state = run(scenario)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert took < 10 and state.status == STOPPED


def test_a_server_that_dies_mid_session_is_marked_failed():
    write_mcp_json({"test": stdio()})

    async def scenario():
        async with McpManager.from_file(call_timeout=10) as manager:
            died = await manager.call_tool("test", "exit_now", {})
            after = await manager.call_tool("test", "add", {"a": 1, "b": 1})
            return died, after, manager.state("test")

    died, after, state = run(scenario)
    assert died.is_error and state.status == FAILED
    assert state.reason.startswith('The MCP server "test" closed the connection')
    assert after.is_error and after.text == state.reason


def test_a_disabled_server_does_not_start_and_restart_recovers_a_failed_one(tmp_path):
    flag = tmp_path / "ready"
    write_mcp_json({"off": stdio(disabled=True), "flaky": {
        "command": sys.executable,
        "args": ["-c", f"import os, runpy, sys\nif not os.path.exists({str(flag)!r}): sys.exit('not ready yet')\n"
                       f"sys.argv = [{SERVER!r}, 'stdio']\nrunpy.run_path({SERVER!r}, run_name='__main__')"]}})

    async def scenario():
        async with McpManager.from_file() as manager:
            first = await manager.start("flaky")
            flag.write_text("ok")
            second = await manager.restart("flaky")
            return manager.state("off"), first, second

    off, first, second = run(scenario)
    assert off.status == "disabled"
    assert first.status == FAILED and first.reason.endswith(': "not ready yet".')
    assert second.status == RUNNING and second.tools


@pytest.fixture
def http_server():
    """The test server over streamable HTTP on 127.0.0.1; yields its port (token "s3cret")."""
    process = subprocess.Popen([sys.executable, SERVER, "http", "s3cret"], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    try:
        yield int(process.stdout.readline())
    finally:
        process.terminate()
        process.wait(10)


def test_a_streamable_http_server_with_an_expanded_header(http_server, monkeypatch):
    monkeypatch.setenv("TEST_MCP_TOKEN", "s3cret")
    url = f"http://127.0.0.1:{http_server}/mcp"
    write_mcp_json({
        "web": {"url": url, "headers": {"Authorization": "Bearer ${TEST_MCP_TOKEN}"}},
        "wrong": {"url": url, "headers": {"Authorization": "Bearer not-the-token"}},
        "down": {"url": "http://127.0.0.1:9/mcp"},
    })

    async def scenario():
        async with McpManager.from_file(call_timeout=30) as manager:
            states = {state.name: state for state in await manager.start_all()}
            added = await manager.call_tool("web", "add", {"a": 20, "b": 22})
            slow = await manager.call_tool("web", "sleepy", {"seconds": 60}, timeout=1.0)
            failed = await manager.call_tool("web", "divide", {"a": 1, "b": 0})
            return states, added, slow, failed

    states, added, slow, failed = run(scenario)
    assert states["web"].status == RUNNING and states["web"].transport == "http"
    assert "add" in {tool.name for tool in states["web"].tools}
    assert added.text == "42" and not added.is_error
    assert slow.is_error and "did not answer within 1 s" in slow.text
    assert failed.is_error and "cannot divide by zero" in failed.text
    assert states["wrong"].reason == ('The MCP server "wrong" refused the connection (HTTP 401 Unauthorized): '
                                      'check its "headers" in mcp.json; a token may be wrong or expired.')
    assert "not-the-token" not in states["wrong"].reason
    assert states["down"].status == FAILED
    assert states["down"].reason.startswith('The MCP server "down" at http://127.0.0.1:9/mcp cannot be reached:')


def test_the_manager_runs_on_the_qt_event_loop(qapp):
    """The window runs everything on qasync's loop: a server starts and answers there too."""
    import qasync

    write_mcp_json({"test": stdio()})

    async def scenario():
        async with McpManager.from_file() as manager:
            return await manager.call_tool("test", "add", {"a": 5, "b": 6})

    loop = qasync.QEventLoop(qapp)
    try:
        result = loop.run_until_complete(asyncio.wait_for(scenario(), timeout=60))
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    assert result.text == "11"


def test_a_server_killed_from_outside_is_marked_failed_without_a_call():
    import signal

    write_mcp_json({"test": stdio()})

    async def scenario():
        async with McpManager.from_file() as manager:
            pid = int((await manager.call_tool("test", "pid", {})).text)
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while manager.state("test").status == RUNNING and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            return manager.state("test")

    state = run(scenario)
    assert state.status == FAILED
    assert state.reason.startswith('The MCP server "test" closed the connection')
