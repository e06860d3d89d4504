"""Will a catalog model fit this machine *with room for the thinking*?

The engine is :mod:`app.domain.hardware_fit` (weights + KV cache + overhead, and its
fits / tight / won't fit verdict); this module only chooses the context to ask about:

* **The context a typical trace needs** (:func:`needed_context`): the trace's upper figure
  twice (the trace, and the earlier turns' reasoning or a second attempt), plus
  :data:`ANSWER_TOKENS` for the answer and :data:`HISTORY_TOKENS` for a few turns of
  history, rounded up to a multiple of 4,096, at least 8,192 and at most the training
  context. Instruct models get 8,192.
* **The largest context that fits** (:func:`largest_fitting_context`): the largest multiple
  of 1,024 up to the training context whose verdict is still "fits".

:func:`typical_machine` models the machines of the local-hardware table ("a 16 GB
machine"): the system and the usual programs hold :data:`DESKTOP_RESERVE_BYTES`, the rest
is available.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.catalog import CatalogEntry, CatalogQuant
from app.domain.hardware_fit import (
    FITS,
    GIB,
    MachineMemory,
    MemoryEstimate,
    Verdict,
    estimate_memory,
    fit_verdict,
    format_bytes,
)

ANSWER_TOKENS = 1024
HISTORY_TOKENS = 2048
MIN_CONTEXT = 8192
CONTEXT_STEP = 4096
SEARCH_STEP = 1024
DESKTOP_RESERVE_BYTES = 4 * GIB


@dataclass(frozen=True)
class CatalogFit:
    """The verdict for one quantization at the context its traces need, and the largest
    context that fits (0 when not even :data:`SEARCH_STEP` tokens do)."""

    entry: CatalogEntry
    quant: CatalogQuant
    n_ctx: int
    estimate: MemoryEstimate
    verdict: Verdict
    max_fitting_ctx: int

    @property
    def status(self) -> str:
        """fits | tight | won't fit."""
        return self.verdict.status

    def tooltip(self) -> str:
        """The numbers behind the verdict, as a few plain lines."""
        low, high = self.entry.trace
        need = (f"A typical trace takes {low:,}–{high:,} tokens, so {self.n_ctx:,} tokens of context "
                "leave room for the trace, the answer and a few turns of history."
                if high else f"{self.n_ctx:,} tokens of context for a chat.")
        most = (f"The largest context that fits: {self.max_fitting_ctx:,} tokens."
                if self.max_fitting_ctx else "Not even a short context fits.")
        return "\n".join((f"{self.entry.name} · {self.quant.quant} · download {format_bytes(self.quant.size)}",
                          need, self.verdict.explanation, most))


def needed_context(entry: CatalogEntry) -> int:
    """The context a typical trace of ``entry`` needs (see the module docstring)."""
    high = entry.trace[1]
    if not high:
        return min(MIN_CONTEXT, entry.context)
    wanted = 2 * high + ANSWER_TOKENS + HISTORY_TOKENS
    wanted = -(-wanted // CONTEXT_STEP) * CONTEXT_STEP
    return min(max(MIN_CONTEXT, wanted), entry.context)


def largest_fitting_context(entry: CatalogEntry, quant: CatalogQuant, available_bytes: int) -> int:
    """The largest multiple of :data:`SEARCH_STEP` (up to the training context) that fits."""
    shape = entry.shape(quant)

    def fits(n_ctx: int) -> bool:
        return fit_verdict(estimate_memory(shape, n_ctx), available_bytes).status == FITS

    low, high = 0, entry.context // SEARCH_STEP  # in steps; memory grows with n_ctx
    if high and fits(high * SEARCH_STEP):
        return high * SEARCH_STEP
    while low < high - 1:
        mid = (low + high) // 2
        if fits(mid * SEARCH_STEP):
            low = mid
        else:
            high = mid
    return low * SEARCH_STEP


def catalog_fit(entry: CatalogEntry, quant: CatalogQuant, available_bytes: int) -> CatalogFit:
    """Verdict at the needed context and the largest fitting context, for this much memory."""
    n_ctx = needed_context(entry)
    estimate = estimate_memory(entry.shape(quant), n_ctx)
    return CatalogFit(entry, quant, n_ctx, estimate, fit_verdict(estimate, available_bytes),
                      largest_fitting_context(entry, quant, available_bytes))


def typical_machine(total_gib: float) -> MachineMemory:
    """A desktop with ``total_gib`` GiB of RAM, :data:`DESKTOP_RESERVE_BYTES` of it in use."""
    total = round(total_gib * GIB)
    return MachineMemory(total, max(0, total - DESKTOP_RESERVE_BYTES),
                         f"a typical {total_gib:g} GB machine (4 GB used by the system and other programs)")


def context_for_profile(fit: CatalogFit) -> int:
    """The n_ctx a downloaded model's models.toml entry gets: the needed context when it fits,
    else the largest that fits (at least 2,048 so a short chat works)."""
    if fit.status == FITS:
        return fit.n_ctx
    return max(2048, min(fit.n_ctx, fit.max_fitting_ctx))
