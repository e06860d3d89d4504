"""The local decode loop steering the thinking, with real inference: budgets, Answer now, Think
longer, thinking off."""


import pytest

from app.domain import events as ev
from app.domain.conversation import Conversation
from app.domain.steering import CONTINUATION, GRACE_TOKENS
from app.domain.turn_control import TurnControl
from app.domain.turn_request import build_request

pytestmark = pytest.mark.model




def run(backend, prompt, *, control=None, on_event=None, **kw):
    conv = Conversation()
    conv.add_user(prompt)
    msg = conv.add_assistant(backend.profile.id)
    events = []
    for event in backend.stream(build_request(conv.messages, backend.profile, **kw), control or TurnControl()):
        msg.apply(event)
        events.append(event)
        if on_event:
            on_event(event)
    return msg, events


@pytest.mark.parametrize("budget", [16, 64, 256])
def test_budgets_are_respected_and_the_end_marker_is_fed_once(thinker, budget):
    msg, events = run(thinker, "Explain how a bicycle stays upright.", thinking_budget=budget,
                      min_thinking=budget,  # keep it thinking up to the budget (tiny models stop early)
                      max_tokens=budget + GRACE_TOKENS + 40, temperature=0.0)
    cuts = [e for e in events if type(e) is ev.BudgetCut]
    assert len(cuts) == 1, "the end marker must be fed exactly once"
    assert budget <= msg.stats.reasoning_tokens <= budget + GRACE_TOKENS
    assert msg.raw.count("</think>") >= 1 and msg.blocks[0].budget_cut
    assert msg.answer.strip(), "an answer follows the cut"
    assert msg.stats.prompt_tokens + msg.stats.reasoning_tokens + msg.stats.injected_tokens \
        + msg.stats.answer_tokens == thinker.llm.n_tokens


def test_answer_now_cuts_mid_thought(thinker):
    control = TurnControl()

    def press(event):
        if type(event) is ev.TokenCounts and event.reasoning >= 10:
            control.answer_now()

    msg, events = run(thinker, "Think about prime numbers.", control=control, on_event=press,
                      thinking_budget=0, min_thinking=10, max_tokens=80, temperature=0.0)
    assert [type(e) for e in events].count(ev.BudgetCut) == 1
    assert msg.stats.reasoning_tokens == 10  # cut at once, on the next token boundary
    assert msg.answer.strip()


def test_think_longer_replaces_early_ends(thinker):
    msg, events = run(thinker, "Is 7 odd?", thinking_budget=0, min_thinking=60, max_tokens=160, temperature=0.0)
    extensions = [e for e in events if type(e) is ev.ThinkingExtended]
    assert extensions, "the tiny model ends early; Ponder must have extended it"
    assert all(e.reasoning_tokens < 60 for e in extensions)
    block = msg.blocks[0]
    assert msg.stats.reasoning_tokens >= 60
    assert len(block.extensions) == len(extensions)
    assert CONTINUATION.strip() in block.text


def test_thinking_off_for_a_switchable_model(thinker):
    assert thinker.setup.prompt_suffix  # Ponder makes this model think: the switch is its suffix
    msg, _ = run(thinker, "Say hello.", thinking=False, max_tokens=20, temperature=0.0)
    assert msg.blocks == [] and msg.stats.reasoning_tokens == 0 and msg.answer.strip()
