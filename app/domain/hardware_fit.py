"""Will a local model fit this machine? Memory estimates and fit verdicts.

The estimate is weights + KV cache + overhead, the three things llama.cpp allocates:

* **Weights**: the exact tensor bytes when read from a GGUF (``ModelShape.weights_bytes``),
  otherwise ``parameters × bits per weight / 8`` from :data:`BITS_PER_WEIGHT`. The table
  holds llama.cpp's effective bits per weight for each file type: the block formats'
  exact sizes (Q4_0 = 18 bytes per 32 weights = 4.5 bpw, Q8_0 = 8.5, Q4_K = 4.5, Q6_K =
  6.5625, ...) and, for the mixed "_S/_M/_L" recipes, the averages llama.cpp's quantize
  tool reports for 7B-class models (Q4_K_M mixes Q4_K with Q6_K for some tensors: about
  4.85 bpw; Q5_K_M about 5.69; Q3_K_M about 3.91; ...).
* **KV cache**: ``2 (K and V) × layers × n_ctx × KV heads × head size × bytes per
  element`` of the cache type (f16 = 2, q8_0 = 34/32 ≈ 1.0625, q4_0 = 18/32 ≈ 0.5625).
  When K and V heads differ in size (``head_dim_v``) the two halves are summed instead.
* **Overhead** = :data:`RUNTIME_BYTES` (100 MiB: llama.cpp's vocabulary tables, output
  and graph buffers) + the compute buffer + :data:`WEIGHTS_OVERHEAD_FRACTION` (2 %) of the
  weights (activations that grow with the model's width, allocator slack). llama.cpp
  sizes the compute buffer for the worst micro-batch (``u = min(n_ubatch, n_ctx)``
  tokens) and reuses memory between the graph's phases, so it is the larger of
  the attention scores ``u × n_ctx × heads × 4 bytes`` (f32; only without flash
  attention, Ponder's default — with it they are tiled and left out) and the logits
  ``u × vocabulary × 4 bytes``. Calibration on the bundled SmolLM2-135M (9 heads,
  49 152 tokens, n_ubatch 512), compute buffer reported by llama.cpp vs this formula:
  99 vs 96 MiB at n_ctx 2048, 166 vs 144 MiB at 8192, 326 vs 288 MiB at 16 384; the
  runtime constant covers the difference.

Verdicts compare the total with the memory that is available now (see
:func:`machine_memory`): up to :data:`FITS_FRACTION` (75 %) "fits", up to
:data:`TIGHT_FRACTION` (95 %) "tight" (it loads, but other programs may be pushed to
swap), above that "won't fit".

Everything here is pure arithmetic except :func:`machine_memory`, the one function that
asks the operating system.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

MIB = 1 << 20
GIB = 1 << 30

#: Effective bits per weight by quantization (GGUF file type) name.
BITS_PER_WEIGHT: dict[str, float] = {
    "F32": 32.0, "F16": 16.0, "BF16": 16.0,
    "Q8_0": 8.5, "Q6_K": 6.5625,
    "Q5_0": 5.5, "Q5_1": 6.0, "Q5_K_S": 5.54, "Q5_K_M": 5.69,
    "Q4_0": 4.5, "Q4_1": 5.0, "Q4_K_S": 4.58, "Q4_K_M": 4.85,
    "Q3_K_S": 3.5, "Q3_K_M": 3.91, "Q3_K_L": 4.27,
    "Q2_K": 2.96, "Q2_K_S": 2.79,
    "IQ4_NL": 4.5, "IQ4_XS": 4.25, "IQ3_M": 3.66, "IQ3_S": 3.44, "IQ3_XS": 3.3, "IQ3_XXS": 3.06,
    "IQ2_M": 2.7, "IQ2_S": 2.5, "IQ2_XS": 2.31, "IQ2_XXS": 2.06, "IQ1_M": 1.75, "IQ1_S": 1.56,
    "TQ1_0": 1.69, "TQ2_0": 2.06, "MXFP4_MOE": 4.25,
}

#: Bytes per cached element by KV cache type (block formats: block bytes / 32 values).
CACHE_BYTES_PER_ELEMENT: dict[str, float] = {
    "f32": 4.0, "f16": 2.0, "bf16": 2.0,
    "q8_0": 34 / 32, "q5_1": 24 / 32, "q5_0": 22 / 32, "q4_1": 20 / 32, "q4_0": 18 / 32,
    "iq4_nl": 18 / 32,
}

RUNTIME_BYTES = 100 * MIB
WEIGHTS_OVERHEAD_FRACTION = 0.02
DEFAULT_UBATCH = 512
FITS_FRACTION = 0.75
TIGHT_FRACTION = 0.95

FITS, TIGHT, WONT_FIT = "fits", "tight", "won't fit"


@dataclass(frozen=True)
class ModelShape:
    """The architecture figures a memory estimate needs.

    ``weights_bytes`` is the exact tensor size when known (read from a GGUF); otherwise
    it is derived from ``n_params`` and ``quantization`` via :data:`BITS_PER_WEIGHT`.
    ``head_dim_v`` is the V head size when it differs from the K head size ``head_dim``.
    ``vocab_size`` sizes the logits buffer (0 when unknown).
    """

    n_layers: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    n_params: int
    quantization: str = "F16"
    weights_bytes: int | None = None
    head_dim_v: int | None = None
    vocab_size: int = 0

    def weight_bytes(self) -> int:
        """The weights' size in bytes (exact if known, else from bits per weight)."""
        if self.weights_bytes is not None:
            return self.weights_bytes
        return round(self.n_params * bits_per_weight(self.quantization) / 8)


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes a loaded model needs: weights, KV cache for ``n_ctx`` tokens, and overhead."""

    weights_bytes: int
    kv_cache_bytes: int
    overhead_bytes: int
    total: int
    n_ctx: int = 0
    cache_type: str = "f16"


@dataclass(frozen=True)
class Verdict:
    """``status`` is "fits", "tight" or "won't fit"; ``explanation`` gives the numbers."""

    status: str
    explanation: str
    need_bytes: int
    available_bytes: int

    @property
    def fraction(self) -> float:
        """The share of available memory the model would take (inf if none is available)."""
        return self.need_bytes / self.available_bytes if self.available_bytes > 0 else float("inf")


@dataclass(frozen=True)
class MachineMemory:
    """Physical memory and the part of it available now, in bytes; ``source`` says how known."""

    total_bytes: int
    available_bytes: int
    source: str


def bits_per_weight(quantization: str) -> float:
    """Effective bits per weight of a quantization name (case-insensitive); 16 if unknown."""
    return BITS_PER_WEIGHT.get(quantization.upper().removeprefix("MOSTLY_"), 16.0)


def kv_cache_bytes(shape: ModelShape, n_ctx: int, cache_type: str = "f16") -> int:
    """K and V for every layer and every one of ``n_ctx`` positions."""
    try:
        per_element = CACHE_BYTES_PER_ELEMENT[cache_type.lower()]
    except KeyError:
        known = ", ".join(CACHE_BYTES_PER_ELEMENT)
        raise ValueError(f"unknown KV cache type {cache_type!r}; use one of: {known}") from None
    head_dims = shape.head_dim + (shape.head_dim_v if shape.head_dim_v is not None else shape.head_dim)
    return round(shape.n_layers * n_ctx * shape.n_kv_heads * head_dims * per_element)


def estimate_memory(shape: ModelShape, n_ctx: int, cache_type: str = "f16", *,
                    flash_attn: bool = False, n_ubatch: int = DEFAULT_UBATCH, logits_all: bool = False) -> MemoryEstimate:
    """Weights + KV cache + overhead for running ``shape`` with ``n_ctx`` tokens of context.
    ``logits_all``: logits are kept for every position (speculative decoding needs them)."""
    weights = shape.weight_bytes()
    kv = kv_cache_bytes(shape, n_ctx, cache_type)
    ubatch = min(n_ubatch, n_ctx)
    scores = 0 if flash_attn else ubatch * n_ctx * shape.n_heads * 4
    logits = (n_ctx if logits_all else ubatch) * shape.vocab_size * 4
    overhead = RUNTIME_BYTES + max(scores, logits) + round(WEIGHTS_OVERHEAD_FRACTION * weights)
    return MemoryEstimate(weights, kv, overhead, weights + kv + overhead, n_ctx, cache_type)


def format_bytes(n: float) -> str:
    """Decimal units as download pages quote them: "98 MB", "4.7 GB"."""
    if n >= 1e9:
        return f"{n / 1e9:.1f} GB"
    if n >= 1e6:
        return f"{n / 1e6:.0f} MB"
    return f"{n / 1e3:.0f} kB"


def fit_verdict(estimate: MemoryEstimate, available_ram_bytes: int, vram_bytes: int | None = None) -> Verdict:
    """Fits / tight / won't fit, against available RAM (plus VRAM when a GPU is used).

    With ``vram_bytes``, a model whose total is within :data:`FITS_FRACTION` of VRAM fits
    on the GPU; otherwise layers are split and RAM + VRAM together are the budget.
    """
    need = estimate.total
    parts = (f"weights {format_bytes(estimate.weights_bytes)} + KV cache {format_bytes(estimate.kv_cache_bytes)} "
             f"for {estimate.n_ctx:,} tokens + overhead {format_bytes(estimate.overhead_bytes)}")
    if vram_bytes and need <= FITS_FRACTION * vram_bytes:
        return Verdict(FITS, f"Needs about {format_bytes(need)} ({parts}); fits in the GPU's "
                             f"{format_bytes(vram_bytes)} ({need / vram_bytes:.0%}).", need, vram_bytes)
    budget = available_ram_bytes + (vram_bytes or 0)
    where = "available RAM" if not vram_bytes else "available RAM and GPU memory"
    share = f"{need / budget:.0%} of" if budget > 0 else "more than"
    base = f"Needs about {format_bytes(need)} ({parts}): {share} the {format_bytes(budget)} of {where}"
    if budget > 0 and need <= FITS_FRACTION * budget:
        return Verdict(FITS, base + ".", need, budget)
    if budget > 0 and need <= TIGHT_FRACTION * budget:
        return Verdict(TIGHT, base + "; it should load, but close other programs first or lower n_ctx.",
                       need, budget)
    return Verdict(WONT_FIT, base + "; pick a smaller model or quantization, or lower n_ctx "
                                    "(the KV cache shrinks with it).", need, budget)


# ---------------------------------------------------------------------------------------
# This machine (the only code here that asks the operating system)


def _meminfo(path: Path) -> dict[str, int]:
    values: dict[str, int] = {}
    for line in path.read_text().splitlines():
        if m := re.match(r"(\w+):\s+(\d+)\s*kB", line):
            values[m.group(1)] = int(m.group(2)) * 1024
    return values


def _cgroup_limit(root: Path) -> int | None:
    """Memory left under a cgroup limit (v2 or v1), or None when there is no limit."""
    for limit_file, usage_file in (("memory.max", "memory.current"),
                                   ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes")):
        try:
            limit = (root / limit_file).read_text().strip()
            usage = int((root / usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit.isdigit() and int(limit) < 1 << 60:  # v1 writes a huge number for "no limit"
            return max(0, int(limit) - usage)
    return None


def _sysconf_memory() -> MachineMemory | None:
    try:
        page = os.sysconf("SC_PAGE_SIZE")
        total = page * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
    try:
        available = page * os.sysconf("SC_AVPHYS_PAGES")  # free pages only: an underestimate
    except (ValueError, OSError, AttributeError):
        available = total
    return MachineMemory(total, available, "sysconf")


def _macos_memory() -> MachineMemory | None:
    try:
        total = int(subprocess.run(["sysctl", "-n", "hw.memsize"], capture_output=True, text=True,
                                   timeout=2, check=True).stdout.strip())
        vm = subprocess.run(["vm_stat"], capture_output=True, text=True, timeout=2, check=True).stdout
    except (OSError, ValueError, subprocess.SubprocessError):
        return None
    page = int(m.group(1)) if (m := re.search(r"page size of (\d+) bytes", vm)) else 4096
    pages = {k.strip().lower(): int(v) for k, v in re.findall(r'^"?([^:"]+)"?:\s+(\d+)\.', vm, re.M)}
    free = sum(pages.get(k, 0) for k in ("pages free", "pages inactive", "pages speculative",
                                          "pages purgeable"))
    return MachineMemory(total, min(total, free * page) if free else total, "sysctl")


def _windows_memory() -> MachineMemory | None:
    import ctypes

    class _Status(ctypes.Structure):
        _fields_ = [("dwLength", ctypes.c_ulong), ("dwMemoryLoad", ctypes.c_ulong),
                    ("ullTotalPhys", ctypes.c_ulonglong), ("ullAvailPhys", ctypes.c_ulonglong),
                    ("ullTotalPageFile", ctypes.c_ulonglong), ("ullAvailPageFile", ctypes.c_ulonglong),
                    ("ullTotalVirtual", ctypes.c_ulonglong), ("ullAvailVirtual", ctypes.c_ulonglong),
                    ("ullAvailExtendedVirtual", ctypes.c_ulonglong)]

    status = _Status()
    status.dwLength = ctypes.sizeof(_Status)
    if not ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):  # type: ignore[attr-defined]
        return None
    return MachineMemory(status.ullTotalPhys, status.ullAvailPhys, "GlobalMemoryStatusEx")


def machine_memory(meminfo: Path = Path("/proc/meminfo"), cgroup_root: Path = Path("/sys/fs/cgroup"),
                   platform: str = sys.platform) -> MachineMemory:
    """This machine's physical and available memory.

    Linux: ``MemTotal``/``MemAvailable`` of /proc/meminfo, lowered to a cgroup (container)
    limit if one is set. macOS: ``sysctl hw.memsize`` and ``vm_stat`` (free + inactive +
    speculative + purgeable pages). Windows: ``GlobalMemoryStatusEx``. Elsewhere
    ``os.sysconf``; if nothing works, 8 GiB is assumed and ``source`` says "assumed".
    """
    found: MachineMemory | None = None
    if platform.startswith("linux"):
        try:
            info = _meminfo(meminfo)
            total = info["MemTotal"]
            found = MachineMemory(total, info.get("MemAvailable", info.get("MemFree", total)), "/proc/meminfo")
        except (OSError, KeyError):
            found = None
        if found is not None and (left := _cgroup_limit(cgroup_root)) is not None:
            found = MachineMemory(found.total_bytes, min(found.available_bytes, left), found.source + " + cgroup")
    elif platform == "darwin":
        found = _macos_memory()
    elif platform == "win32":
        found = _windows_memory()
    found = found or _sysconf_memory()
    return found or MachineMemory(8 * GIB, 8 * GIB, "assumed")
