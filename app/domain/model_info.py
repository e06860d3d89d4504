"""What a loaded model is and can do, as the GUI learns it.

The model worker sends a :class:`ModelInfo` with ``load_finished``, so the GUI thread never
reads the worker's backends (which the worker may be changing or loading at that moment).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.profiles import ModelProfile

# Cloud backends whose models think and stream (or count) their thinking.
REASONING_CLOUD_BACKENDS = ("anthropic", "gemini", "openai", "openai-responses")


@dataclass(frozen=True)
class ModelInfo:
    """A loaded local model: its thinking controls, window, memory and run settings."""

    model_id: str
    can_switch_thinking: bool  # the template (or Ponder) can turn thinking off per turn
    reasons: bool  # it writes reasoning Ponder can separate
    n_ctx: int
    memory_bytes: int
    model_path: str = ""
    n_threads: int = 0
    n_threads_batch: int = 0
    tool_format: str | None = None  # how it writes tool calls (None: it cannot be offered tools)


def thinking_capabilities(profile: ModelProfile, info: ModelInfo | None = None) -> tuple[bool, bool]:
    """(can switch thinking off, reasons at all) for ``profile``: from the loaded model when
    its ``info`` is known, else from the profile's settings."""
    if profile.is_cloud:
        return False, profile.backend in REASONING_CLOUD_BACKENDS
    if info is not None:
        return info.can_switch_thinking, info.reasons
    reasoning = profile.reasoning
    return bool(reasoning and reasoning.forced_open), profile.role == "reasoning" or bool(reasoning)
