"""``ponder models --catalog [--json] [--ram GB]`` and ``ponder pull ID[:QUANT] [--dir FOLDER]``.

The catalog with a verdict per model and quantization for this machine (or for a machine
with ``--ram`` GB) at the context a typical trace needs, and the largest context that fits;
``pull`` downloads one with a progress bar (tqdm: speed and time left), verifies it and adds
it to models.toml. Ctrl-C cancels a pull and keeps what arrived, so the next pull resumes.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path


def add_models_options(models: argparse.ArgumentParser) -> None:
    """The catalog options of ``ponder models``."""
    models.add_argument("--catalog", action="store_true",
                        help="the models Ponder can download, with a fit verdict for this machine")
    models.add_argument("--ram", type=float, default=None, metavar="GB",
                        help="with --catalog: judge for a machine with this much RAM instead of this one")


def add_pull_parser(sub) -> None:
    """``ponder pull``."""
    pull = sub.add_parser("pull", help="download a catalog model and add it to models.toml")
    pull.add_argument("model", metavar="ID[:QUANT]", help="a catalog id (see `ponder models --catalog`), "
                                                          "optionally with a quantization, e.g. qwq-32b:Q4_K_M")
    pull.add_argument("--dir", type=Path, default=None,
                      help="download into this folder instead of the Hugging Face cache")


def _rows(memory_available: int) -> list[dict]:
    from app.domain.catalog import load_catalog
    from app.domain.catalog_fit import catalog_fit

    rows = []
    for entry in load_catalog().entries:
        quants = []
        for quant in entry.quants:
            fit = catalog_fit(entry, quant, memory_available)
            quants.append({
                "quant": quant.quant, "size_bytes": quant.size, "files": [f.name for f in quant.files],
                "n_ctx": fit.n_ctx, "verdict": fit.status, "max_context": fit.max_fitting_ctx,
                "memory": {"weights_bytes": fit.estimate.weights_bytes, "kv_cache_bytes": fit.estimate.kv_cache_bytes,
                           "overhead_bytes": fit.estimate.overhead_bytes, "total_bytes": fit.estimate.total},
                "explanation": fit.verdict.explanation,
            })
        rows.append({
            "id": entry.id, "name": entry.name, "role": entry.role, "repo": entry.repo, "gated": entry.gated,
            "license": entry.license, "good_for": entry.good_for, "architecture": entry.architecture,
            "training_context": entry.context, "reasoning": entry.reasoning,
            "thinking_switch": entry.thinking_switch, "trace": list(entry.trace), "quants": quants,
        })
    return rows


def cmd_catalog(args) -> int:
    """Print the catalog with verdicts (a table, or JSON with ``--json``)."""
    from app.domain.catalog_fit import typical_machine
    from app.domain.hardware_fit import format_bytes, machine_memory

    memory = typical_machine(args.ram) if args.ram else machine_memory()
    rows = _rows(memory.available_bytes)
    if args.json:
        machine = {"total_bytes": memory.total_bytes, "available_bytes": memory.available_bytes,
                   "source": memory.source}
        print(json.dumps({"machine": machine, "models": rows}, indent=2, ensure_ascii=False))
        return 0
    print(f"For {memory.source}: {format_bytes(memory.available_bytes)} available of "
          f"{format_bytes(memory.total_bytes)}.")
    for row in rows:
        gated = "  (gated: accept the license on the hub first)" if row["gated"] else ""
        print(f"\n{row['id']}  —  {row['name']} · {row['role']} · {row['license']}{gated}\n  {row['good_for']}")
        for q in row["quants"]:
            print(f"  {q['quant']:<9} {format_bytes(q['size_bytes']):>8}  at {q['n_ctx']:>6,} tokens: "
                  f"{q['verdict']:<9}  largest context that fits: {q['max_context']:,}")
    print("\nDownload one with: ponder pull ID[:QUANT]")
    return 0


def cmd_pull(args) -> int:
    """Download a catalog model with a progress bar and add it to models.toml."""
    from tqdm import tqdm

    from app.backends.catalog_pull import pull
    from app.backends.hub_download import DownloadCancelled
    from app.domain.catalog import load_catalog

    entry, quant = load_catalog().lookup(args.model)
    cancel = threading.Event()
    bars: dict[tuple[str, str], tqdm] = {}

    def show(progress) -> None:
        key = (progress.file, progress.phase)
        bar = bars.get(key)
        if bar is None:
            for other in bars.values():
                other.close()
            bars.clear()
            desc = ("checking " if progress.phase == "verifying" else "") + Path(progress.file).name
            bar = bars[key] = tqdm(total=progress.total, initial=progress.done, unit="B", unit_scale=True,
                                   unit_divisor=1000, desc=desc, file=sys.stderr, dynamic_ncols=True)
        bar.update(progress.done - bar.n)

    previous = signal.signal(signal.SIGINT, lambda *_: cancel.set())
    try:
        print(f"Downloading {entry.name} {quant.quant} from {entry.repo} …", file=sys.stderr)
        result = pull(entry, quant, local_dir=args.dir, progress=show, cancel=cancel)
    except DownloadCancelled as exc:
        print(f"\nponder: {exc}", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, previous)
        for bar in bars.values():
            bar.close()
    what = "added to models.toml as" if result.added else "already in models.toml as"
    print(f"{result.downloaded.path}\n{what} “{result.profile.id}” (role {result.profile.role}, "
          f"n_ctx {result.profile.n_ctx:,}). Try: ponder ask \"…\" --model {result.profile.id}")
    return 0
