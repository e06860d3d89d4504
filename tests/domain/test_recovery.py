"""Recovery choices: each of the message's buttons becomes the retry it promises."""

from app.domain import events as ev
from app.domain.messages import AssistantMessage
from app.domain.recovery import recovery_plan
from app.domain.steering import GRACE_TOKENS


def message(*, reasoning=0, answer=0, n_ctx=4096, overflow=None) -> AssistantMessage:
    m = AssistantMessage()
    m.apply(ev.TurnStarted(0.0, "m", 100, n_ctx))
    if overflow:
        m.apply(overflow)
    m.apply(ev.TokenCounts(reasoning, answer, 0, 1.0))
    m.apply(ev.TurnFinished(2.0, "length" if reasoning else "error"))
    return m


def test_strip_and_drop_after_an_overflow():
    m = message(overflow=ev.ContextOverflow(5000, 4096, 512, strip_fits=True, drop_turns=3))
    strip = recovery_plan(m, "strip", max_tokens=1024)
    assert strip.carry == "strip" and not strip.drop_turns and "Earlier thinking was left out" in strip.note
    drop = recovery_plan(m, "drop", max_tokens=1024)
    assert drop.drop_turns == 3 and drop.carry == "strip" and "The 3 oldest turns" in drop.note
    assert recovery_plan(message(overflow=ev.ContextOverflow(1, 2, 3, False, 0)), "drop", max_tokens=9) is None


def test_larger_doubles_the_limit_that_was_hit():
    by_tokens = recovery_plan(message(reasoning=1024), "larger", max_tokens=1024)
    assert by_tokens.max_tokens == 2048 and by_tokens.n_ctx is None
    by_context = recovery_plan(message(reasoning=700, n_ctx=4096), "larger", max_tokens=1024)
    assert by_context.n_ctx == 8192 and by_context.max_tokens is None and "8,192" in by_context.note


def test_answer_limits_the_thinking_and_leaves_room_for_the_answer():
    plan = recovery_plan(message(reasoning=1000), "answer", max_tokens=1024)
    assert plan.thinking_budget == 750 and plan.max_tokens == max(1024, 750 + GRACE_TOKENS + 256)
    assert recovery_plan(message(reasoning=4), "answer", max_tokens=64).thinking_budget == 16  # a floor
    assert recovery_plan(message(reasoning=4), "unknown", max_tokens=64) is None
