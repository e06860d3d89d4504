"""Calls between an open and a close tag: Hermes/Qwen3, Qwen3-Coder, DeepSeek V3.2 DSML.

``<tool_call>{"name": …, "arguments": {…}}</tool_call>`` (Hermes, Qwen2.5/3, QwQ) and
``<tool_call><function=NAME><parameter=K>v</parameter></function></tool_call>`` (Qwen3-Coder,
Qwen3.5) share the tags; the body says which it is. DeepSeek V3.2 wraps one or more
``<｜DSML｜invoke name="…">`` elements in ``<｜DSML｜function_calls>…</｜DSML｜function_calls>``.

``CallOpened("")`` comes with the open tag; the call is parsed at the close tag.
"""

from __future__ import annotations

from app.domain.tools.call_bodies import dsml_calls, tagged_call
from app.domain.tools.stream_parser import Buf, Markers, Seg, StreamParser

_OUT, _CALL = 0, 1


class TaggedParser(StreamParser):
    """One call (or one DSML block of calls) per open/close tag pair."""

    def __init__(self, family, special_markers: bool = False, **options) -> None:
        super().__init__(family, special_markers, **options)
        self._open_tag, self._close_tag = family.markers[0], family.markers[1]
        self._m_out = Markers((self._open_tag,))
        self._m_call = Markers((self._close_tag,))
        self._dsml = family.parser == "dsml"

    def _active(self) -> Markers:
        return self._m_out if self._state == _OUT else self._m_call

    def _text(self, buf: Buf, a: int, b: int) -> int:
        if self._state == _OUT:
            self._pass(buf.segs(a, b))
        else:
            self._capture(buf.segs(a, b))
        return b

    def _marker(self, m: str, segs: list[Seg]) -> None:
        if self._state == _OUT:
            self._begin(segs)
            self._open()
            self._goto(_CALL)
            return
        self._capture(segs)
        raw = self._raw_text()
        body = raw[len(self._open_tag): len(raw) - len(self._close_tag)]
        if self._dsml:
            self._complete(dsml_calls(body), offset=len(self._open_tag))
        else:
            self._complete([tagged_call(body, self._tools)])
        self._goto(_OUT)

    def _end(self) -> None:
        if self._state == _CALL:
            self._abandon("the output ended inside the call")
            self._goto(_OUT)
