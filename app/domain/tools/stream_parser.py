"""The streaming engine every tool-call parser is built on.

``StreamParser.feed`` splits each chunk into plain text and the markers of the current
state, and hands them to the family's state machine (``_text``/``_marker``/``_end``), which
decides what is a call. The engine guarantees the rules of the spec:

* **Cost**: a feed looks at the new chunk plus the few characters held back because they
  could still become a marker (one less than the longest marker of the state).
* **Markers split across chunks** are found; text that only looks like a marker passes.
* **Special tokens**: with ``special_markers`` a marker counts only when a chunk fed with
  ``special=True`` starts with it; nothing is held back then.
* **Nothing lost**: every input character ends up in exactly one piece (see ``pieces``),
  with the special flag it was fed with, so the reasoning parser downstream sees the same
  tokens it would have seen without tools.

The helpers at the bottom run a call's life: begin (decide "call" or "mentioned while
thinking"), capture its text, complete it into ``CallParsed``/``CallMentioned`` or abandon
it (``CallAbandoned`` plus its text back as ``Text``).
"""

from __future__ import annotations

import secrets
import string
from bisect import bisect_right
from typing import Iterable, Mapping, Sequence

from app.domain.tools.call_bodies import BodyCall
from app.domain.tools.families import ToolFamily
from app.domain.tools.pieces import (
    CallAbandoned,
    CallMentioned,
    CallOpened,
    CallParsed,
    Markup,
    Piece,
    Text,
    merge_text,
)
from app.domain.tools.types import ToolCall, ToolSpec

Seg = tuple[str, bool]  # text and the special flag it was fed with

_ID_ALPHABET = string.ascii_letters + string.digits


class Markers:
    """The markers active in one state, with what is needed to find and hold them."""

    __slots__ = ("markers", "first", "prefixes", "window")

    def __init__(self, markers: Iterable[str]) -> None:
        # longest first: at one position the longest marker wins
        self.markers = tuple(sorted(dict.fromkeys(markers), key=len, reverse=True))
        self.first = "".join(sorted({m[0] for m in self.markers}))
        self.prefixes = frozenset(m[:i] for m in self.markers for i in range(1, len(m)))
        self.window = max((len(m) for m in self.markers), default=1) - 1

    def earliest(self, text: str, pos: int) -> tuple[int, str | None]:
        best, found = -1, None
        for m in self.markers:
            j = text.find(m, pos) if best == -1 else text.find(m, pos, best + len(m))
            if j != -1 and (best == -1 or j < best):
                best, found = j, m
        return best, found

    def holdback(self, text: str, pos: int) -> int:
        """Start of the longest suffix of text[pos:] that is a proper prefix of a marker."""
        n = len(text)
        best = n
        for i in range(max(pos, n - self.window), n):
            if text[i] in self.first and text[i:] in self.prefixes:
                best = i
                break
        return best

    def starting(self, text: str) -> str | None:
        for m in self.markers:
            if text.startswith(m):
                return m
        return None


NO_MARKERS = Markers(())


class Buf:
    """The text being scanned, remembering which part was fed with which special flag."""

    __slots__ = ("text", "_starts", "_flags")

    def __init__(self, segs: Sequence[Seg]) -> None:
        self._starts: list[int] = []
        self._flags: list[bool] = []
        parts, pos = [], 0
        for t, f in segs:
            if t:
                self._starts.append(pos)
                self._flags.append(f)
                parts.append(t)
                pos += len(t)
        self.text = "".join(parts)

    def segs(self, a: int, b: int) -> list[Seg]:
        """``text[a:b]`` cut where the special flag (or the fed chunk) changes."""
        if a >= b:
            return []
        out = []
        i = bisect_right(self._starts, a) - 1
        while a < b:
            end = self._starts[i + 1] if i + 1 < len(self._starts) else len(self.text)
            cut = min(end, b)
            out.append((self.text[a:cut], self._flags[i]))
            a = cut
            i += 1
        return out


class CallIds:
    """Call ids: a random alphanumeric prefix and a counter (Mistral wants >= 9 alphanumerics)."""

    def __init__(self, prefix: str | None = None) -> None:
        self.prefix = prefix if prefix is not None else "".join(
            secrets.choice(_ID_ALPHABET) for _ in range(8))
        self.count = 0

    def next(self) -> str:
        self.count += 1
        return f"{self.prefix}{self.count}"


class StreamParser:
    """Base of the family parsers: chunk scanning, emission and the life of a call.

    Subclasses define ``_active()`` (the markers of the current state), ``_text(buf, a, b)``
    (consume ``buf.text[a:b]``, which holds no active marker; return where they stopped,
    which may be before ``b`` only after a state change), ``_marker(m, segs)`` and
    ``_end()`` (the stream is over).
    """

    def __init__(
        self,
        family: ToolFamily,
        special_markers: bool = False,
        *,
        id_prefix: str | None = None,
        tools: Iterable[ToolSpec] = (),
    ) -> None:
        self.family = family
        self.special_markers = special_markers
        self._ids = CallIds(id_prefix)
        self._tools: Mapping[str, ToolSpec] = {t.name: t for t in tools}
        self._tail: list[Seg] = []
        self._out: list[Piece] = []
        self._in_reasoning = False
        self._state = 0
        self._moves = 0  # counts state changes, so the scan loop can re-read its markers
        # the call being read
        self._raw: list[Seg] = []
        self._mention = False
        self._call_in_reasoning = False
        self._opened: str | None = None  # the name CallOpened carried; None: not opened

    # -- public -----------------------------------------------------------------------

    def feed(self, text: str, *, special: bool = False, in_reasoning: bool = False) -> list[Piece]:
        """Consume a chunk. ``in_reasoning``: the reasoning parser is inside a block where
        this chunk begins (it decides for calls that open in this chunk)."""
        out = self._out = []
        self._in_reasoning = in_reasoning
        if text:
            if self.special_markers:
                self._feed_special(text, special)
            else:
                self._feed_plain(text, special)
        return merge_text(out)

    def finish(self) -> list[Piece]:
        """The stream ended: held text is text, an unfinished call is abandoned."""
        out = self._out = []
        if self._tail:
            buf = Buf(self._tail)
            self._tail = []
            self._run_text(buf, 0, len(buf.text))
        self._end()
        return merge_text(out)

    @property
    def pending(self) -> str:
        """Text fed but not yet emitted (held marker beginnings and the call being read)."""
        call = "" if self._mention else "".join(t for t, _ in self._raw)
        return call + "".join(t for t, _ in self._tail)

    # -- scanning ---------------------------------------------------------------------

    def _feed_special(self, chunk: str, special: bool) -> None:
        if special:
            m = self._active().starting(chunk)
            if m is not None:
                self._marker(m, [(m, True)])
                chunk = chunk[len(m):]  # the rest keeps the flag it was fed with
        if chunk:
            buf = Buf([(chunk, special)])
            self._run_text(buf, 0, len(buf.text))

    def _feed_plain(self, chunk: str, special: bool) -> None:
        buf = Buf([*self._tail, (chunk, special)])
        self._tail = []
        text, n, pos = buf.text, len(buf.text), 0
        stuck = 0
        while pos < n:
            markers = self._active()
            j, m = markers.earliest(text, pos)
            end = j if m is not None else markers.holdback(text, pos)
            if end > pos:
                moves = self._moves
                k = self._text(buf, pos, end)
                if k <= pos:
                    stuck += 1
                    if stuck > 4:  # a state machine that does not move on: pass the text
                        self._pass(buf.segs(pos, end))
                        k = end
                else:
                    stuck = 0
                if k < end or self._moves != moves:
                    pos = k
                    continue  # another state: other markers
                pos = end
            if m is None:
                if pos < n:
                    self._tail = buf.segs(pos, n)
                return
            self._marker(m, buf.segs(j, j + len(m)))
            pos = j + len(m)

    def _run_text(self, buf: Buf, a: int, b: int) -> None:
        stuck = 0
        while a < b:
            k = self._text(buf, a, b)
            if k <= a:
                stuck += 1
                if stuck > 4:  # a state machine that does not move on: pass the text
                    self._pass(buf.segs(a, b))
                    return
            else:
                stuck = 0
                a = k

    # -- hooks ------------------------------------------------------------------------

    def _active(self) -> Markers:
        raise NotImplementedError

    def _text(self, buf: Buf, a: int, b: int) -> int:
        raise NotImplementedError

    def _marker(self, m: str, segs: list[Seg]) -> None:
        raise NotImplementedError

    def _end(self) -> None:
        raise NotImplementedError

    def _goto(self, state: int) -> None:
        self._state = state
        self._moves += 1

    # -- output -----------------------------------------------------------------------

    def _pass(self, segs: Iterable[Seg]) -> None:
        for t, f in segs:
            if t:
                self._out.append(Text(t, f))

    def _markup(self, segs: Iterable[Seg]) -> None:
        """Call syntax outside a call: Markup, or Text when the block is only mentioned."""
        if self._mention:
            self._pass(segs)
            return
        text = "".join(t for t, _ in segs)
        if text:
            self._out.append(Markup(text))

    # -- the life of a call -------------------------------------------------------------

    def _begin(self, segs: Iterable[Seg] = ()) -> None:
        """A call (or a block of calls) starts here: run it, or only note it if mentioned."""
        self._mention = self._in_reasoning and not self.family.calls_in_reasoning
        self._call_in_reasoning = self._in_reasoning
        self._raw = []
        self._opened = None
        self._capture(segs)

    def _open(self, name: str = "") -> None:
        if not self._mention and self._opened is None:
            self._opened = name
            self._out.append(CallOpened(name))

    def _capture(self, segs: Iterable[Seg]) -> None:
        segs = list(segs)
        if self._mention:
            self._pass(segs)
        self._raw.extend(segs)

    def _raw_text(self) -> str:
        return "".join(t for t, _ in self._raw)

    def _complete(self, calls: list[BodyCall], offset: int = 0, *, in_reasoning: bool | None = None) -> None:
        """The call text in ``_raw`` is complete and holds ``calls`` (spans from ``offset``)."""
        raw = self._raw_text()
        flag = self._call_in_reasoning if in_reasoning is None else in_reasoning
        if self._mention:
            for c in calls:
                s, e = (c.span[0] + offset, c.span[1] + offset) if c.span else (0, len(raw))
                self._out.append(CallMentioned(ToolCall("", c.name, c.arguments, raw[s:e], True, c.error)))
        elif not calls:
            self._abandon("the call holds no tool call")
            return
        else:
            pos = 0
            for i, c in enumerate(calls):
                s, e = (c.span[0] + offset, c.span[1] + offset) if c.span else (0, len(raw))
                if s > pos:
                    self._out.append(Markup(raw[pos:s]))
                if i > 0 or self._opened is None:
                    self._out.append(CallOpened(c.name))
                call = ToolCall(c.id or self._ids.next(), c.name, c.arguments, raw[s:e], flag, c.error)
                self._out.append(CallParsed(call))
                pos = e
            if pos < len(raw):
                self._out.append(Markup(raw[pos:]))
        self._reset_call()

    def _abandon(self, reason: str) -> None:
        """The call cannot complete: say so (if its card was opened) and give its text back."""
        if not self._mention:
            if self._opened is not None:
                self._out.append(CallAbandoned(self._opened, reason))
            self._pass(self._raw)
        self._reset_call()

    def _reset_call(self) -> None:
        self._raw = []
        self._mention = False
        self._opened = None
