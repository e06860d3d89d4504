"""Which backend class runs a model profile."""

from __future__ import annotations

from app.backends.base import Backend
from app.domain.profiles import ModelProfile
from app.errors import BackendError


def create_backend(profile: ModelProfile) -> Backend:
    """A new, not yet loaded backend for ``profile``."""
    if profile.backend == "llama":
        from app.backends.llama_backend import LlamaBackend

        return LlamaBackend(profile)
    raise BackendError(
        f"{profile.label}: the {profile.backend!r} cloud backend is not available in this version of Ponder yet. "
        "Pick a local model in the switcher."
    )
