"""What code run by the python tool can reach on this machine, said truthfully.

The approval card shows these sentences before the user lets code run. They are computed
from what a probe child actually got (:func:`app.tools.python_sandbox.probe_setup`: which
rlimits took effect, whether the network namespace left only loopback, whether the pid,
user and mount namespaces exist, which folders it saw hidden, whether the file systems
were read-only to it), never from what Ponder merely asked for. The probe takes one
interpreter start (~30 ms) and is cached for the process.
"""

from __future__ import annotations

import asyncio
import os
import sys

from app.tools.python_sandbox import DEFAULT_LIMITS, Enforcement, SandboxLimits, probe_setup

_cached: Enforcement | None = None


async def platform_enforcement(*, refresh: bool = False) -> Enforcement:
    """What the sandbox enforces here (probed once per process, then cached)."""
    global _cached
    if _cached is None or refresh:
        _cached = await probe_setup(DEFAULT_LIMITS)
    return _cached


def platform_enforcement_sync(*, refresh: bool = False) -> Enforcement:
    """:func:`platform_enforcement` for callers without a running loop (the CLI)."""
    if _cached is not None and not refresh:
        return _cached
    return asyncio.run(platform_enforcement(refresh=refresh))


def cached_enforcement() -> Enforcement | None:
    """The probed enforcement if it is known already (for painting without waiting)."""
    return _cached


def _who() -> str:
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return "Runs as root (the administrator account, as Ponder does)"
    return "Runs as your user"


def _limits_clause(enforced: Enforcement, limits: SandboxLimits) -> str:
    held = set(enforced.rlimits)
    parts = []
    if "cpu_s" in held:
        parts.append(f"{limits.cpu_s:g} s of CPU time")
    if "memory_bytes" in held:
        parts.append(f"{limits.memory_mb:g} MB of memory")
    parts.append(f"{limits.wall_s:g} s in all")
    if "processes" in held:
        parts.append(f"at most {limits.processes} processes")
    clause = ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]
    missing = [name for key, name in (("cpu_s", "CPU time"), ("memory_bytes", "memory"),
                                      ("processes", "the number of processes")) if key not in held]
    if missing:
        clause += f" (this system does not limit {' or '.join(missing)})"
    return clause


def _home_hidden(enforced: Enforcement) -> bool:
    home = os.path.realpath(os.path.expanduser("~"))
    return home in enforced.hidden


def _runtime_dir() -> str:
    return os.environ.get("XDG_RUNTIME_DIR") or (f"/run/user/{os.getuid()}" if hasattr(os, "getuid") else "")


def _runtime_hidden(enforced: Enforcement) -> bool:
    runtime = _runtime_dir()
    return bool(runtime) and os.path.realpath(runtime) in enforced.hidden


def _files_line(enforced: Enforcement) -> str:
    if enforced.files_readonly and _home_hidden(enforced):
        return ("It cannot see your home folder; it can read the other files on this computer "
                "but change none outside its own folder.")
    if enforced.files_readonly:
        return "It can read any file your account can, but change none outside its own folder."
    if _home_hidden(enforced):
        return "It cannot see your home folder, but can read and change the other files your account can."
    return "It can read and change any file your account can."


def _sockets_line(enforced: Enforcement) -> str:
    if _runtime_hidden(enforced):
        return ("Your desktop session's sockets (session bus and keyring, display) are hidden from it; "
                "services that listen on socket files elsewhere are not.")
    if _runtime_dir() and os.path.isdir(_runtime_dir()):
        return ("It can reach local services through socket files (such as the desktop session bus, "
                "and the keyring behind it).")
    return "It can reach local services that listen on socket files (such as the system bus)."


def _network_clause(enforced: Enforcement) -> str:
    if enforced.network_isolated:
        return "No network: it gets an empty network of its own (a Linux network namespace)."
    why = f" ({enforced.reason})" if enforced.reason else ""
    if sys.platform.startswith("linux"):
        return f"It can use the network: this system does not allow a private network namespace{why}."
    return f"It can use the network: {sys.platform} offers no network isolation that Ponder can set up{why}."


def _programs_line(enforced: Enforcement) -> str:
    if enforced.user_namespace:
        seen = "" if enforced.private_proc else " (it can list them)"
        return f"It cannot read the memory or environment of your other programs, Ponder's included{seen}."
    return ("It starts without Ponder's environment variables, but can read those of your running "
            "programs (Ponder's included) through the system, as any program of yours can.")


def reach_lines(enforced: Enforcement, limits: SandboxLimits = DEFAULT_LIMITS) -> list[str]:
    """The facts for the approval card, one sentence each, from ``enforced``."""
    tree = ("Everything it starts is stopped with it." if enforced.process_tree
            else "Processes it starts in a new session can outlive it.")
    return [
        f"{_who()} in a separate process with {_limits_clause(enforced, limits)}.",
        "Works in a temporary folder that is deleted afterwards; standard library only.",
        _files_line(enforced),
        _network_clause(enforced),
        _sockets_line(enforced),
        _programs_line(enforced),
        tree,
    ]


def reach_summary(enforced: Enforcement, limits: SandboxLimits = DEFAULT_LIMITS) -> str:
    """A one-line digest for a card header, e.g. ``separate process · 10 s CPU · 512 MB · no network``."""
    held = set(enforced.rlimits)
    parts = ["separate process"]
    parts += [f"{limits.cpu_s:g} s CPU"] if "cpu_s" in held else []
    parts += [f"{limits.memory_mb:g} MB"] if "memory_bytes" in held else []
    parts.append("no network" if enforced.network_isolated else "network allowed")
    parts += ["home hidden"] if _home_hidden(enforced) else []
    parts.append("read-only files" if enforced.files_readonly else "can change your files")
    return " · ".join(parts)


def describe_reach(enforced: Enforcement, limits: SandboxLimits = DEFAULT_LIMITS) -> str:
    """The approval card's text about what the code can reach: :func:`reach_lines` joined."""
    return " ".join(reach_lines(enforced, limits))
