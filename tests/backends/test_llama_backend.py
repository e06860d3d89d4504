"""The local backend with the real bundled model: answers, exact counts, stop, budget."""

import threading
import time

import pytest

from app.backends.llama_backend import LlamaBackend, check_gguf
from app.domain import events as ev
from app.domain.conversation import Conversation
from app.domain.turn_control import TurnControl
from app.domain.turn_request import build_request
from app.domain.steering import GRACE_TOKENS
from app.errors import ModelFileError
from helpers.models import long_prompt, profile

pytestmark = pytest.mark.model






def run(backend, prompt, *, stop=None, on_event=None, **kw):
    conv = Conversation()
    conv.add_user(prompt)
    request = build_request(conv.messages, backend.profile, **kw)
    msg = conv.add_assistant(backend.profile.id)
    for event in backend.stream(request, stop or TurnControl()):
        msg.apply(event)
        if on_event:
            on_event(event)
    return msg


def test_answers_and_counts_exactly(instruct):
    msg = run(instruct, "What is the capital of France?", max_tokens=40, temperature=0.0)
    assert msg.finish_reason in ("stop", "length")
    assert msg.answer.strip()
    s = msg.stats
    assert s.prompt_tokens > 20 and s.answer_tokens > 0 and s.reasoning_tokens == 0
    # what the message counts is exactly what llama.cpp holds in its context
    assert s.prompt_tokens + s.answer_tokens == instruct.llm.n_tokens
    assert 0 < s.system_tokens < s.prompt_tokens


def test_stop_during_generation_keeps_partial_text(instruct):
    stop = TurnControl()
    seen = []

    def on_event(event):
        if type(event) is ev.TokenCounts:
            seen.append(time.monotonic())
            if len(seen) == 8:
                stop.stop()

    msg = run(instruct, "Write a long story about a dragon.", stop=stop, on_event=on_event, max_tokens=400)
    assert msg.finish_reason == "cancelled"
    assert msg.stats.answer_tokens == 8  # the token sampled after Stop is dropped
    assert msg.answer
    assert msg.stats.t_end - seen[-1] < 3.0


def test_stop_during_prompt_processing(instruct):
    stop = TurnControl()
    timer = threading.Timer(0.05, stop.stop)
    timer.start()
    t0 = time.monotonic()
    msg = run(instruct, long_prompt(), stop=stop, max_tokens=50)
    assert msg.finish_reason == "cancelled"
    assert msg.stats.generated_tokens == 0
    assert msg.stats.prompt_tokens > 1000  # several prefill slices were needed
    assert time.monotonic() - t0 < 3.0 + 0.05


def test_the_abort_check_runs_only_while_a_prompt_is_evaluated(instruct, monkeypatch):
    """llama.cpp calls the check at every graph node; while decoding that would take the GIL
    hundreds of times per token, so it is installed around prompt evaluation only."""
    from app.backends import llama_adapter as adapter

    calls = {"prefill": 0, "decode": 0}
    phase = ["idle"]
    real = adapter.abort_check

    def counting(llm, should_abort):
        def counted():
            calls[phase[0]] += 1
            return should_abort()

        phase[0] = "prefill"
        with real(llm, counted):
            yield
        phase[0] = "decode"

    from contextlib import contextmanager

    monkeypatch.setattr(adapter, "abort_check", contextmanager(counting))
    msg = run(instruct, "Count from one to twenty.", max_tokens=12, temperature=0.0)
    assert msg.stats.answer_tokens == 12
    assert calls["prefill"] > 100  # every node of the prompt's graph asked
    assert calls["decode"] == 0  # the check is gone before the first token is sampled


def test_prompt_that_does_not_fit_is_a_clear_error():
    backend = LlamaBackend(profile(n_ctx=256))
    backend.load()
    try:
        msg = run(backend, long_prompt(600))
    finally:
        backend.close()
    assert msg.finish_reason == "error"
    assert "context holds 256" in msg.error and "n_ctx" in msg.error


def test_thinking_budget_cuts_and_answer_follows(thinker):
    msg = run(thinker, "What is 7 times 6?", max_tokens=200, thinking_budget=32, temperature=0.0)
    assert msg.finish_reason in ("budget", "stop", "length")
    s = msg.stats
    assert msg.reasoning.strip()
    assert 0 < s.reasoning_tokens <= 32 + GRACE_TOKENS  # the cut may wait for a sentence end
    assert s.injected_tokens > 0  # Ponder fed the end marker
    assert msg.answer.strip()
    # every token after the prompt is accounted for: reasoning + injected marker + answer
    assert s.prompt_tokens + s.reasoning_tokens + s.injected_tokens + s.answer_tokens == thinker.llm.n_tokens
    assert "</think>" in msg.raw and "<think>" not in msg.answer


def test_files_that_are_not_gguf_are_refused(tmp_path):
    bad = tmp_path / "model.gguf"
    bad.write_bytes(b"PK\x03\x04 not a model")
    with pytest.raises(ModelFileError, match="not a GGUF"):
        check_gguf(bad)


def test_missing_model_file_is_a_clear_error(tmp_path):
    backend = LlamaBackend(profile(path=str(tmp_path / "nope.gguf")))
    with pytest.raises(ModelFileError, match="not found"):
        backend.load()


def test_truncated_gguf_is_a_clear_error(tmp_path):
    from app import paths

    data = paths.bundled_model_path().read_bytes()[:4096]
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(data)
    backend = LlamaBackend(profile(path=str(cut)))
    with pytest.raises(ModelFileError, match="damaged,? (or )?truncated"):
        backend.load()


def test_model_too_large_for_memory_is_refused_before_loading():
    backend = LlamaBackend(profile())
    backend.available_memory = 300_000_000  # the bundled model needs ~0.5 GB at n_ctx 8192
    with pytest.raises(ModelFileError, match="too large for this machine"):
        backend.load()
    assert not backend.loaded
