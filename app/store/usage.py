"""Token usage summed from the conversation database, for what conversations and models cost
(no Qt). Reads through a :class:`~app.store.conversations.Store`'s connection.

Every assistant message row counts, every version of it (a regenerated answer was paid for
too), unfinished ones included. The counts come from the row's ``stats`` (TurnStats as JSON):
``input_tokens`` is the input of all the turn's model calls (a row saved before it was recorded
counts its ``prompt_tokens``), ``cached_tokens`` the part read from a prompt cache. The period
is the message's creation time (unix seconds, ``since`` included, ``until`` excluded).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from app.domain.cost import Billing, Cost, CostTotals, TurnTokens
from app.store.db import StoreError, describe

_SUMS = """
    MAX(location = 'local'), COUNT(*),
    SUM(COALESCE(NULLIF(json_extract(stats, '$.input_tokens'), 0), json_extract(stats, '$.prompt_tokens'), 0)),
    SUM(COALESCE(json_extract(stats, '$.cached_tokens'), 0)),
    SUM(COALESCE(json_extract(stats, '$.reasoning_tokens'), 0)),
    SUM(COALESCE(json_extract(stats, '$.answer_tokens'), 0)),
    SUM(COALESCE(json_extract(stats, '$.estimated'), 0) AND NOT COALESCE(json_extract(stats, '$.split_estimated'), 0)),
    SUM(COALESCE(json_extract(stats, '$.split_estimated'), 0))
"""


@dataclass(frozen=True)
class UsageRow:
    """The summed usage of one model's answers (in one conversation, or over a period)."""

    model_id: str
    local: bool  # it ran on this computer
    answers: int
    input: int  # all input, cached included
    cached: int
    reasoning: int
    answer: int
    estimated: int = 0  # answers whose counts were Ponder's estimates
    split_estimated: int = 0  # answers whose thinking/answer split was estimated

    @property
    def tokens(self) -> int:
        return self.input + self.reasoning + self.answer

    def cost(self, billing: Billing) -> Cost | None:
        """What these answers cost at ``billing``'s price (None: local, or no price)."""
        if billing.local or billing.price is None:
            return None
        cached = min(self.cached, self.input)
        return Cost(billing.price, TurnTokens(self.input - cached, cached, self.reasoning, self.answer,
                                              calls=self.answers),
                    estimated=self.estimated > 0, split_estimated=self.split_estimated > 0)


def usage_by_model(store, since: float | None = None, until: float | None = None) -> list[UsageRow]:
    """Per model, the answers created in [since, until) (None: no bound), most tokens first."""
    rows = _read(store, f"""
        SELECT model_id, {_SUMS} FROM messages
        WHERE role = 'assistant' AND json_valid(stats) AND created >= ?1 AND created < ?2
        GROUP BY model_id""", (-1e18 if since is None else since, 1e18 if until is None else until))
    out = [_row(r) for r in rows]
    return sorted(out, key=lambda u: (-u.tokens, u.model_id))


def usage_of_conversation(store, uid: str) -> list[UsageRow]:
    """Per model, the answers of one conversation (all their versions)."""
    rows = _read(store, f"""
        SELECT model_id, {_SUMS} FROM messages
        WHERE conversation = ? AND role = 'assistant' AND json_valid(stats)
        GROUP BY model_id ORDER BY model_id""", (uid,))
    return [_row(r) for r in rows]


def cost_totals(rows: Iterable[UsageRow], known: Mapping[str, Billing]) -> CostTotals:
    """What the rows cost at their models' prices: local models count nothing, a model without
    a price counts as answers of unknown price."""
    totals = CostTotals()
    for row in rows:
        billing = billing_of_row(row, known)
        if not billing.local:
            totals.add(row.cost(billing), count=row.answers, estimated=row.estimated)
    return totals


def billing_of_row(row: UsageRow, known: Mapping[str, Billing]) -> Billing:
    """The billing of a row's model (one no longer configured: unknown, unless it ran locally)."""
    return known.get(row.model_id) or Billing(local=row.local, model_id=row.model_id)


def _row(r: tuple) -> UsageRow:
    model_id, local, answers, *sums = r
    return UsageRow(model_id or "", bool(local), int(answers), *(int(x or 0) for x in sums))


def _read(store, sql: str, params: tuple) -> list[tuple]:
    db = store.db
    with db.lock:
        try:
            return db.conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(describe(exc, "sum up the usage", db.path)) from exc
