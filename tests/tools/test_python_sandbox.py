"""The python tool's child process: results like a notebook cell, and limits that hold."""

import ast
import asyncio
import os
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

from app.tools.python_sandbox import SandboxLimits, run_python, run_python_sync
from app.tools.sandbox_reach import platform_enforcement_sync

QUICK = SandboxLimits(cpu_s=5, wall_s=60)


def run(code: str, limits: SandboxLimits = QUICK, **options):
    return asyncio.run(run_python(code, limits, **options))


def test_the_value_of_the_last_expression_is_the_result():
    result = run("x = 6\nprint('working', x)\nx * 7")
    assert result.ok and result.value == "42"
    assert result.stdout == "working 6\n"
    assert result.as_text() == "stdout:\nworking 6\nvalue: 42"


def test_a_cell_without_a_final_value_has_none():
    assert run("print('hi')").value is None  # print returns None
    assert run("y = 1").value is None
    assert run("'text'").value == "'text'"


def test_a_syntax_error_is_reported_with_its_line():
    result = run("x = 1\ndef f(:\n    pass")
    assert result.error == "SyntaxError: invalid syntax"
    assert 'File "<cell>", line 2' in result.stderr
    assert result.value is None and not result.ok


def test_an_exception_gives_its_last_traceback_line_and_a_clean_traceback():
    result = run("def f(d):\n    return 1 / d\nf(0)")
    assert result.error == "ZeroDivisionError: division by zero"
    assert "return 1 / d" in result.stderr  # the cell's source lines are shown
    assert "runner.py" not in result.stderr  # Ponder's own frames are not
    assert result.exit_code == 1


def test_a_runaway_loop_is_killed_at_the_cpu_limit():
    enforced = platform_enforcement_sync()
    if "cpu_s" not in enforced.rlimits:
        pytest.skip("this platform does not limit CPU time")
    started = time.monotonic()
    result = run("while True:\n    pass", SandboxLimits(cpu_s=1, wall_s=60))
    took = time.monotonic() - started
    assert result.stopped == "cpu"
    assert result.error == "Stopped: the code used up its 1 s of CPU time."
    assert 0.9 <= took < 30


def test_sleeping_code_is_stopped_at_the_wall_clock_limit():
    started = time.monotonic()
    result = run("import time\nprint('before', flush=True)\ntime.sleep(600)", SandboxLimits(wall_s=1.0))
    assert result.stopped == "wall"
    assert result.error == "Stopped: the code ran longer than 1 s."
    assert result.stdout == "before\n"  # what arrived before the kill is kept
    assert time.monotonic() - started < 15


def test_a_memory_hog_hits_the_memory_limit():
    enforced = platform_enforcement_sync()
    if "memory_bytes" not in enforced.rlimits:
        pytest.skip("this platform does not limit memory")
    result = run("chunks = []\nwhile True:\n    chunks.append(bytearray(10 * 1024 * 1024))",
                 SandboxLimits(memory_mb=200, wall_s=60))
    assert result.stopped == "memory"
    assert result.error == "MemoryError: the code reached its memory limit of 200 MB."
    # and a single big allocation fails at once instead of being granted
    single = run("block = bytearray(1024 ** 3)\nlen(block)", SandboxLimits(memory_mb=200))
    assert single.stopped == "memory" and single.value is None


def test_output_is_capped_as_it_arrives():
    result = run("import sys\nprint('x' * 100_000)\nsys.stderr.write('e' * 5000)\n'done'",
                 SandboxLimits(output_bytes=1000))
    assert len(result.stdout) == 1000 and result.stdout_truncated
    assert len(result.stderr) == 1000 and result.stderr_truncated
    assert result.value == "'done'" and result.ok  # one big print still ends normally
    assert "[stdout truncated at 1,000 bytes]" in result.as_text(SandboxLimits(output_bytes=1000))


def test_code_that_never_stops_printing_is_stopped_long_before_the_wall_clock():
    started = time.monotonic()
    result = run("while True:\n    print('y' * 1000)", SandboxLimits(output_bytes=1000, wall_s=120, cpu_s=120))
    assert result.stopped == "output"
    assert len(result.stdout) == 1000
    assert time.monotonic() - started < 60


def test_the_working_directory_is_fresh_and_removed_afterwards(tmp_path):
    code = (
        "import os\n"
        "before = sorted(os.listdir('.'))\n"
        "os.makedirs('locked/inner')\n"
        "open('locked/inner/data.txt', 'w').write('x')\n"
        "os.chmod('locked/inner', 0)\n"
        "os.chmod('locked', 0o500)\n"
        "(os.getcwd(), before)"
    )
    result = run(code)
    cwd, before = ast.literal_eval(result.value)
    assert before == []
    assert not Path(cwd).exists()
    assert not Path(cwd).parent.exists()  # the session folder with the runner and records too
    again = run("import os\nos.getcwd()")
    assert ast.literal_eval(again.value) != cwd


def test_no_environment_variable_of_ponders_leaks(monkeypatch, tmp_path):
    monkeypatch.setenv("PONDER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fake-0123456789")
    monkeypatch.setenv("PONDER_EXTRA", "ponder-extra-value")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    result = run("import os\ndict(os.environ)")
    env = ast.literal_eval(result.value)
    assert not [key for key in env if key.startswith("PONDER") or key.endswith("_KEY")]
    assert "sk-fake-0123456789" not in result.value and "ponder-extra-value" not in result.value
    assert set(env) <= {"PATH", "HOME", "TMPDIR", "LANG", "LC_ALL"}
    assert env["HOME"] != os.path.expanduser("~")


def test_the_interpreter_is_isolated_from_site_packages_and_pythonpath(monkeypatch, tmp_path):
    (tmp_path / "planted.py").write_text("VALUE = 1\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setenv("PYTHONSTARTUP", str(tmp_path / "planted.py"))
    result = run("import sys\n(sys.flags.isolated, sys.flags.no_site, sys.flags.ignore_environment)")
    assert result.value == "(1, 1, 1)"
    planted = run("import planted")
    assert planted.error == "ModuleNotFoundError: No module named 'planted'"
    installed = run("import pytest")  # installed in Ponder's environment, not offered to the code
    assert installed.error == "ModuleNotFoundError: No module named 'pytest'"


class _Listener:
    """A TCP server on 127.0.0.1 that counts the connections it accepts."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@pytest.fixture
def listener():
    server = _Listener()
    yield server
    server.close()


def connect_code(port: int) -> str:
    return (f"import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=5)\n"
            "s.close()\n'connected'")


def test_the_network_is_blocked_where_the_platform_allows_it(listener):
    enforced = platform_enforcement_sync()
    if not enforced.network_isolated:
        pytest.skip(f"no network namespace here: {enforced.reason}")
    blocked = run(connect_code(listener.port))
    assert blocked.value is None
    assert blocked.error.startswith("OSError: [Errno 101]")  # Network is unreachable
    assert blocked.enforced.network_isolated
    # the same code reaches the server without the namespace: the test can fail
    open_run = run(connect_code(listener.port), isolate=False)
    assert open_run.value == "'connected'" and listener.accepted == 1


@pytest.mark.skipif(not sys.platform.startswith("linux") or os.uname().machine not in ("x86_64", "aarch64"),
                    reason="the seccomp helper knows Linux on x86-64 and arm64")
def test_where_namespaces_are_refused_the_card_says_the_code_can_use_the_network(listener):
    """Fallback, measured: unshare fails (seccomp EPERM), the probe sees it, the card says it."""
    import json
    import subprocess

    helper = Path(__file__).with_name("no_namespaces.py")
    done = subprocess.run([sys.executable, str(helper), str(listener.port)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "NO_NAMESPACES_MARKER": "1"})
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert not report["network_isolated"] and not report["process_tree"]
    assert report["reason"] == "unshare failed: Operation not permitted"
    assert "It can use the network: this system does not allow a private network namespace" in " ".join(
        report["lines"])
    assert "Processes it starts in a new session can outlive it." in report["lines"]
    assert "It can read and change any file your account can." in report["lines"]
    assert any(line.startswith("It starts without Ponder's environment variables, but can read those")
               for line in report["lines"])
    assert report["value"] == "'connected'" and listener.accepted == 1  # and it really can
    assert report["environ_readable"] is True  # and that too


def test_the_card_says_no_network_exactly_when_code_cannot_connect(listener):
    from app.tools.sandbox_reach import describe_reach

    enforced = platform_enforcement_sync()
    text = describe_reach(enforced)
    result = run(connect_code(listener.port))
    assert ("No network" in text) == (result.value is None) == enforced.network_isolated
    assert ("10 s of CPU time" in text) == ("cpu_s" in enforced.rlimits)


DAEMON = ("import subprocess, sys\n"
          "subprocess.Popen([sys.executable, '-c', 'import time\\ntime.sleep(120)'], start_new_session=True)\n"
          "open('started', 'w').close()\n")


def processes_in(folder: Path) -> list[int]:
    """Processes whose working directory is in ``folder`` (also after it was deleted)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "cwd").startswith(str(folder)):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.fixture
def session_base(tmp_path, monkeypatch):
    """Session folders go here, so a test can watch the one its code runs in."""
    import tempfile

    base = tmp_path / "sessions"
    base.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(base))
    return base


async def wait_for_start(base: Path) -> Path:
    deadline = time.monotonic() + 20
    while True:
        started = list(base.glob("ponder-python-*/work/started"))
        if started:
            return started[0].parent.parent
        assert time.monotonic() < deadline, "the code did not start"
        await asyncio.sleep(0.05)


@pytest.mark.skipif(not Path("/proc/self/cwd").exists(), reason="needs /proc to see processes")
def test_cancelling_kills_the_whole_process_tree_at_once(session_base):
    code = DAEMON + "import time\nwhile True:\n    time.sleep(0.02)\n"

    async def scenario():
        task = asyncio.ensure_future(run_python(code, SandboxLimits(wall_s=120, cpu_s=60)))
        session = await wait_for_start(session_base)
        running = processes_in(session)
        cancelled_at = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return session, running, time.monotonic() - cancelled_at

    session, running, latency = asyncio.run(scenario())
    assert latency < 3.0
    assert len(running) >= 2  # the cell and the daemon it started (and the runners)
    assert not session.exists()
    time.sleep(0.3)
    left = processes_in(session)
    if platform_enforcement_sync().process_tree:
        assert left == [], "a process of the cancelled code still runs"
    for pid in left:  # without a pid namespace the daemon escapes: clean up after the test
        os.kill(pid, 9)


@pytest.mark.skipif(not Path("/proc/self/cwd").exists(), reason="needs /proc to see processes")
def test_processes_the_code_starts_end_with_it_when_it_finishes(session_base):
    if not platform_enforcement_sync().process_tree:
        pytest.skip("no pid namespace here: processes in a new session may outlive the code")
    seen: list[int] = []

    async def scenario():
        task = asyncio.ensure_future(run_python(DAEMON + "import time\ntime.sleep(1)\n'left a daemon'"))
        session = await wait_for_start(session_base)
        seen.extend(processes_in(session))
        return session, await task

    session, result = asyncio.run(scenario())
    assert result.value == "'left a daemon'"
    assert len(seen) >= 2
    time.sleep(0.3)
    assert processes_in(session) == []


def test_the_number_of_processes_is_limited_where_it_is_enforced():
    enforced = platform_enforcement_sync()
    if "processes" not in enforced.rlimits:
        pytest.skip("the process limit is not enforced here (the kernel ignores it for root)")
    code = (
        "import os, time\nstarted = 0\ntry:\n    for _ in range(200):\n"
        "        if os.fork() == 0:\n            time.sleep(2)\n            os._exit(0)\n"
        "        started += 1\nexcept OSError:\n    pass\nstarted"
    )
    assert int(run(code, SandboxLimits(processes=10)).value) <= 10


def test_the_sync_wrapper_runs_a_cell():
    assert run_python_sync("sum(range(10))").value == "45"


def test_without_a_pid_namespace_a_daemon_outlives_the_code_as_the_card_says(tmp_path):
    """The fallback's sentence ("can outlive it") is true, so the namespace is what stops it."""
    import signal

    pid_file = tmp_path / "daemon.pid"
    loop = f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(60)\n"
    code = (f"import subprocess, sys, time\nsubprocess.Popen([sys.executable, '-c', {loop!r}], "
            "start_new_session=True)\ntime.sleep(0.5)\n'started'")
    result = run(code, isolate=False)
    assert result.value == "'started'" and result.enforced.process_tree is False
    pid = int(pid_file.read_text())
    try:
        os.kill(pid, 0)  # still alive after the call returned
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_files_outside_its_folder_cannot_be_changed(tmp_path):
    enforced = platform_enforcement_sync()
    if not enforced.files_readonly:
        pytest.skip("no private read-only mounts here")
    victim = tmp_path / "victim.txt"
    victim.write_text("original")
    code = (f"import os\nopen({str(victim)!r}, 'w').write('changed')\n")
    result = run(code)
    assert result.error.startswith("OSError: [Errno 30] Read-only file system")
    assert victim.read_text() == "original"
    assert run(f"open({str(victim)!r}).read()").value == "'original'"  # reading is allowed
    assert run(code, isolate=False).ok and victim.read_text() == "changed"  # the test can fail


def test_the_home_folder_is_hidden(tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text("PRIVATE KEY")
    monkeypatch.setenv("HOME", str(home))
    code = f"open({str(home / '.ssh' / 'id_ed25519')!r}).read()"
    result = run(code)
    if str(home) not in result.enforced.hidden:
        pytest.skip("no private mounts here: the home folder stays visible, as the card says")
    assert result.error.startswith("FileNotFoundError")
    assert run(f"import os\nos.listdir({str(home)!r})").value == "[]"
    assert run(code, isolate=False).value == "'PRIVATE KEY'"


def test_the_desktop_session_sockets_are_hidden(tmp_path, monkeypatch):
    runtime = tmp_path / "run"
    runtime.mkdir()
    bus = socket.socket(socket.AF_UNIX)
    bus.bind(str(runtime / "bus"))
    bus.listen(4)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    code = (f"import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect({str(runtime / 'bus')!r})\n"
            "'connected'")
    try:
        result = run(code)
        if str(runtime) not in result.enforced.hidden:
            pytest.skip("no private mounts here: socket files stay reachable, as the card says")
        assert result.error.startswith("FileNotFoundError")
        assert run(code, isolate=False).value == "'connected'"  # a network namespace alone does not stop it
    finally:
        bus.close()


def test_the_environment_of_other_programs_is_out_of_reach(monkeypatch):
    monkeypatch.setenv("PONDER_TEST_MARKER", "marker-4711-in-ponders-environment")
    code = (
        "import os\nfound = []\nfor pid in os.listdir('/proc'):\n"
        "    try:\n        data = open(f'/proc/{pid}/environ', 'rb').read()\n    except OSError:\n        continue\n"
        "    if b'marker-4711' in data:\n        found.append(pid)\nbool(found)"
    )
    result = run(code)
    if not result.enforced.user_namespace:
        pytest.skip("no user namespace here: other programs' environment is readable, as the card says")
    assert result.value == "False"
    # /proc/<pid>/environ holds the environment a process started with: start one with the marker
    import subprocess

    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert run(code).value == "False"
        assert run(code, isolate=False).value == "True"
    finally:
        holder.kill()
        holder.wait()


def test_the_sandbox_runs_on_the_qt_event_loop(qapp):
    """The window awaits the tool on qasync's loop: subprocess pipes and cancellation work there."""
    import qasync

    async def scenario():
        done = await run_python("6 * 7")
        task = asyncio.ensure_future(run_python("while True:\n    pass", SandboxLimits(cpu_s=30, wall_s=60)))
        await asyncio.sleep(0.5)
        cancelled_at = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return done, time.monotonic() - cancelled_at

    loop = qasync.QEventLoop(qapp)
    try:
        done, latency = loop.run_until_complete(asyncio.wait_for(scenario(), timeout=60))
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    assert done.value == "42"
    assert latency < 3.0


def test_multiprocessing_works_inside():
    result = run("import multiprocessing\nwith multiprocessing.Pool(2) as pool:\n"
                 "    squares = pool.map(abs, [-1, -2, -3])\nsquares")
    assert result.value == "[1, 2, 3]", result.error
