"""Shared helpers for tests that use the real bundled model."""

from __future__ import annotations

from dataclasses import replace

from app.domain.config import load_user_models
from app.domain.profiles import ModelProfile


def profile(model_id: str = "smollm2-135m", **changes) -> ModelProfile:
    """A built-in profile (from the first-run models.toml), optionally changed."""
    return replace(load_user_models().get(model_id), **changes)


def long_prompt(words: int = 2500) -> str:
    """A prompt long enough that evaluating it takes several prefill slices."""
    base = "The quick brown fox jumps over the lazy dog while the cat watches from the fence. "
    return (base * (words // 16 + 1))[: words * 6] + "\nSummarise the text above."
