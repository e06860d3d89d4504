"""Which backend class runs a model profile: llama for local models, a provider for cloud ones."""

from __future__ import annotations

from typing import Any

from app.backends.base import Backend
from app.domain.profiles import ModelProfile
from app.errors import BackendError


def create_backend(profile: ModelProfile, **options: Any) -> Backend:
    """A new, not yet loaded backend for ``profile``. ``options`` go to the backend class
    (cloud: key, clock, ...; local: n_threads), for tests and tools."""
    if profile.is_local:
        from app.backends.llama_backend import LlamaBackend

        return LlamaBackend(profile, **options)
    from app.backends.cloud import backend_class

    cls = backend_class(profile.backend)
    if cls is None:
        raise BackendError(f'{profile.label}: Ponder has no backend named "{profile.backend}". '
                           "Use llama, openai, openai-responses, anthropic or gemini in models.toml.",
                           model_id=profile.id)
    return cls(profile, **options)


def local_backends(threads: int | None = None):
    """A backend factory whose local models share one :class:`ModelPool`: profiles on the same
    file and context size use one loaded model (memory once, the cached prefix kept)."""
    from app.backends.llama_model import ModelPool

    pool = ModelPool(threads_setting=threads)

    def create(profile: ModelProfile) -> Backend:
        return create_backend(profile, pool=pool, threads=threads) if profile.is_local else create_backend(profile)

    return create


def create_cloud_backend(profile: ModelProfile, **options: Any) -> Backend:
    """A cloud backend for ``profile`` (refuses local profiles: they need the worker thread)."""
    if profile.is_local:
        raise BackendError(f"{profile.label} is a local model, not a cloud one.", model_id=profile.id)
    return create_backend(profile, **options)
