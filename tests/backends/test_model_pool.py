"""Profiles on one GGUF share one loaded model: memory once, the cached prefix kept across a switch."""

import pytest

from app.backends.llama_backend import LlamaBackend
from app.backends.llama_model import ModelPool
from app.domain.conversation import Conversation
from app.domain.turn_control import TurnControl
from app.domain.turn_request import build_request
from helpers.models import profile

pytestmark = pytest.mark.model


def turn(backend, conv, text):
    conv.add_user(text)
    request = build_request(conv.messages, backend.profile, max_tokens=24, temperature=0.0, thinking_budget=8)
    msg = conv.add_assistant(backend.profile.id)
    for event in backend.stream(request, TurnControl()):
        msg.apply(event)
    return msg


def test_two_profiles_on_one_file_share_the_model_and_the_cache():
    pool = ModelPool()
    instruct = LlamaBackend(profile("smollm2-135m"), pool=pool)
    thinker = LlamaBackend(profile("smollm2-think"), pool=pool)
    instruct.load()
    thinker.load()
    try:
        assert instruct.model is thinker.model and len(pool.loaded()) == 1
        assert instruct.memory_key == thinker.memory_key and instruct.memory_bytes > 0
        assert instruct.setup.spec is None and thinker.setup.spec is not None  # per-profile settings stay apart

        conv = Conversation()
        first = turn(instruct, conv, "Name three colours. " * 40)
        assert first.answer.strip()
        prompt_before = first.stats.prompt_tokens
        second = turn(thinker, conv, "And one more?")  # switched profile, same file
        reused, evaluated = thinker.model.last_prefill
        assert reused >= prompt_before  # the whole first prompt came from the cache
        assert evaluated < second.stats.prompt_tokens - prompt_before + 8  # only the new part, about
        s = second.stats
        assert s.prompt_tokens + s.reasoning_tokens + s.injected_tokens + s.answer_tokens == thinker.llm.n_tokens
    finally:
        instruct.close()
        assert len(pool.loaded()) == 1  # still used by the other profile
        thinker.close()
    assert pool.loaded() == []
