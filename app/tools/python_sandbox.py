"""The python tool: model-written code runs in a separate, limited process per call.

Never in Ponder's process. Each call gets a fresh temporary folder (removed afterwards) as
its working directory, an environment built from an allow-list (no API keys, no
``PONDER_*``, the real home folder not even named), an interpreter started as
``python -I -S -X utf8`` (no user site, no site-packages, no ``PYTHONPATH``: the standard
library only), and limits on CPU time, address space, file size, open files and processes
(rlimits), on wall-clock time and on output (capped as it arrives, not after). On Linux
the child also moves into new user, mount, network and pid namespaces when the kernel
allows it: no network at all, the home folder and the desktop session's sockets hidden,
every file system read-only but its own folder, other programs' memory and environment
out of reach, and every process the code starts dies with it. What was actually enforced
is reported per run (:attr:`PythonResult.enforced`) and per machine
(:mod:`app.tools.sandbox_reach`), never assumed. See sandbox_child.py for the child side.

The result is like a notebook cell's: stdout, stderr, the repr of the last expression's
value, and on error the last traceback line. :func:`run_python` is async (asyncio) and
cancellable at once — cancelling kills the child's whole process group;
:func:`run_python_sync` wraps it for code without a running loop (the CLI).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from app.tools.sandbox_results import DEFAULT_LIMITS, Enforcement, PythonResult, SandboxLimits
from app.tools.sandbox_session import (
    SandboxUnavailableError,
    child_environment,
    find_interpreter,
    prepare_session,
    read_json,
    remove_session,
)

__all__ = ["DEFAULT_LIMITS", "Enforcement", "PythonResult", "SandboxLimits", "SandboxUnavailableError",
           "probe_setup", "run_python", "run_python_sync"]

# After the output cap, output is still read (and dropped) up to this many bytes per stream
# (one big print still ends normally); code that keeps printing past that is stopped
# rather than left burning CPU.
FLOOD_BYTES = 16 * 1024 * 1024


class _CappedText:
    """Bytes of one stream, kept up to ``cap`` as they arrive; the rest only counted."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.kept = bytearray()
        self.total = 0

    def add(self, data: bytes) -> None:
        room = self.cap - len(self.kept)
        if room > 0:
            self.kept += data[:room]
        self.total += len(data)

    @property
    def truncated(self) -> bool:
        return self.total > self.cap

    def text(self) -> str:
        return self.kept.decode("utf-8", errors="replace")


class _ChildProtocol(asyncio.SubprocessProtocol):
    """Collects stdout/stderr with caps and tells when the process exited."""

    def __init__(self, loop: asyncio.AbstractEventLoop, cap: int, on_flood) -> None:
        self.streams = {1: _CappedText(cap), 2: _CappedText(cap)}
        self.exited = loop.create_future()
        self.closed = loop.create_future()
        self._open_pipes = {1, 2}
        self._flood_limit = max(cap, FLOOD_BYTES)
        self._on_flood = on_flood
        self.flooded = False
        self.transport: asyncio.SubprocessTransport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        stream = self.streams.get(fd)
        if stream is None:
            return
        stream.add(data)
        if stream.total > self._flood_limit and not self.flooded:
            self.flooded = True
            self._on_flood(self)

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        self._open_pipes.discard(fd)
        if not self._open_pipes and not self.closed.done():
            self.closed.set_result(None)

    def process_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)


def _kill_group(transport: asyncio.SubprocessTransport) -> None:
    """SIGKILL the child's process group (it leads its own session); idempotent."""
    pid = transport.get_pid()
    if pid is None:
        return
    if sys.platform == "win32":
        try:
            transport.kill()
        except ProcessLookupError:
            pass
        return
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


async def _spawn(python: str, session: Path, cap: int, on_flood) -> tuple[asyncio.SubprocessTransport,
                                                                        _ChildProtocol]:
    loop = asyncio.get_running_loop()
    argv = [python, "-I", "-S", "-X", "utf8", str(session / "runner.py"), str(session)]
    extra: dict = {"start_new_session": True} if sys.platform != "win32" else {
        "creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}
    return await loop.subprocess_exec(
        lambda: _ChildProtocol(loop, cap, on_flood), *argv,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        cwd=str(session / "work"), env=child_environment(session), close_fds=True, **extra,
    )


_SIGNAL_STOPS = {getattr(signal, "SIGXCPU", -1): "cpu"}
_MEMORY_SIGNALS = {getattr(signal, "SIGSEGV", -1), getattr(signal, "SIGABRT", -1), getattr(signal, "SIGBUS", -1)}


def _explain(stopped: str | None, limits: SandboxLimits, signum: int | None) -> str | None:
    if stopped == "cpu":
        return f"Stopped: the code used up its {limits.cpu_s} s of CPU time."
    if stopped == "wall":
        return f"Stopped: the code ran longer than {limits.wall_s:g} s."
    if stopped == "output":
        return (f"Stopped: the code kept printing far past the output limit "
                f"({limits.output_bytes:,} bytes per stream).")
    if stopped == "memory":
        return f"MemoryError: the code reached its memory limit of {limits.memory_mb} MB."
    if stopped == "signal" and signum is not None:
        try:
            name = signal.Signals(signum).name
        except ValueError:
            name = f"signal {signum}"
        hint = " (it may have run out of its memory limit)" if signum in _MEMORY_SIGNALS else ""
        return f"The process was killed by {name}{hint}."
    return None


async def _supervise(python: str, session: Path, limits: SandboxLimits) -> tuple[
        asyncio.SubprocessTransport, _ChildProtocol, str | None]:
    """Run the child to its end, or kill it at a limit (or when cancelled)."""
    stop_reason: list[str] = []

    def flood(protocol: _ChildProtocol) -> None:
        stop_reason.append("output")
        if protocol.transport is not None:
            _kill_group(protocol.transport)

    transport, protocol = await _spawn(python, session, limits.output_bytes, flood)
    try:
        try:
            await asyncio.wait_for(asyncio.shield(protocol.exited), timeout=limits.wall_s)
        except asyncio.TimeoutError:
            stop_reason.append("wall")
        # Whatever is left of the group (code started without a pid namespace) goes too.
        _kill_group(transport)
        try:
            await asyncio.wait_for(asyncio.shield(protocol.closed), timeout=1.0)
        except asyncio.TimeoutError:
            pass  # a process outside the group still holds a pipe: keep what arrived
    finally:
        _kill_group(transport)
        try:  # also when cancelled: SIGKILL is quick, and the folder is removed after
            await asyncio.wait_for(asyncio.shield(protocol.exited), timeout=2.0)
        except asyncio.TimeoutError:
            pass
        finally:
            transport.close()
    return transport, protocol, (stop_reason[0] if stop_reason else None)


def _result(session: Path, limits: SandboxLimits, returncode: int | None, protocol: _ChildProtocol,
            stopped: str | None, duration: float) -> PythonResult:
    """The result from the child's records, its exit status and what Ponder stopped."""
    setup = read_json(session / "setup.json")
    record = read_json(session / "result.json") or {}
    status = read_json(session / "status.json") or {}
    signum = status.get("signal") if isinstance(status.get("signal"), int) else None
    if signum is None and isinstance(returncode, int) and returncode < 0:
        signum = -returncode
    error = record.get("error") if isinstance(record.get("error"), str) else None
    if stopped is None and signum is not None:
        stopped = _SIGNAL_STOPS.get(signum, "signal")
    if stopped is None and error is not None and error.startswith("MemoryError"):
        stopped = "memory"
    if stopped is not None:
        error = _explain(stopped, limits, signum) or error
    elif not record and returncode not in (0, None):
        error = f"The process ended with exit code {returncode} before reporting a result."
    value = record.get("value") if isinstance(record.get("value"), str) and stopped is None else None
    out, err = protocol.streams[1], protocol.streams[2]
    return PythonResult(
        stdout=out.text(), stderr=err.text(), value=value, error=error, stopped=stopped,
        exit_code=returncode, duration_s=duration, stdout_truncated=out.truncated,
        stderr_truncated=err.truncated, enforced=Enforcement.from_setup(setup) if setup else None,
    )


async def _run_child(python: str, session: Path, limits: SandboxLimits) -> PythonResult:
    started = time.monotonic()
    transport, protocol, stopped = await _supervise(python, session, limits)
    return _result(session, limits, transport.get_returncode(), protocol, stopped, time.monotonic() - started)


async def run_python(code: str, limits: SandboxLimits = DEFAULT_LIMITS, *, isolate: bool = True) -> PythonResult:
    """Run ``code`` in a fresh limited child process and return what it produced.

    Cancelling the awaiting task kills the child's process group at once and removes the
    session folder before the cancellation propagates. ``isolate=False`` skips the
    namespaces (for the probe's comparison and tests); limits always apply.
    """
    python = find_interpreter()
    session = prepare_session(code, limits, probe=False, isolate=isolate, python=python)
    try:
        return await _run_child(python, session, limits)
    finally:
        await remove_session(session)


def run_python_sync(code: str, limits: SandboxLimits = DEFAULT_LIMITS) -> PythonResult:
    """:func:`run_python` for callers without a running event loop (the CLI)."""
    return asyncio.run(run_python(code, limits))


async def probe_setup(limits: SandboxLimits = DEFAULT_LIMITS) -> Enforcement:
    """Start a child that only sets itself up, and read back what took effect."""
    python = find_interpreter()
    session = prepare_session("", limits, probe=True, isolate=True, python=python)
    try:
        await _run_child(python, session, limits)
        setup = read_json(session / "setup.json")
    finally:
        await remove_session(session)
    if setup is None:
        raise SandboxUnavailableError(
            f"The python tool could not start its interpreter ({python}); check that it runs."
        )
    return Enforcement.from_setup(setup)
