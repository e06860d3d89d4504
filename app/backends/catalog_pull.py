"""Pull a catalog model: download it, check the file, and add its entry to models.toml.

The one sequence behind ``ponder pull`` and the "Get models" tab's downloads (no Qt).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from app.backends.hub_download import Downloaded, ProgressCallback, download_quant
from app.domain.catalog import CatalogEntry, CatalogQuant
from app.domain.catalog_fit import catalog_fit
from app.domain.catalog_profile import add_to_models_file, catalog_profile
from app.domain.config import ensure_models_file, load_models
from app.domain.hardware_fit import machine_memory
from app.domain.profiles import ModelProfile


@dataclass(frozen=True)
class Pulled:
    """The result of a pull: the files, and the models.toml entry (the existing one when the
    file was already configured; ``added`` says which)."""

    downloaded: Downloaded
    profile: ModelProfile
    added: bool


def pull(entry: CatalogEntry, quant: CatalogQuant, *, local_dir: Path | None = None,
         cache_dir: Path | None = None, models_path: Path | None = None, token: str | None = None,
         progress: ProgressCallback | None = None, cancel: threading.Event | None = None,
         available_bytes: int | None = None) -> Pulled:
    """Download ``quant`` of ``entry`` and add it to models.toml (once per file)."""
    from app.backends.gguf_info import read_gguf_info

    downloaded = download_quant(entry, quant, local_dir=local_dir, cache_dir=cache_dir, token=token,
                                progress=progress, cancel=cancel)
    info = read_gguf_info(downloaded.path)  # a damaged file says so here, before it is added
    models_path = models_path or ensure_models_file()
    config = load_models(models_path)
    for existing in config.models:
        if existing.path and Path(existing.path).expanduser() == downloaded.path:
            return Pulled(downloaded, existing, False)
    available = available_bytes if available_bytes is not None else machine_memory().available_bytes
    fit = catalog_fit(entry, quant, available)
    profile = catalog_profile(entry, quant, downloaded.path, fit, config.ids,
                              file_has_template=bool(info.chat_template))
    add_to_models_file(models_path, profile)
    return Pulled(downloaded, profile, True)
