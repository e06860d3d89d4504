"""Steering decisions: where a budget cut lands, and the effort bands for cloud models."""

from app.domain.steering import GRACE_TOKENS, Steering, budget_to_effort


def test_grace_window_prefers_sentence_ends():
    s = Steering(budget=10)
    assert not s.should_cut(9, "word.")
    assert not s.should_cut(10, " word")
    assert s.should_cut(11, " end.")
    assert s.should_cut(10 + GRACE_TOKENS, " word")
    assert Steering().should_cut(3, " x", answer_now=True)
    assert [budget_to_effort(b) for b in (512, 4096, 20000)] == ["low", "medium", "high"]


def test_think_longer_extends_below_the_minimum_at_most_a_few_times():
    from app.domain.steering import CONTINUATION, MAX_EXTENSIONS

    s = Steering(min_thinking=100)
    assert not Steering().too_early(0)  # no minimum: never too early
    assert s.too_early(99) and not s.too_early(100)
    for _ in range(MAX_EXTENSIONS):
        assert s.too_early(5) and s.extend() == CONTINUATION
    assert not s.too_early(5)  # a model that insists on stopping is let go
