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
    pressed = []

    def press():
        pressed.append(time.monotonic())
        stop.stop()

    timer = threading.Timer(0.3, press)
    timer.start()
    msg = run(instruct, long_prompt(), stop=stop, max_tokens=50)
    ended = time.monotonic()
    assert msg.finish_reason == "cancelled"
    assert msg.stats.generated_tokens == 0
    assert msg.stats.prompt_tokens > 1000  # several batches were needed
    assert pressed and ended - pressed[0] < 1.0  # measured: 3–50 ms (ponder bench speed)
    again = run(instruct, "Say hello.", max_tokens=8, temperature=0.0)  # the next turn is not aborted
    assert again.finish_reason in ("stop", "length") and again.stats.generated_tokens > 0


def test_the_abort_check_is_installed_only_while_a_prompt_is_evaluated(instruct, monkeypatch):
    """Decoding checks Stop between tokens; llama.cpp's per-node check is there for the prompt."""
    from contextlib import contextmanager

    from app.backends import llama_adapter as adapter

    installed = [False]
    evals: list[tuple[int, bool]] = []
    real_check, real_eval = adapter.abort_check, instruct.llm.eval

    @contextmanager
    def tracking(llm, flag):
        with real_check(llm, flag):
            installed[0] = True
            try:
                yield
            finally:
                installed[0] = False

    def eval_(tokens):
        evals.append((len(tokens), installed[0]))
        return real_eval(tokens)

    monkeypatch.setattr(adapter, "abort_check", tracking)
    monkeypatch.setattr(instruct.llm, "eval", eval_)
    msg = run(instruct, "Count from one to twenty.", max_tokens=12, temperature=0.0)
    assert msg.stats.answer_tokens == 12
    assert evals[0][0] > 10 and evals[0][1]  # the prompt, with the check
    assert len(evals) >= 12 and not any(on for _, on in evals[1:])  # every decoding step without it


def test_a_prompt_after_a_cached_prefix_is_evaluated_in_batches_that_end_on_the_kv_padding(instruct, monkeypatch):
    """llama.cpp attends over the KV cells rounded up to 256: a batch ending just past a
    boundary costs up to 15 % more. The prompt's context is the same either way."""
    from app.backends import llama_adapter as adapter

    llm = instruct.llm
    run(instruct, "Say hello.", max_tokens=4, temperature=0.0)  # the system prompt is cached now
    ends: list[int] = []
    real_eval = llm.eval

    def eval_(tokens):
        for i in range(0, len(tokens), llm.n_batch):
            ends.append(llm.n_tokens + len(tokens[:i + llm.n_batch]))
        return real_eval(tokens)

    monkeypatch.setattr(llm, "eval", eval_)
    msg = run(instruct, long_prompt(1200), max_tokens=1, temperature=0.0)
    cached, evaluated = instruct.model.last_prefill
    assert 0 < cached % adapter.KV_PADDING and evaluated > 600  # a prefix that does not end on a boundary
    prefill = [e for e in ends if e < msg.stats.prompt_tokens]  # then decoding feeds the last prompt token
    assert prefill[-1] == msg.stats.prompt_tokens - 1
    assert len(prefill) >= 3 and all(e % adapter.KV_PADDING == 0 for e in prefill[:-1])
    assert adapter.cached_tokens(llm)[:msg.stats.prompt_tokens] == instruct.tokenize_prompt(
        instruct.render_prompt([{"role": "user", "content": long_prompt(1200)}]), [])[:msg.stats.prompt_tokens]


def test_the_abort_flag_ends_an_evaluation_only_inside_the_check(instruct):
    from app.backends import llama_adapter as adapter

    llm = instruct.llm
    tokens = llm.tokenize(b"The quick brown fox jumps over the lazy dog. " * 8)
    flag = adapter.AbortFlag()
    flag.set()
    assert flag.is_set()
    adapter.keep_cached(llm, 0)
    with pytest.raises(RuntimeError), adapter.abort_check(llm, flag):
        llm.eval(tokens)
    assert llm.n_tokens == 0  # nothing of the aborted batch counts as evaluated
    llm.eval(tokens)  # the same flag, set, but no check installed
    assert llm.n_tokens == len(tokens)
    flag.clear()
    assert not flag.is_set()
    adapter.keep_cached(llm, 0)
    with adapter.abort_check(llm, flag):
        llm.eval(tokens)
    assert llm.n_tokens == len(tokens)
    adapter.keep_cached(llm, 0)


def test_busy_python_does_not_hold_the_prompt_up(instruct):
    """A Python callback per graph node waits for the GIL while any other Python thread runs
    (the GUI building a long message): measured 1.5-2x the time of a 300-token prompt. The
    check llama.cpp calls reads a byte in C."""
    from app.backends import llama_adapter as adapter

    llm = instruct.llm
    tokens = llm.tokenize(b"The quick brown fox jumps over the lazy dog. " * 40)[:300]
    done = threading.Event()

    def busy() -> None:  # pure Python that never sleeps: it gives the GIL up only when asked
        n = 0
        while not done.is_set():
            n += 1

    def timed(check: bool) -> float:
        adapter.keep_cached(llm, 0)
        t0 = time.perf_counter()
        if check:
            with adapter.abort_check(llm, adapter.AbortFlag()):
                llm.eval(tokens)
        else:
            llm.eval(tokens)
        return time.perf_counter() - t0

    thread = threading.Thread(target=busy, daemon=True)
    thread.start()
    try:
        with_check, without = [], []
        for _ in range(2):
            with_check.append(timed(True))
            without.append(timed(False))
    finally:
        done.set()
        thread.join()
        adapter.keep_cached(llm, 0)
    assert min(with_check) < 1.35 * min(without)


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
