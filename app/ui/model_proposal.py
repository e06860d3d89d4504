"""A profile proposed for a GGUF file, and how a file's facts read: "98 MB", "7.6 B".

No widgets: the model manager's editor, capabilities panel and discovery list use these.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from app.domain.profiles import ModelProfile, ReasoningSettings
from app.domain.reasoning.detect import detect_reasoning

PROPOSED_CTX = {"instruct": 8192, "reasoning": 16384}  # reasoning needs room to think
UNKNOWN = "unknown"


def human_size(n: int | None) -> str:
    """Bytes as download pages quote them: "98 MB", "4.7 GB"."""
    if not n:
        return UNKNOWN
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}" if unit == "GB" else f"{n / scale:.0f} {unit}"
    return f"{n} B"


def human_count(n: int | None) -> str:
    """A parameter count: "135 M", "7.6 B"."""
    if not n:
        return UNKNOWN
    if n >= 1e9:
        return f"{n / 1e9:.1f} B"
    return f"{n / 1e6:.0f} M" if n >= 1e6 else f"{n:,}"


def slug(text: str) -> str:
    """An id made from a file name: lower case, letters, digits, "-" and "_"."""
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9_-]+", "-", text.lower())).strip("-_") or "model"


def unique_id(base: str, taken: Iterable[str]) -> str:
    """``base``, or ``base-2``, ``base-3``... whichever is not taken."""
    taken = set(taken)
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def info_attr(info: Any, *names: str) -> Any:
    """The first of ``names`` that ``info`` has and is not None (readers name some fields differently)."""
    for name in names:
        value = getattr(info, name, None)
        if value is not None:
            return value
    return None


def propose_profile(path: Path, info: Any | None, taken: Iterable[str], label: str | None = None) -> ModelProfile:
    """A profile for a GGUF file: id and label from the file name (or ``label``), role and
    reasoning settings from what the file's chat template shows."""
    quant = info_attr(info, "quantization") if info is not None else None
    if info is not None:
        thinks = bool(info_attr(info, "supports_thinking"))
        markers = info_attr(info, "reasoning_markers")
        forced = info_attr(info, "forced_open")
    else:  # no reader: the file name is the only witness
        detection = detect_reasoning(None, path.name)
        thinks = detection.supports_thinking
        markers = (detection.spec.start, detection.spec.end) if detection.spec else None
        forced = None
    role = "reasoning" if thinks else "instruct"
    trained = info_attr(info, "context_length", "training_context", "n_ctx_train") if info is not None else None
    reasoning = None
    if thinks:
        start, end = markers if markers else (None, None)
        reasoning = ReasoningSettings(start=start, end=end, forced_open=forced)
    # The file name is what users recognise (general.name is often a training run's name);
    # of a discovered "org/repo/file.gguf" only the file part.
    base = (label or path.stem).rsplit("/", 1)[-1]
    base = base[:-5] if base.lower().endswith(".gguf") else base
    label = base + (f" · {quant}" if quant and quant != UNKNOWN and quant.lower() not in base.lower() else "")
    return ModelProfile(
        id=unique_id(slug(base), taken), label=label, role=role, backend="llama", path=str(path),
        n_ctx=min(int(trained), PROPOSED_CTX[role]) if trained else None, reasoning=reasoning,
    )
