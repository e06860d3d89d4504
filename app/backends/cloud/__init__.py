"""Cloud backends: OpenAI-compatible chat completions, OpenAI Responses, Anthropic, Gemini.

Each is a :class:`~app.backends.cloud.base.CloudBackend` whose ``stream(request)`` is an
async generator of the same turn events the local backend yields; they run as asyncio tasks
on the qasync loop through the turn runner (see :mod:`app.controllers.cloud_host`). Keys: :mod:`app.backends.cloud.keys`.
"""

from __future__ import annotations

from app.backends.cloud.base import CloudBackend

__all__ = ["CloudBackend", "backend_class"]


def backend_class(backend: str) -> type[CloudBackend] | None:
    """The class for a ``backend = "..."`` value of models.toml, or None if not a cloud one."""
    if backend == "openai":
        from app.backends.cloud.openai_chat import OpenAIChatBackend

        return OpenAIChatBackend
    if backend == "openai-responses":
        from app.backends.cloud.openai_responses import OpenAIResponsesBackend

        return OpenAIResponsesBackend
    if backend == "anthropic":
        from app.backends.cloud.anthropic import AnthropicBackend

        return AnthropicBackend
    if backend == "gemini":
        from app.backends.cloud.gemini import GeminiBackend

        return GeminiBackend
    return None
