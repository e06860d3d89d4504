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
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from app.errors import PonderError

CHILD_SCRIPT = Path(__file__).with_name("sandbox_child.py")
SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"
# After the output cap, output is still read (and dropped) up to this many bytes per stream
# (one big print still ends normally); code that keeps printing past that is stopped
# rather than left burning CPU.
FLOOD_BYTES = 16 * 1024 * 1024


class SandboxUnavailableError(PonderError):
    """The python tool cannot run here (no Python interpreter to start, no runner file)."""


@dataclass(frozen=True)
class SandboxLimits:
    """Limits of one python call. ``output_bytes`` applies to stdout and stderr each."""

    cpu_s: int = 10
    memory_mb: int = 512
    wall_s: float = 30.0
    output_bytes: int = 64 * 1024
    file_mb: int = 64
    open_files: int = 256
    processes: int = 64
    value_chars: int = 10_000


DEFAULT_LIMITS = SandboxLimits()


@dataclass(frozen=True)
class Enforcement:
    """What the platform actually enforced for a run (read back from the child).

    ``rlimits`` names the kernel limits that took effect (``cpu_s``, ``memory_bytes``,
    ``file_bytes``, ``open_files``, and ``processes`` — checked by a test fork, since the
    kernel ignores it for root); ``network_isolated``: the code saw no network interface
    but loopback; ``process_tree``: a private pid namespace, so nothing the code starts
    outlives it; ``user_namespace``: other programs' memory and environment (Ponder's
    included) are out of its reach; ``hidden``: folders it saw empty (the home folder, the
    desktop session's sockets); ``files_readonly``: every file system was read-only to it
    but its own folder; ``private_proc``: /proc showed only its own processes; ``reason``
    says why isolation is missing when it is.
    """

    rlimits: tuple[str, ...]
    network_isolated: bool
    process_tree: bool
    reason: str = ""
    user_namespace: bool = False
    hidden: tuple[str, ...] = ()
    files_readonly: bool = False
    private_proc: bool = False

    @classmethod
    def from_setup(cls, setup: dict) -> Enforcement:
        """From the child's ``setup.json`` record."""
        hidden = setup.get("hidden") if isinstance(setup.get("hidden"), list) else []
        return cls(rlimits=tuple(sorted(setup.get("rlimits", {}))), network_isolated=bool(setup.get("net")),
                   process_tree=bool(setup.get("pid")), reason=str(setup.get("reason", "")),
                   user_namespace=bool(setup.get("user")), hidden=tuple(str(h) for h in hidden),
                   files_readonly=bool(setup.get("readonly")), private_proc=bool(setup.get("proc")))


@dataclass(frozen=True)
class PythonResult:
    """What one python call produced.

    ``value``: repr of the last expression (None when the cell does not end in one, or its
    value is None); ``error``: the last traceback line, or what stopped the code;
    ``stopped``: ``"cpu"``, ``"memory"``, ``"wall"``, ``"output"``, ``"signal"`` or None;
    ``enforced``: what this run really had (None if the child died before saying).
    """

    stdout: str
    stderr: str
    value: str | None
    error: str | None
    stopped: str | None
    exit_code: int | None
    duration_s: float
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    enforced: Enforcement | None = None

    @property
    def ok(self) -> bool:
        """True when the cell ran to the end without an error."""
        return self.error is None

    def as_text(self, limits: SandboxLimits = DEFAULT_LIMITS) -> str:
        """The result as the model reads it: labelled sections, truncation said aloud."""
        parts: list[str] = []
        for label, text, cut in (("stdout", self.stdout, self.stdout_truncated),
                                 ("stderr", self.stderr, self.stderr_truncated)):
            if text or cut:
                note = f"\n[{label} truncated at {limits.output_bytes:,} bytes]" if cut else ""
                parts.append(f"{label}:\n{text.rstrip(chr(10))}{note}")
        if self.value is not None:
            parts.append(f"value: {self.value}")
        if self.error is not None:
            parts.append(f"error: {self.error}")
        return "\n".join(parts) if parts else "(no output)"


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


def find_interpreter() -> str:
    """The Python to run code with: this one, or (in the packaged app) python3 on PATH."""
    if not getattr(sys, "frozen", False) and sys.executable:
        return sys.executable
    for name in ("python3", "python"):
        found = shutil.which(name)
        if found:
            return found
    raise SandboxUnavailableError(
        "The python tool needs a Python 3 interpreter and none was found on PATH. "
        "Install Python 3, or turn the python tool off."
    )


def child_environment(session: Path) -> dict[str, str]:
    """The child's whole environment, from an allow-list: nothing of Ponder's is copied."""
    home = str(session / "work")
    env = {"PATH": SAFE_PATH, "HOME": home, "TMPDIR": home, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    if sys.platform == "win32":
        env = {"PATH": os.environ.get("SystemRoot", r"C:\Windows"), "TEMP": home, "TMP": home,
               "USERPROFILE": home}
        for name in ("SystemRoot", "SystemDrive", "COMSPEC"):
            if name in os.environ:
                env[name] = os.environ[name]
    return env


def hidden_folders() -> list[str]:
    """Folders the code should not see: the home folder and the desktop session's sockets."""
    candidates = [os.path.expanduser("~"), os.environ.get("XDG_RUNTIME_DIR", ""),
                  f"/run/user/{os.getuid()}" if hasattr(os, "getuid") else "", "/tmp/.X11-unix"]
    found: list[str] = []
    for folder in candidates:
        if folder and os.path.isabs(folder) and os.path.realpath(folder) != "/" and folder not in found:
            found.append(folder)
    return found


def interpreter_folders(python: str) -> list[str]:
    """Folders the interpreter needs (its installation, the venv), to stay visible when hidden."""
    folders = [os.path.dirname(os.path.dirname(os.path.realpath(python)))]
    if os.path.realpath(python) == os.path.realpath(sys.executable):
        folders += [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
    return sorted({os.path.realpath(folder) for folder in folders if folder})


def _config(limits: SandboxLimits, *, probe: bool, isolate: bool, python: str) -> dict:
    return {
        "hide": hidden_folders(),
        "keep": interpreter_folders(python),
        "cpu_s": int(limits.cpu_s),
        "memory_bytes": int(limits.memory_mb) * 1024 * 1024,
        "file_bytes": int(limits.file_mb) * 1024 * 1024,
        "open_files": int(limits.open_files),
        "processes": int(limits.processes),
        "value_chars": int(limits.value_chars),
        "parent_pid": os.getpid(),
        "probe": probe,
        "isolate": isolate,
    }


def _prepare_session(code: str, limits: SandboxLimits, *, probe: bool, isolate: bool, python: str) -> Path:
    """A fresh private folder with the runner, the cell, its config and ``work/``."""
    if not CHILD_SCRIPT.is_file():
        raise SandboxUnavailableError(
            f"The python tool's runner {CHILD_SCRIPT.name} is missing from this installation; reinstall Ponder."
        )
    session = Path(tempfile.mkdtemp(prefix="ponder-python-"))
    try:
        (session / "work").mkdir()
        shutil.copyfile(CHILD_SCRIPT, session / "runner.py")
        (session / "cell.py").write_text(code, encoding="utf-8")
        (session / "config.json").write_text(json.dumps(_config(limits, probe=probe, isolate=isolate, python=python)),
                                             encoding="utf-8")
    except OSError:
        remove_tree(session)
        raise
    return session


def remove_tree(folder: Path) -> None:
    """Remove ``folder`` even where the code took write permission away from its files."""
    def make_writable_and_retry(function, path, _exc) -> None:
        parent = os.path.dirname(path)
        for target in (parent, path):
            try:
                os.chmod(target, stat.S_IRWXU)
            except OSError:
                pass
        try:
            function(path)
        except FileNotFoundError:
            pass
        except IsADirectoryError:
            shutil.rmtree(path, ignore_errors=True)

    if not folder.exists():
        return
    if sys.version_info >= (3, 12):
        shutil.rmtree(folder, onexc=make_writable_and_retry)
    else:
        shutil.rmtree(folder, onerror=make_writable_and_retry)


async def remove_session(folder: Path) -> None:
    """:func:`remove_tree` off the loop, retried while killed processes finish dying."""
    for attempt in range(5):
        try:
            await asyncio.to_thread(remove_tree, folder)
            return
        except OSError:
            if attempt == 4:
                raise
            await asyncio.sleep(0.05 * (attempt + 1))


def _read_json(path: Path) -> dict | None:
    """A record the child wrote; None when it is missing or not JSON (the code may meddle)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8", errors="replace")[:1_000_000])
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


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
    setup = _read_json(session / "setup.json")
    record = _read_json(session / "result.json") or {}
    status = _read_json(session / "status.json") or {}
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
    session = _prepare_session(code, limits, probe=False, isolate=isolate, python=python)
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
    session = _prepare_session("", limits, probe=True, isolate=True, python=python)
    try:
        await _run_child(python, session, limits)
        setup = _read_json(session / "setup.json")
    finally:
        await remove_session(session)
    if setup is None:
        raise SandboxUnavailableError(
            f"The python tool could not start its interpreter ({python}); check that it runs."
        )
    return Enforcement.from_setup(setup)
