"""Incremental parser that splits a raw token stream into reasoning, answer and markers.

``ReasoningParser.feed(chunk)`` returns turn events for whatever part of the stream is
decided; ``finish()`` flushes the rest. Each chunk costs O(len(chunk) + hold-back
window): the parser only ever looks at the new chunk plus the few characters it held
back because they could still become a marker.

States::

    LEAD        nothing but whitespace yet (not forced open)
    GAP         right after a block closed, nothing but whitespace since
    REASONING   inside a block ("fresh" until its first non-whitespace character)
    ANSWER      answer text
    UNDECIDED   implicit-open families only: text before any marker, held until an end
                marker (it was reasoning) or anything else decides (it is answer)

Design decisions (see the spec's rules):

* Nothing is lost: reasoning + answer + markup + block markers == input, and the merged
  event sequence does not depend on where the input was cut.
* ``forced_open``: ``BlockStart(marker="")`` is emitted by the first ``feed()`` (or
  ``finish()``) call, timestamped then, i.e. at the first generated token, so prompt
  processing does not count as thinking time.
* Whitespace in LEAD/GAP is held until the next thing decides it: before a marker it is
  emitted with the marker as ``MarkupText``; before text (or at the end) it is answer.
* A start marker at the very beginning of a block (duplicate opener) and an end marker
  at the start of the answer (duplicate closer, e.g. after a budget cut) are
  ``MarkupText``.
* Implicit open (``Okay…</think>Answer``) is applied only when the spec says the family
  opens implicitly *and* the caller passes ``implicit_open=True``; the text is then held
  (no live display) until the first marker decides, which is why it is opt-in.
* Special-token mode (``spec.special_tokens``): a marker counts only if it begins with a
  chunk fed with ``special=True``; other chunks are plain text and never held back.
"""

from __future__ import annotations

import time
from typing import Callable, Union

from app.domain.events import AnswerDelta, BlockEnd, BlockStart, MarkupText, ReasoningDelta
from app.domain.reasoning.markers import MarkerSpec

ParserEvent = Union[BlockStart, ReasoningDelta, BlockEnd, AnswerDelta, MarkupText]

_LEAD, _GAP, _REASONING, _ANSWER, _UNDECIDED = range(5)
_R, _A, _M = 0, 1, 2  # text kinds, indexes into _TEXT_EVENTS
_TEXT_EVENTS = (ReasoningDelta, AnswerDelta, MarkupText)


def is_blank_reasoning(text: str) -> bool:
    """True when a block's reasoning is empty or whitespace only (the view shows no panel)."""
    return not text or text.isspace()


def display_trim(text: str) -> str:
    """Text as displayed: whitespace inside markers / before the answer is not shown."""
    return text.strip()


class _Matcher:
    """The markers active in one state, with what is needed to find and hold them."""

    __slots__ = ("markers", "first", "single", "prefixes", "window")

    def __init__(self, markers: tuple[str, ...]) -> None:
        self.markers = tuple(dict.fromkeys(markers))
        self.first = "".join(sorted({m[0] for m in self.markers}))
        self.single = self.first if len(self.first) <= 1 else None
        self.prefixes = frozenset(m[:i] for m in self.markers for i in range(1, len(m)))
        self.window = max((len(m) for m in self.markers), default=1) - 1

    def at(self, text: str, i: int) -> str | None:
        for m in self.markers:
            if text.startswith(m, i):
                return m
        return None

    def earliest(self, text: str, pos: int) -> tuple[int, str | None]:
        best, found = -1, None
        for m in self.markers:
            j = text.find(m, pos) if best == -1 else text.find(m, pos, best + len(m) - 1)
            if j != -1 and (best == -1 or j < best):
                best, found = j, m
        return best, found

    def holdback(self, text: str, pos: int) -> int:
        """Start of the longest suffix of text[pos:] that is a proper prefix of a marker."""
        n = len(text)
        start = max(pos, n - self.window)
        best = n
        for c in self.first:
            i = text.find(c, start, best)
            while i != -1:
                if text[i:] in self.prefixes:
                    best = i
                    break
                i = text.find(c, i + 1, best)
        return best


class ReasoningParser:
    """Turns raw model text into reasoning/answer/markup events, chunk by chunk.

    ``spec=None`` is a pass-through (every chunk is answer text). ``interleaved`` lets a
    start marker inside the answer open a new block. ``implicit_open`` enables the
    missing-opener rule for families whose spec allows it (see module docstring).
    """

    def __init__(
        self,
        spec: MarkerSpec | None,
        *,
        forced_open: bool = False,
        interleaved: bool = False,
        implicit_open: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._spec = spec
        self._clock = clock
        self._interleaved = interleaved
        self._forced = forced_open and spec is not None
        self._implicit = bool(implicit_open and spec is not None and spec.implicit_open)
        self._special_mode = spec is not None and spec.special_tokens
        self._state = _REASONING if self._forced else _LEAD
        self._fresh = True
        self._started = False
        self._truncated = False
        self._t0 = 0.0
        self._ws: list[str] = []  # whitespace held in LEAD/GAP
        self._und: list[str] = []  # UNDECIDED text
        self._tail = ""  # what could still become a marker
        self._cand = ""  # special mode: marker being assembled from tokens
        self._out: list[ParserEvent] = []
        self._kind = -1
        self._parts: list[str] = []
        if spec is not None:
            s, e, mk = spec.start, spec.end, spec.markup
            self._m_gap = _Matcher((s, e, *mk))
            self._m_fresh = _Matcher((s, e))
            self._m_reason = _Matcher((e,))
            self._m_answer = _Matcher((*mk, s) if interleaved else mk)
            self._m_und = self._m_gap
            self._all = spec.all_markers
            # fast-path trigger: the one first character of the state's markers
            # ("" = no markers, None = several first characters: always scan)
            self._c_answer = self._m_answer.single
            self._c_reason = self._m_reason.single

    # -- public -----------------------------------------------------------------------

    @property
    def in_reasoning(self) -> bool:
        """Inside a reasoning block after everything fed so far (False while UNDECIDED)."""
        return self._state == _REASONING

    @property
    def undecided(self) -> bool:
        """Implicit-open text is being held until a marker decides what it is."""
        return self._state == _UNDECIDED

    @property
    def truncated(self) -> bool:
        """The stream finished inside a reasoning block."""
        return self._truncated

    @property
    def pending(self) -> str:
        """Text fed but not yet emitted (held whitespace, undecided text, partial marker)."""
        return "".join(self._ws) + "".join(self._und) + self._tail + self._cand

    def feed(self, chunk: str, *, special: bool = False) -> list[ParserEvent]:
        """Consume a chunk; ``special`` marks a control token (used in special-token mode)."""
        if self._spec is None:
            return [AnswerDelta(chunk)] if chunk else []
        # Fast path: inside a block or the answer, no held text, and the chunk cannot
        # contain the start of a marker -> one event, no scanning.
        if not self._tail and self._started:
            st = self._state
            if st == _ANSWER:
                c, cls = self._c_answer, AnswerDelta
            elif st == _REASONING and not self._fresh:
                c, cls = self._c_reason, ReasoningDelta
            else:
                c = None
            if c is not None and (
                (not special and not self._cand) if self._special_mode else not (c and c in chunk)
            ):
                return [cls(chunk)] if chunk else []
        out = self._out = []
        if not self._started:
            self._start()
        if self._special_mode:
            self._feed_special(chunk, special)
        else:
            if self._tail:
                chunk = self._tail + chunk
                self._tail = ""
            if chunk:
                self._scan(chunk)
        self._flush_text()
        return out

    def finish(self) -> list[ParserEvent]:
        """Flush held text as the current state's text; close an open block as truncated."""
        if self._spec is None:
            return []
        out = self._out = []
        if not self._started:
            self._start()
        rest = self._tail + self._cand
        self._tail = self._cand = ""
        if rest:
            self._plain(rest)
        st = self._state
        if st == _REASONING:
            self._emit(BlockEnd(self._clock(), "", truncated=True))
            self._truncated = True
        elif st == _UNDECIDED:
            self._text(_A, "".join(self._und))
            self._und = []
        elif self._ws:
            self._text(_A, "".join(self._ws))
            self._ws = []
        self._state = _ANSWER
        self._flush_text()
        return out

    # -- scanning ---------------------------------------------------------------------

    def _start(self) -> None:
        self._started = True
        self._t0 = self._clock()
        if self._forced:
            self._emit(BlockStart(self._t0, ""))

    def _scan(self, text: str) -> None:
        pos, n = 0, len(text)
        while pos < n:
            st = self._state
            if st == _ANSWER:
                m = self._m_answer
                if not m.markers:
                    self._plain(text[pos:] if pos else text)
                    return
            elif st == _REASONING:
                if self._fresh:
                    pos = self._step_blank(text, pos, self._m_fresh)
                    continue
                m = self._m_reason
            elif st == _UNDECIDED:
                m = self._m_und
            else:
                pos = self._step_blank(text, pos, self._m_gap)
                continue
            j, found = m.earliest(text, pos)
            if found is None:
                h = m.holdback(text, pos)
                if h > pos:
                    self._plain(text[pos:h] if pos or h < n else text)
                if h < n:
                    self._tail = text[h:]
                return
            if j > pos:
                self._plain(text[pos:j])
            self._marker(found)
            pos = j + len(found)

    def _step_blank(self, text: str, pos: int, m: _Matcher) -> int:
        """LEAD, GAP and a fresh block: markers count only at the first non-space char."""
        n = len(text)
        i = n - len(text[pos:].lstrip())
        if i > pos:
            self._plain(text[pos:i])
        if i == n:
            return n
        found = m.at(text, i)
        if found is not None:
            self._marker(found)
            return i + len(found)
        if n - i <= m.window and text[i:] in m.prefixes:
            self._tail = text[i:]
            return n
        self._plain(text[i])  # decides the state; the rest is scanned in the new one
        return i + 1

    def _feed_special(self, chunk: str, special: bool) -> None:
        cand = self._cand
        if not cand and not special:
            if chunk:
                self._plain(chunk)
            return
        text = cand + chunk
        self._cand = ""
        for m in self._all:
            if text.startswith(m):
                self._marker(m)
                if len(text) > len(m):
                    self._plain(text[len(m) :])
                return
        if text in self._m_gap.prefixes:
            self._cand = text
        elif cand:
            self._plain(cand)
            self._feed_special(chunk, special)
        elif text:
            self._plain(text)

    # -- state transitions --------------------------------------------------------------

    def _plain(self, s: str) -> None:
        """Text that contains no marker, in the current state."""
        if not s:
            return
        st = self._state
        if st == _REASONING:
            if self._fresh and not s.isspace():
                self._fresh = False
            self._text(_R, s)
        elif st == _ANSWER:
            self._text(_A, s)
        elif st == _UNDECIDED:
            self._und.append(s)
        elif s.isspace():
            self._ws.append(s)
        else:
            if self._ws:
                s = "".join(self._ws) + s
                self._ws = []
            if st == _LEAD and self._implicit:
                self._state = _UNDECIDED
                self._und.append(s)
            else:
                self._state = _ANSWER
                self._text(_A, s)

    def _marker(self, m: str) -> None:
        spec = self._spec
        assert spec is not None
        st = self._state
        if st == _REASONING:
            if m == spec.end:
                self._emit(BlockEnd(self._clock(), m))
                self._state = _GAP
            elif m == spec.start and self._fresh:
                self._text(_M, m)  # duplicate opener
            else:
                self._plain(m)
        elif st == _ANSWER:
            if m == spec.start and self._interleaved:
                self._open(m)
            elif m in spec.markup:
                self._text(_M, m)
            else:
                self._plain(m)
        elif st == _UNDECIDED:
            text = "".join(self._und)
            self._und = []
            if m == spec.end:
                self._emit(BlockStart(self._t0, ""))
                self._text(_R, text)
                self._emit(BlockEnd(self._clock(), m))
                self._state = _GAP
            else:
                self._text(_A, text)
                self._state = _ANSWER
                self._marker(m)
        else:  # LEAD or GAP
            ws = "".join(self._ws)
            self._ws = []
            if m == spec.start:
                self._text(_M, ws)
                self._open(m)
            elif m == spec.end and st == _LEAD and self._implicit:
                self._emit(BlockStart(self._t0, ""))
                self._text(_R, ws)
                self._emit(BlockEnd(self._clock(), m))
                self._state = _GAP
            else:  # a duplicate end marker or a wrapper: neither reasoning nor answer
                self._text(_M, ws + m)
                if m == spec.end:
                    self._state = _GAP

    def _open(self, marker: str) -> None:
        self._emit(BlockStart(self._clock(), marker))
        self._state = _REASONING
        self._fresh = True

    # -- output -----------------------------------------------------------------------

    def _text(self, kind: int, s: str) -> None:
        if not s:
            return
        if kind == self._kind:
            self._parts.append(s)
        else:
            self._flush_text()
            self._kind = kind
            self._parts = [s]

    def _flush_text(self) -> None:
        if self._kind != -1:
            self._out.append(_TEXT_EVENTS[self._kind]("".join(self._parts)))
            self._kind = -1
            self._parts = []

    def _emit(self, event: ParserEvent) -> None:
        self._flush_text()
        self._out.append(event)


class PassThroughParser:
    """The parser for models without inline reasoning: every chunk is answer text."""

    in_reasoning = False
    undecided = False
    truncated = False
    pending = ""

    def feed(self, chunk: str, *, special: bool = False) -> list[ParserEvent]:
        return [AnswerDelta(chunk)] if chunk else []

    def finish(self) -> list[ParserEvent]:
        return []


def make_parser(
    spec: MarkerSpec | None, **options: object
) -> ReasoningParser | PassThroughParser:
    """A ``ReasoningParser`` for ``spec``, or the trivial pass-through when there is none."""
    if spec is None:
        return PassThroughParser()
    return ReasoningParser(spec, **options)  # type: ignore[arg-type]
