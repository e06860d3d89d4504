"""Runaway detection: notice, token by token, that the reasoning is repeating itself.

A :class:`LoopDetector` is fed every reasoning token as it arrives (its id when the backend
knows it, else only its text, as for cloud streams, which are then split into lower-cased
words and punctuation marks). Each unit is hashed together with the ``NGRAM - 1`` units
before it (a rolling hash) and looked up in a dict of the last position of every n-gram:
a hit at distance ``d`` says "these n tokens also appeared ``d`` tokens ago". A loop of
period ``P`` makes nearly every position hit at distance ``P``; normal reasoning hits only
now and then, at scattered distances (a re-used phrase, a re-quoted line).

So the detector keeps one *run* per distance: where its hits started, the latest hit and
how many there were. A run continues across short gaps (a number that changed breaks the
n-grams that cover it) and may drift by a token or two (``10`` takes a token more than
``9``). It is a loop when the run, plus the period before it, spans ``MIN_REPEATS`` copies
and ``MIN_LOOP_TOKENS`` tokens (or, for a long passage, just two back-to-back copies), and
at least ``MIN_COVERAGE`` of the run's positions were hits.

Cost per token: one rolling-hash step, one dict lookup, and a check of each live run (at
most ``MAX_GAP``, usually none); old n-grams are forgotten every 8,192 tokens, so memory
stays bounded apart from 16 bytes a token for the positions' offsets and hashes.
"""

from __future__ import annotations

import re
from array import array
from dataclasses import dataclass

# Thresholds, tuned on tests/domain/runaway_traces: ten hand-written reasoning traces full of
# ordinary repetition ("Wait,", "Let me double-check", step lists, a prime-by-prime check,
# half-hour slot tables, Fibonacci lines) and real SmolLM2 135M traces, four clean and six
# that loop, plus the scripted loops of tests/domain/test_runaway.py. With these values:
# - every loop fires 84-185 tokens after it starts; the loosest (a 34-token sentence with two
#   numbers changing) has a coverage of 0.53 when it fires, the real loops 0.77-1.0;
# - the closest non-loops: a real 35-token code block written twice in a row (2 copies at
#   coverage 1.0, silent by MIN_REPEATS and LONG_PERIOD) and the prime-by-prime lines (2.8
#   copies of a 28-token line at coverage 0.33). The clean traces first fire with MIN_REPEATS
#   2, MIN_LOOP_TOKENS 40 and MIN_COVERAGE 0.3 together, or with LONG_PERIOD 32; loops start
#   to be missed at MIN_COVERAGE 0.7, MIN_REPEATS 4, MIN_LOOP_TOKENS 150, NGRAM 16 or
#   MAX_GAP 8. The values sit between the two.
NGRAM = 8  # tokens per hashed n-gram: long enough that "so the answer is" alone never counts
MAX_PERIOD = 400  # longer recurrences are re-reading, not looping ("short period")
MIN_REPEATS = 3  # copies of the passage (the first included) before a short loop is reported
MIN_LOOP_TOKENS = 100  # and the repeated stretch must be at least this long (all copies)
LONG_PERIOD = 64  # a passage at least this long repeated back to back (2 copies) is a loop
MIN_COVERAGE = 0.5  # share of the run's positions whose n-gram matched one period back
MAX_GAP = 2 * NGRAM + 4  # positions without a hit that a run survives (a changed number)
PERIOD_SLACK = 2  # tokens a run's period may drift (a number growing a digit)

_MOD = (1 << 61) - 1
_BASE = 1_000_003
_PRUNE_EVERY = (1 << 13) - 1  # forget old n-grams every 8,192 tokens
_WORD = re.compile(r"\w+|[^\w\s]")


@dataclass(frozen=True, slots=True)
class LoopAlarm:
    """The reasoning repeats: a ``period``-token passage seen ``repeats`` times so far.

    ``start`` is the index of the first token of the first copy (counted from the first
    token fed), ``at`` the token on which the alarm fired, ``start_char`` the character
    offset of ``start`` in the text fed. ``unit`` is "token", or "word" for text-only feeds.
    """

    period: int
    repeats: int
    start: int
    at: int
    start_char: int
    unit: str = "token"

    @property
    def message(self) -> str:
        """A sentence for the banner."""
        return (f"The model seems to be repeating itself "
                f"(the same {self.period}-{self.unit} passage {self.repeats} times).")


class _Run:
    """Hits at (about) one distance: first and latest hit position, and how many."""

    __slots__ = ("first", "last", "hits")

    def __init__(self, first: int):
        self.first = first
        self.last = first
        self.hits = 1


class LoopDetector:
    """Fed one reasoning token at a time; returns a :class:`LoopAlarm` once, when it loops.

    ``feed(token_id, text)``: pass the token id when known (local models), else ``None``
    and the text (any chunk: it is split into words). Do not mix the two in one stream.
    After the alarm the detector stays silent until :meth:`reset`.
    """

    def __init__(self, *, ngram: int = NGRAM, min_repeats: int = MIN_REPEATS,
                 min_loop_tokens: int = MIN_LOOP_TOKENS, long_period: int = LONG_PERIOD,
                 min_coverage: float = MIN_COVERAGE, max_period: int = MAX_PERIOD,
                 max_gap: int = MAX_GAP, period_slack: int = PERIOD_SLACK):
        self.ngram = ngram
        self.min_repeats = min_repeats
        self.min_loop_tokens = min_loop_tokens
        self.long_period = long_period
        self.min_coverage = min_coverage
        self.max_period = max_period
        self.max_gap = max_gap
        self.period_slack = period_slack
        self._pow = pow(_BASE, ngram - 1, _MOD)  # weight of the unit leaving the window
        self.reset()

    def reset(self) -> None:
        """Forget everything (a new reasoning block, or re-arm after an alarm)."""
        self.alarm: LoopAlarm | None = None
        self.units = 0  # units (tokens or words) seen
        self.chars = 0  # characters fed
        self._window = [0] * self.ngram
        self._hash = 0
        self._last: dict[int, int] = {}  # n-gram hash -> position of its latest occurrence
        self._runs: dict[int, _Run] = {}  # distance -> run of hits at that distance
        self._offsets = array("q")  # character offset of every unit
        self._hashes = array("q")  # n-gram hash ending at every unit
        self._words: dict[str, int] = {}
        self._unit_name = "token"
        self._pending = ""  # text-only feeds: a word that may continue in the next chunk
        self._pending_at = 0

    # -- feeding ---------------------------------------------------------------------------
    def feed(self, token_id: int | None, text: str) -> LoopAlarm | None:
        """One token (its id if known, and its text); the alarm when this token completes a loop."""
        if self.alarm is not None:
            return None
        if token_id is None:
            return self._feed_text(text)
        at = self.chars
        self.chars = at + len(text)
        return self._unit(token_id + 1, at)

    def _feed_text(self, text: str) -> LoopAlarm | None:
        self._unit_name = "word"
        base = self._pending_at
        buf = self._pending + text if self._pending else text
        self.chars += len(text)
        end = len(buf)
        hold = buf[-1:].isalnum() or buf[-1:] == "_"  # the last word may go on in the next chunk
        words = self._words
        for m in _WORD.finditer(buf):
            if hold and m.end() == end:
                self._pending, self._pending_at = m.group(), base + m.start()
                return None
            word = m.group().lower()
            key = words.get(word)
            if key is None:
                key = words[word] = len(words) + 1
            alarm = self._unit(key, base + m.start())
            if alarm is not None:
                return alarm
        self._pending, self._pending_at = "", base + end
        return None

    def _unit(self, key: int, char_at: int) -> LoopAlarm | None:
        pos = self.units
        self.units = pos + 1
        self._offsets.append(char_at)
        window = self._window
        slot = pos % self.ngram
        # Until the window is full it holds zeros, which no real key is: no false matches.
        h = self._hash = ((self._hash - window[slot] * self._pow) * _BASE + key) % _MOD
        window[slot] = key
        hashes = self._hashes
        hashes.append(h)
        last = self._last
        prev = last.get(h)
        last[h] = pos
        if not pos & _PRUNE_EVERY:
            self._prune(pos)
        found = pos - prev if prev is not None and pos - prev <= self.max_period else 0
        runs = self._runs
        if runs:
            # A live run also counts the hits the dict cannot show: a copy's n-gram that also
            # occurred more recently (a passage with a repeat inside it).
            for d, run in list(runs.items()):
                if pos - run.last > self.max_gap:
                    del runs[d]
                elif d != found and hashes[pos - d] == h:
                    alarm = self._credit(run, d, pos)
                    if alarm is not None:
                        return alarm
        return self._hit(found, pos) if found else None

    def _prune(self, pos: int) -> None:
        """Forget n-grams last seen more than a period ago (memory stays bounded)."""
        oldest = pos - self.max_period
        self._last = {h: p for h, p in self._last.items() if p >= oldest}

    def _hit(self, d: int, pos: int) -> LoopAlarm | None:
        """The n-gram ending at ``pos`` was last seen ``d`` tokens ago."""
        runs = self._runs
        run = runs.get(d)
        if run is None:
            for delta in range(1, self.period_slack + 1):  # a run whose period drifted a little
                for key in (d - delta, d + delta):
                    other = runs.get(key)
                    if other is not None and other.last != pos:
                        run = runs.pop(key)
                        runs[d] = run
                        break
                if run is not None:
                    break
        if run is None:
            runs[d] = _Run(pos)
            return None
        return self._credit(run, d, pos)

    def _credit(self, run: _Run, d: int, pos: int) -> LoopAlarm | None:
        """One more hit for ``run`` (period ``d``); the alarm if it now makes a loop."""
        if run.last == pos:
            return None
        run.last = pos
        run.hits += 1
        length = pos - run.first + 1
        span = length + d + self.ngram - 1  # first copy's start .. this token
        copies = span // d
        if copies < 2 or run.hits < self.min_coverage * length:
            return None
        long_enough = span >= self.min_loop_tokens and copies >= self.min_repeats
        if not long_enough and not (d >= self.long_period and copies >= 2):
            return None
        start = max(0, pos - span + 1)  # (a drifted period can reach before the stream)
        self.alarm = LoopAlarm(period=d, repeats=copies, start=start, at=pos,
                               start_char=self._offsets[start], unit=self._unit_name)
        return self.alarm
