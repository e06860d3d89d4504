"""Plain values of the python tool: its limits, what was enforced, what a call produced."""

from __future__ import annotations

from dataclasses import dataclass


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
