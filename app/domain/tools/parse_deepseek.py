"""DeepSeek R1/V3 and V3.1 calls: a block of calls in DeepSeek's special tokens.

``<｜tool▁calls▁begin｜>`` opens the block, each call is
``<｜tool▁call▁begin｜>BODY<｜tool▁call▁end｜>`` and ``<｜tool▁calls▁end｜>`` closes it. The body
is ``function<｜tool▁sep｜>NAME\\n```json\\n{…}\\n```" (R1, V3) or ``NAME<｜tool▁sep｜>{…}``
(V3.1+); both are accepted for both families. As llama.cpp does, the opener spellings R1
distills produce (``<｜tool_calls_begin｜>``…) and a missing ``<｜tool▁call▁begin｜>`` after the
opener are accepted too.

Pieces: the block tags and what lies between calls are ``Markup``; ``CallOpened("")`` comes
with each call's begin, ``CallParsed`` with its end.
"""

from __future__ import annotations

from app.domain.tools.call_bodies import deepseek_call
from app.domain.tools.stream_parser import Buf, Markers, Seg, StreamParser

BLOCK_BEGIN = "<｜tool▁calls▁begin｜>"
BLOCK_END = "<｜tool▁calls▁end｜>"
CALL_BEGIN = "<｜tool▁call▁begin｜>"
CALL_END = "<｜tool▁call▁end｜>"
# spellings R1 distills write instead of the token (llama.cpp accepts the same)
BLOCK_BEGIN_VARIANTS = ("<｜tool_calls_begin｜>", "<｜tool calls begin｜>", "<｜tool\\_calls\\_begin｜>",
                        "<｜tool▁calls｜>")

_OUT, _BLOCK, _CALL = 0, 1, 2


class DeepSeekParser(StreamParser):
    """Blocks of DeepSeek calls (both body generations)."""

    def __init__(self, family, special_markers: bool = False, **options) -> None:
        super().__init__(family, special_markers, **options)
        openers = (BLOCK_BEGIN, CALL_BEGIN) if special_markers else (BLOCK_BEGIN, CALL_BEGIN, *BLOCK_BEGIN_VARIANTS)
        self._m = {
            _OUT: Markers(openers),
            _BLOCK: Markers((CALL_BEGIN, BLOCK_END)),
            _CALL: Markers((CALL_END, BLOCK_END)),
        }
        self._implicit_block = False  # the block began with a call, not with BLOCK_BEGIN
        self._block = (False, False)  # (mentioned, in reasoning) of the current block

    def _active(self) -> Markers:
        return self._m[self._state]

    def _text(self, buf: Buf, a: int, b: int) -> int:
        st = self._state
        if st == _OUT:
            self._pass(buf.segs(a, b))
            return b
        if st == _CALL:
            self._capture(buf.segs(a, b))
            return b
        text = buf.text
        i = a
        while i < b and text[i].isspace():
            i += 1
        if i > a:
            self._in_block()
            # between bare calls (no block token) whitespace is just text
            (self._pass if self._implicit_block else self._markup)(buf.segs(a, i))
        if i < b:
            if self._implicit_block:  # text after a bare call: the block is over
                self._goto(_OUT)
                return i
            self._start_call([])  # the begin token left out (R1 distills)
        return i

    def _marker(self, m: str, segs: list[Seg]) -> None:
        st = self._state
        if st == _OUT:
            self._begin()  # decides "run" or "mentioned" for the whole block
            self._block = (self._mention, self._call_in_reasoning)
            if m == CALL_BEGIN:
                self._implicit_block = True
                self._start_call(segs)
            else:
                self._implicit_block = False
                self._markup(segs)
                self._goto(_BLOCK)
        elif st == _BLOCK:
            if m == CALL_BEGIN:
                self._start_call(segs)
            else:
                self._markup(segs)
                self._goto(_OUT)
        else:
            raw = self._raw_text()
            begin = len(CALL_BEGIN) if raw.startswith(CALL_BEGIN) else 0
            if m == CALL_END:
                self._capture(segs)
                self._complete([deepseek_call(raw[begin:])])
                self._in_block()
                self._goto(_BLOCK)
            else:  # the block closes without the call's end token
                self._complete([deepseek_call(raw[begin:])])
                self._in_block()
                self._markup(segs)
                self._goto(_OUT)

    def _in_block(self) -> None:
        """Between calls: the block's run/mentioned decision holds for its syntax."""
        self._mention, self._call_in_reasoning = self._block

    def _start_call(self, segs: list[Seg]) -> None:
        self._in_block()
        self._raw = []
        self._opened = None
        self._capture(segs)
        self._open()
        self._goto(_CALL)

    def _end(self) -> None:
        if self._state == _CALL:
            self._abandon("the output ended inside the call")
        self._goto(_OUT)
