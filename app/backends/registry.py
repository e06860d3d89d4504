"""Which backend class runs a model profile."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.backends.base import Backend
from app.domain.profiles import ModelProfile
from app.errors import BackendError

if TYPE_CHECKING:
    from app.backends.cloud.base import CloudBackend


def create_backend(profile: ModelProfile) -> Backend:
    """A new, not yet loaded backend for ``profile``."""
    if profile.backend == "llama":
        from app.backends.llama_backend import LlamaBackend

        return LlamaBackend(profile)
    raise BackendError(
        f"{profile.label}: the {profile.backend!r} cloud backend is not available in this version of Ponder yet. "
        "Pick a local model in the switcher."
    )


def create_cloud_backend(profile: ModelProfile, **options: Any) -> CloudBackend:
    """A cloud backend for ``profile`` (``options``: key, read_timeout, ... for tests and tools)."""
    from app.backends.cloud import backend_class

    cls = backend_class(profile.backend)
    if cls is None:
        raise BackendError(f"{profile.label}: {profile.backend!r} is not a cloud backend; "
                           "use create_backend for local models.", model_id=profile.id)
    return cls(profile, **options)
