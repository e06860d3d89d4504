"""What code run by the python tool can reach on this machine, said truthfully.

The approval card shows this sentence before the user lets code run. It is computed from
what a probe child actually got (:func:`app.tools.python_sandbox.probe_setup`: which
rlimits took effect, whether the network namespace left only loopback, whether the pid
namespace exists), never from what Ponder merely asked for. The probe takes one
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


def _network_clause(enforced: Enforcement) -> str:
    if enforced.network_isolated:
        return ("No network: it gets an empty network of its own (Linux network namespace); "
                "local services reached through socket files (such as the desktop session bus, "
                "and the keyring behind it) are not blocked.")
    why = f" ({enforced.reason})" if enforced.reason else ""
    if sys.platform.startswith("linux"):
        return f"It can use the network: this system does not allow a private network namespace{why}."
    return f"It can use the network: {sys.platform} offers no network isolation that Ponder can set up{why}."


def reach_lines(enforced: Enforcement, limits: SandboxLimits = DEFAULT_LIMITS) -> list[str]:
    """The facts for the approval card, one sentence each, from ``enforced``."""
    tree = ("Everything it starts is stopped with it." if enforced.process_tree
            else "Processes it starts in a new session can outlive it.")
    return [
        f"{_who()} in a separate process with {_limits_clause(enforced, limits)}.",
        "Works in a temporary folder that is deleted afterwards; standard library only.",
        "It can read and change any file your account can.",
        tree,
        _network_clause(enforced),
        "It inherits none of Ponder's environment variables.",
    ]


def describe_reach(enforced: Enforcement, limits: SandboxLimits = DEFAULT_LIMITS) -> str:
    """The approval card's text about what the code can reach: :func:`reach_lines` joined."""
    return " ".join(reach_lines(enforced, limits))
