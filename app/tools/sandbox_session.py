"""The python tool's session folder, environment and interpreter, prepared for one call.

Each call gets a private temporary folder holding the runner (a copy of
``sandbox_child.py``), the cell, its config and ``work/`` (the working directory); it is
removed afterwards even where the code took write permission away. The environment is
built from an allow-list; the config names the folders the child should hide (home, the
desktop session's runtime folder) and those it must keep visible (the interpreter's).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path

from app.errors import PonderError
from app.tools.sandbox_results import SandboxLimits

CHILD_SCRIPT = Path(__file__).with_name("sandbox_child.py")
SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"


class SandboxUnavailableError(PonderError):
    """The python tool cannot run here (no Python interpreter to start, no runner file)."""


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


def child_config(limits: SandboxLimits, *, probe: bool, isolate: bool, python: str) -> dict:
    """The runner's ``config.json``: limits, folders to hide and keep, what to do."""
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


def prepare_session(code: str, limits: SandboxLimits, *, probe: bool, isolate: bool, python: str) -> Path:
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
        (session / "config.json").write_text(json.dumps(child_config(limits, probe=probe, isolate=isolate, python=python)),
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


def read_json(path: Path) -> dict | None:
    """A record the child wrote; None when it is missing or not JSON (the code may meddle)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8", errors="replace")[:1_000_000])
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
