"""What the switcher says about a local model before it is loaded: size and "will it fit".

Runs on the model worker's thread (reading GGUF metadata and imports of numpy/gguf take a
few hundred milliseconds the first time).
"""

from __future__ import annotations

from app import paths
from app.domain.hardware_fit import estimate_memory, fit_verdict, format_bytes, machine_memory
from app.domain.profiles import ModelProfile
from app.errors import PonderError


def fit_hint(profile: ModelProfile, available_bytes: int | None = None) -> tuple[str, str]:
    """(hint text, verdict status) for a local profile, e.g. ("98 MB · fits", "fits")."""
    from app.backends.gguf_info import read_gguf_info

    try:
        info = read_gguf_info(paths.resolve_model_path(profile.path or ""))
    except PonderError:
        return "file missing or unreadable", "error"
    estimate = estimate_memory(info.shape(), profile.local_n_ctx)
    available = available_bytes if available_bytes is not None else machine_memory().available_bytes
    verdict = fit_verdict(estimate, available)
    size = "bundled" if (profile.path or "").startswith("bundled:") else format_bytes(info.file_size)
    return f"{size} · {verdict.status} ({format_bytes(estimate.total)})", verdict.status
