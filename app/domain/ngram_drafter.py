"""Prompt-lookup drafts: guess the next tokens from where the last few tokens appeared before.

Reasoning traces and answers often repeat the prompt (code edits, quotes, restating the
problem). When the last ``n`` tokens occurred earlier in the context, the tokens that
followed them then are a good guess for what follows now; the model checks the guesses in
one batch and keeps those it would have produced itself (speculative decoding), so the
output is unchanged.

Unlike a scan of the whole context per token, the drafter keeps an index of every n-gram's
latest position and reads only the tokens added since its last call: O(1) per token.
"""

from __future__ import annotations

from typing import Sequence


class NgramDrafter:
    """Drafts up to ``max_draft`` tokens from the latest earlier occurrence of the last
    ``n`` tokens (falling back to shorter n-grams, down to one token)."""

    def __init__(self, n: int = 2, max_draft: int = 10):
        self.n = n
        self.max_draft = max_draft
        self._tokens: list[int] = []
        self._index: dict[tuple[int, ...], int] = {}  # n-gram -> position right after its latest occurrence

    def propose(self, tokens: Sequence[int]) -> list[int]:
        """The draft that follows ``tokens`` (the whole context so far)."""
        self._catch_up(tokens)
        seq = self._tokens
        for size in range(min(self.n, len(seq) - 1), 0, -1):
            after = self._index.get(tuple(seq[-size:]), -1)
            if 0 <= after < len(seq):  # the tail's earlier occurrence (the tail itself is indexed later)
                return seq[after:after + self.max_draft]
        return []

    def _catch_up(self, tokens: Sequence[int]) -> None:
        seq = self._tokens
        known = len(seq)
        if len(tokens) < known or (known and tokens[known - 1] != seq[-1]) or (known > 1 and tokens[0] != seq[0]):
            seq.clear()  # a different context (a new prompt): start over
            self._index.clear()
            known = 0
        for token in tokens[known:]:
            self._add(int(token))

    def _add(self, token: int) -> None:
        seq = self._tokens
        # index the n-grams that end at the previous token: they are followed by ``token`` at len(seq)
        for size in range(1, self.n + 1):
            if len(seq) >= size:
                self._index[tuple(seq[-size:])] = len(seq)
        seq.append(token)
