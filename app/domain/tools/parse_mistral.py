"""Mistral calls: ``[TOOL_CALLS]`` then a JSON list, or NAME ``[ARGS]`` JSON per call.

Tokenizers up to v7 (Mistral 7B v0.3, Nemo, Small 3.1): ``[TOOL_CALLS] [{"name": …,
"arguments": {…}, "id": "…"}, …]``. v11+ (Magistral, Small 3.2, Devstral, Ministral 3):
``[TOOL_CALLS]NAME[ARGS]{…}``, repeated per call, with ``[CALL_ID]ID`` before ``[ARGS]`` in
some. Neither has an end marker: a call ends where its JSON closes.

Pieces: ``CallOpened(NAME)`` at ``[ARGS]`` (v11+) or ``CallOpened("")`` at the list's first
bracket; ``[TOOL_CALLS]`` and the list's brackets and commas are ``Markup`` (the syntax
of a v11+ call is part of that call's raw text).
"""

from __future__ import annotations

from app.domain.tools.call_bodies import BodyCall, arguments_object, json_value_calls
from app.domain.tools.json_extent import JsonExtent
from app.domain.tools.stream_parser import NO_MARKERS, Buf, Markers, Seg, StreamParser

TOOL_CALLS, ARGS, CALL_ID = "[TOOL_CALLS]", "[ARGS]", "[CALL_ID]"

_OUT, _START, _NAME, _ID, _ARGS, _LIST = range(6)
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")
_NAME_LIMIT = 128
_WS = " \t\r\n"


class MistralParser(StreamParser):
    """Both Mistral call syntaxes."""

    def __init__(self, family, special_markers: bool = False, **options) -> None:
        super().__init__(family, special_markers, **options)
        self._m = {_OUT: Markers((TOOL_CALLS,)), _START: NO_MARKERS, _NAME: Markers((ARGS, CALL_ID)),
                   _ID: Markers((ARGS,)), _ARGS: NO_MARKERS, _LIST: NO_MARKERS}
        self._extent = JsonExtent()
        self._name = ""
        self._call_id = ""
        self._args_at = 0  # where the JSON starts in the raw text

    def _active(self) -> Markers:
        return self._m[self._state]

    def _text(self, buf: Buf, a: int, b: int) -> int:
        st, text = self._state, buf.text
        if st == _OUT:
            self._pass(buf.segs(a, b))
            return b
        if st == _START:
            i = a
            while i < b and text[i] in _WS:
                i += 1
            self._capture(buf.segs(a, i))
            if i < b:
                if text[i] in "[{":
                    self._open()
                    self._args_at = len(self._raw_text())
                    self._extent = JsonExtent()
                    self._goto(_LIST)
                elif text[i] in _NAME_CHARS:
                    self._name = ""
                    self._goto(_NAME)
                else:
                    self._give_up("no call after [TOOL_CALLS]")
            return i
        if st == _NAME:
            i = a
            while i < b and text[i] in _NAME_CHARS and len(self._name) + (i - a) < _NAME_LIMIT:
                i += 1
            self._name += text[a:i]
            self._capture(buf.segs(a, i))
            if i < b:
                if text[i] == "{" and self._name:  # [ARGS] left out (seen when it is not rendered)
                    self._start_args()
                else:
                    self._give_up("no [ARGS] after the tool name")
            return i
        if st == _ID:
            self._call_id += text[a:b]
            self._capture(buf.segs(a, b))
            return b
        close = self._extent.feed(text, a, b)
        if self._extent.invalid:
            self._give_up("the arguments are not JSON")
            return a
        stop = b if close == -1 else close
        self._capture(buf.segs(a, stop))
        if close != -1:
            raw = self._raw_text()
            if st == _LIST:
                self._complete(json_value_calls(raw[self._args_at:]), offset=self._args_at)
            else:
                arguments, error = arguments_object(raw[self._args_at:])
                self._complete([BodyCall(self._name, arguments, error, self._call_id.strip() or None)])
            self._goto(_OUT)
        return stop

    def _marker(self, m: str, segs: list[Seg]) -> None:
        st = self._state
        if st == _OUT:
            self._begin(segs)
            self._call_id = ""
            self._goto(_START)
        elif m == CALL_ID:
            self._capture(segs)
            self._goto(_ID)
        else:  # [ARGS]
            self._capture(segs)
            self._start_args()

    def _start_args(self) -> None:
        self._open(self._name)
        self._args_at = len(self._raw_text())
        self._extent = JsonExtent()
        self._goto(_ARGS)

    def _give_up(self, reason: str) -> None:
        self._abandon(reason)
        self._goto(_OUT)

    def _end(self) -> None:
        if self._state != _OUT:
            self._abandon("the output ended inside the call")
        self._goto(_OUT)
