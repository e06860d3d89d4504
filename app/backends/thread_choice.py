"""How many CPU threads llama.cpp uses: all cores for prompt evaluation, the fastest count for
decoding, measured once per machine and model size class.

Prompt evaluation is compute-bound and scales with cores. Decoding one token at a time is
memory-bound: past some count, more threads only contend (on big machines the physical-core
count is the usual best; with hyper-threads, more is often slower). So the first time a model
of a size class loads on a machine, Ponder decodes a few tokens at each candidate count
(:func:`measure_decode_threads`, about a second for a small model) and keeps the fastest in the
cache folder. ``PONDER_N_THREADS`` or the ``threads`` setting overrides the measurement.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from app import paths

ENV = "PONDER_N_THREADS"
CACHE_FILE = "threads.json"
SIZE_CLASSES = ((1e9, "<1GB"), (4e9, "1-4GB"), (12e9, "4-12GB"), (40e9, "12-40GB"))
MEASURE_S = 0.15  # per candidate count, after a warm-up token
log = logging.getLogger("ponder.threads")


@dataclass(frozen=True)
class Threads:
    """Threads for decoding and for prompt evaluation, and where the decode count came from."""

    decode: int
    batch: int
    source: str  # "PONDER_N_THREADS", "setting", "measured", "measured earlier", "default"


def available_cores() -> int:
    """Cores this process may run on (the affinity mask or cgroup, not the host's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def size_class(file_size: int) -> str:
    for limit, name in SIZE_CLASSES:
        if file_size < limit:
            return name
    return ">40GB"


def machine_key() -> str:
    """What the measurement depends on: the CPU model and the cores Ponder may use."""
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.machine()}|{cpu or 'cpu'}|{available_cores()} cores"


def candidates(cores: int) -> list[int]:
    """Thread counts worth trying: all up to 8, then a few steps up to every core."""
    small = list(range(1, min(cores, 8) + 1))
    big = sorted({cores // 4, cores // 2, (3 * cores) // 4, cores} - set(small))
    return small + [n for n in big if n > 8]


def explicit_threads(setting: int | None) -> tuple[int, str] | None:
    """An override from ``PONDER_N_THREADS`` (first) or the ``threads`` setting, if any."""
    value = os.environ.get(ENV, "").strip()
    if value:
        try:
            n = int(value)
        except ValueError:
            n = 0
        if n > 0:
            return n, ENV
        log.warning("%s=%r is not a positive number; ignored", ENV, value)
    if setting:
        return setting, "setting"
    return None


def _cache_path() -> Path:
    return paths.cache_dir() / CACHE_FILE


def remembered(key: str, size: str) -> int | None:
    try:
        data = json.loads(_cache_path().read_text(encoding="utf-8"))
        return int(data[key][size]["decode_threads"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remember(key: str, size: str, best: int, rates: dict[int, float]) -> None:
    path = _cache_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        if not isinstance(data, dict):
            data = {}
    except (OSError, ValueError):
        data = {}
    data.setdefault(key, {})[size] = {"decode_threads": best, "tokens_per_s": {str(n): round(r, 1)
                                                                             for n, r in rates.items()},
                                      "measured": time.strftime("%Y-%m-%d")}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:  # a read-only cache only costs a measurement next time
        log.info("Could not keep the thread measurement in %s: %s", path, exc)


def measure_decode_threads(decode_one: Callable[[int], float], cores: int) -> tuple[int, dict[int, float]]:
    """(fastest count, tokens/s per count): ``decode_one(n)`` decodes one token with ``n``
    threads and returns the seconds it took."""
    rates: dict[int, float] = {}
    for n in candidates(cores):
        decode_one(n)  # warm-up: thread pool and caches
        spent, tokens = 0.0, 0
        while spent < MEASURE_S and tokens < 64:
            spent += decode_one(n)
            tokens += 1
        rates[n] = tokens / spent if spent > 0 else 0.0
    best = max(rates, key=lambda n: (rates[n], -n))  # the fewest threads among equals
    return best, rates


def choose_threads(file_size: int, setting: int | None, measure: Callable[[], tuple[int, dict[int, float]]]) -> Threads:
    """The thread counts for a model of ``file_size`` bytes; ``measure()`` runs the measurement
    when nothing overrides it and it was not made on this machine for this size class yet."""
    cores = available_cores()
    override = explicit_threads(setting)
    if override is not None:
        return Threads(override[0], cores, override[1])
    key, size = machine_key(), size_class(file_size)
    best = remembered(key, size)
    if best is not None:
        return Threads(best, cores, "measured earlier")
    best, rates = measure()
    remember(key, size, best, rates)
    log.info("Decode threads for %s models on %s: %d (tokens/s %s)", size, key, best, rates)
    return Threads(best, cores, "measured")
