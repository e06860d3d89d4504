"""The models.toml entry for a downloaded catalog model, and adding it to the file.

Role and reasoning settings come from the catalog entry (a reasoning model gets its marker
pair and ``carry = "strip"``, the R1 authors' advice: earlier turns' reasoning is not fed
back; whether the output starts inside the block and the thinking switch are detected from
the file's chat template when it loads). The context is the one the typical trace needs if
it fits this machine, else the largest that does (:func:`app.domain.catalog_fit.context_for_profile`).
A file without a chat template gets the catalog's preset in ``chat_template``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from app.domain import config_writer
from app.domain.catalog import CatalogEntry, CatalogQuant
from app.domain.catalog_fit import CatalogFit, context_for_profile
from app.domain.config import read_config_text
from app.domain.profiles import ModelProfile, ModelsConfig, ReasoningSettings
from app.domain.reasoning.markers import FAMILIES


def _unique(base: str, taken: Iterable[str]) -> str:
    taken = set(taken)
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def catalog_profile(entry: CatalogEntry, quant: CatalogQuant, path: Path, fit: CatalogFit,
                    taken_ids: Iterable[str], *, file_has_template: bool = True) -> ModelProfile:
    """The entry to add for ``path`` (the downloaded file, or its first part)."""
    base = re.sub(r"[^a-z0-9._-]+", "-", f"{entry.id}-{quant.quant}".lower()).strip("-")
    reasoning = None
    if entry.reasoning != "none":
        spec = FAMILIES[entry.reasoning]
        reasoning = ReasoningSettings(start=spec.start, end=spec.end, carry="strip")
    return ModelProfile(
        id=_unique(base, taken_ids),
        label=f"{entry.name} · {quant.quant}",
        role=entry.role,
        backend="llama",
        path=str(path),
        n_ctx=context_for_profile(fit),
        reasoning=reasoning,
        chat_template=None if file_has_template else entry.chat_template,
    )


def add_to_models_file(models_path: Path, profile: ModelProfile) -> ModelsConfig:
    """Append ``profile`` to models.toml (comments kept, validated, written atomically)."""
    text = read_config_text(models_path)
    return config_writer.save_models_text(models_path, config_writer.add_model(text, profile))
