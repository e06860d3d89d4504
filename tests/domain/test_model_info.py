"""Thinking controls for a model: from the loaded model when known, else from its profile."""

from dataclasses import replace

from app.domain.model_info import ModelInfo, thinking_capabilities
from helpers.models import profile


def test_the_loaded_model_wins_over_the_profile():
    think = profile("smollm2-think")
    assert thinking_capabilities(think) == (True, True)  # forced open by Ponder: switchable
    info = ModelInfo("smollm2-think", can_switch_thinking=False, reasons=True, n_ctx=8192, memory_bytes=1)
    assert thinking_capabilities(think, info) == (False, True)
    assert thinking_capabilities(profile("smollm2-135m")) == (False, False)


def test_cloud_models_reason_by_backend_and_never_switch():
    claude = profile("claude-sonnet-thinking")
    assert thinking_capabilities(claude) == (False, True)
    assert thinking_capabilities(replace(claude, backend="unknown")) == (False, False)
