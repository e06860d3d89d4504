"""Prompt-lookup drafts: the continuation of the latest earlier occurrence, at O(1) per token."""

import time

from app.domain.ngram_drafter import NgramDrafter


def test_it_drafts_what_followed_the_same_tokens_before():
    d = NgramDrafter(n=2, max_draft=3)
    assert d.propose([1, 2, 3, 4, 5, 1, 2]) == [3, 4, 5]
    assert d.propose([1, 2, 3, 4, 5, 1, 2, 3]) == [4, 5, 1]  # grown by one: only the new token is read
    assert d.propose([7, 8, 9]) == []  # a new context, nothing repeats


def test_the_latest_occurrence_wins_and_shorter_ngrams_are_the_fallback():
    d = NgramDrafter(n=2, max_draft=2)
    assert d.propose([5, 6, 1, 9, 9, 6, 2, 8, 8, 6]) == [2, 8]  # "6" last seen before "2 8"
    assert d.propose([1, 2, 9, 1, 2]) == [9, 1]


def test_cost_per_token_does_not_grow_with_the_context():
    tokens = [i % 997 for i in range(60_000)]

    def per_token(upto: int) -> float:
        d = NgramDrafter()
        context = tokens[:upto]
        d.propose(context)
        t0 = time.perf_counter()
        for n in range(upto, upto + 2000):
            context.append(tokens[n])  # the context grows as generation goes on
            d.propose(context)
        return (time.perf_counter() - t0) / 2000

    early, late = per_token(1_000), per_token(50_000)
    assert late < early * 3 + 2e-5  # generous bound; a scan of the context would be ~50x
