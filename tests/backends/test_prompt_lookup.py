"""Prompt-lookup speculative decoding on the bundled model: exact counts (the context holds
what was shown, not the drafts it rejected) and the thinking controls still working.

Greedy output is not always identical: llama.cpp computes a batch of drafts along another
path than one token, so near-ties can flip (``ponder bench lookup`` reports it). That, and
its speed on this machine, is why it is off by default."""

import pytest

from app.backends.llama_backend import LlamaBackend
from app.domain import events as ev
from app.domain.conversation import Conversation
from app.domain.steering import GRACE_TOKENS
from app.domain.turn_control import TurnControl
from app.domain.turn_request import build_request
from helpers.models import profile

pytestmark = pytest.mark.model

CODE = ("Rename the variable x to total in this function and show the whole function:\n\n"
        "def f(items):\n    x = 0\n    for i in items:\n        x = x + i\n    return x\n")


def loaded(model_id="smollm2-135m", lookup=False):
    backend = LlamaBackend(profile(model_id, prompt_lookup=lookup, n_ctx=2048, temperature=0.0))
    backend.load()
    return backend


@pytest.fixture(scope="module")
def pair():
    plain, lookup = loaded(), loaded(lookup=True)
    yield plain, lookup
    plain.close()
    lookup.close()


def run(backend, prompt, **kw):
    conv = Conversation()
    conv.add_user(prompt)
    msg = conv.add_assistant("m")
    events = list(backend.stream(build_request(conv.messages, backend.profile, **kw), TurnControl()))
    for event in events:
        msg.apply(event)
    return msg, events


def test_the_counts_stay_exact_with_drafts(pair):
    plain, lookup = pair
    a, _ = run(plain, CODE, max_tokens=64)
    b, _ = run(lookup, CODE, max_tokens=64)
    assert b.answer.strip() and "total" in b.answer  # it repeats the prompt: drafts get accepted
    assert abs(a.stats.answer_tokens - b.stats.answer_tokens) <= 64
    s = b.stats
    assert s.prompt_tokens + s.generated_tokens + s.injected_tokens == lookup.llm.n_tokens
    assert lookup.model.estimate.total > plain.model.estimate.total  # logits for every position cost memory
    s = b.stats
    assert s.prompt_tokens + s.generated_tokens + s.injected_tokens == lookup.llm.n_tokens


def test_the_budget_cut_and_think_longer_work_with_lookup():
    thinker = loaded("smollm2-think", lookup=True)
    try:
        msg, events = run(thinker, "Explain how a bicycle stays upright.", thinking_budget=24, min_thinking=24,
                          max_tokens=24 + GRACE_TOKENS + 24)
        assert [type(e) for e in events].count(ev.BudgetCut) == 1 and msg.blocks[0].budget_cut
        assert 24 <= msg.stats.reasoning_tokens <= 24 + GRACE_TOKENS
        s = msg.stats
        assert s.prompt_tokens + s.generated_tokens + s.injected_tokens == thinker.llm.n_tokens
    finally:
        thinker.close()
