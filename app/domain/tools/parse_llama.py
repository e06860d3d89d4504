"""Llama 3.1–3.3 calls: a bare JSON object, or code after ``<|python_tag|>``.

Per Meta's template a custom-tool call is the whole assistant message
``{"name": "NAME", "parameters": {…}}`` (``"type": "function"`` may lead, as llama.cpp
accepts); like llama.cpp the parser only takes such an object at the start of the output
(or right after another call), so JSON inside an answer stays text. It ends where the
object closes. ``<|python_tag|>`` starts a builtin call (``brave_search.call(query="…")``),
JSON, or code for the code interpreter (the ``python`` tool), ended by ``<|eom_id|>`` or
``<|eot_id|>`` — end-of-generation tokens: feed them when generation stops on one.

Pieces: ``CallOpened(NAME)`` once the object has shown ``"name": "NAME"``; whitespace and
``;`` between calls and the end-of-message tokens outside a call are ``Markup``.
"""

from __future__ import annotations

import json

from app.domain.tools.call_bodies import call_from_object, python_tag_call
from app.domain.tools.json_extent import JsonExtent
from app.domain.tools.stream_parser import Buf, Markers, Seg, StreamParser

PYTHON_TAG, EOM, EOT = "<|python_tag|>", "<|eom_id|>", "<|eot_id|>"

_LEAD, _PROBE, _JSON, _AFTER, _ANSWER, _PYTAG = range(6)
_PROBE_LIMIT = 256  # an object that has not shown its "name" by then is no call
_WS = " \t\r\n"


def call_prefix(text: str) -> tuple[str, str]:
    """Does ``text`` begin like ``{"name": "X"`` (optionally ``{"type": "function", …``)?

    ("yes", X) when it does, ("no", "") when it cannot, ("more", "") when it is too short
    to tell.
    """
    i, n = 0, len(text)

    def ws(i: int) -> int:
        while i < n and text[i] in _WS:
            i += 1
        return i

    def string(i: int) -> tuple[str, int, str | None]:
        if i >= n:
            return "more", i, None
        if text[i] != '"':
            return "no", i, None
        j = i + 1
        while j < n:
            if text[j] == "\\":
                j += 2
                continue
            if text[j] == '"':
                try:
                    return "ok", j + 1, json.loads(text[i: j + 1])
                except ValueError:
                    return "no", j + 1, None
            j += 1
        return "more", n, None

    def lit(i: int, c: str) -> str:
        return "more" if i >= n else ("ok" if text[i] == c else "no")

    i = ws(i)
    if (s := lit(i, "{")) != "ok":
        return s, ""
    i = ws(i + 1)
    s, i, key = string(i)
    if s != "ok":
        return s, ""
    if key == "type":
        i = ws(i)
        if (s := lit(i, ":")) != "ok":
            return s, ""
        s, i, value = string(ws(i + 1))
        if s != "ok":
            return s, ""
        if value != "function":
            return "no", ""
        i = ws(i)
        if (s := lit(i, ",")) != "ok":
            return s, ""
        s, i, key = string(ws(i + 1))
        if s != "ok":
            return s, ""
    if key != "name":
        return "no", ""
    i = ws(i)
    if (s := lit(i, ":")) != "ok":
        return s, ""
    s, i, name = string(ws(i + 1))
    if s != "ok":
        return s, ""
    return ("yes", name) if isinstance(name, str) and name else ("no", "")


class LlamaParser(StreamParser):
    """Llama 3.x JSON calls and ``<|python_tag|>`` calls."""

    def __init__(self, family, special_markers: bool = False, **options) -> None:
        super().__init__(family, special_markers, **options)
        outside = Markers((PYTHON_TAG, EOM, EOT))
        ends = Markers((EOM, EOT))
        self._m = {_LEAD: outside, _AFTER: outside, _ANSWER: outside, _PROBE: ends, _JSON: ends,
                   _PYTAG: ends}
        self._extent = JsonExtent()

    def _active(self) -> Markers:
        return self._m[self._state]

    def _text(self, buf: Buf, a: int, b: int) -> int:
        st, text = self._state, buf.text
        if st == _ANSWER:
            self._pass(buf.segs(a, b))
            return b
        if st == _PYTAG:
            self._capture(buf.segs(a, b))
            return b
        if st in (_LEAD, _AFTER):
            i = a
            while i < b and (text[i] in _WS or (st == _AFTER and text[i] == ";")):
                i += 1
            if i > a:
                (self._pass if st == _LEAD else self._markup)(buf.segs(a, i))
            if i < b:
                if text[i] == "{":
                    self._begin()
                    self._extent = JsonExtent()
                    self._goto(_PROBE)
                else:
                    self._goto(_ANSWER)
            return i
        close = self._extent.feed(text, a, b)
        stop = b if close == -1 else close
        self._capture(buf.segs(a, stop))
        if st == _PROBE:
            verdict, name = call_prefix(self._raw_text()[:_PROBE_LIMIT])
            if verdict == "no" or (verdict == "more" and (close != -1 or len(self._raw_text()) >= _PROBE_LIMIT)):
                self._abandon("no call")  # never opened: its text goes on as text
                self._goto(_ANSWER)
                return stop
            if verdict == "yes":
                self._open(name)
                self._goto(_JSON)
        if close != -1:
            self._finish_json()
        return stop

    def _finish_json(self) -> None:
        raw = self._raw_text()
        try:
            obj = json.loads(raw)
        except ValueError:
            obj = None
        self._complete([call_from_object(obj, raw)])
        self._goto(_AFTER)

    def _marker(self, m: str, segs: list[Seg]) -> None:
        st = self._state
        if st == _PYTAG:
            self._capture(segs)
            raw = self._raw_text()
            self._complete([python_tag_call(raw[len(PYTHON_TAG): len(raw) - len(m)])])
            self._goto(_ANSWER)
        elif st in (_PROBE, _JSON):
            self._abandon("the message ended inside the call")
            self._markup(segs)
            self._goto(_ANSWER)
        elif m == PYTHON_TAG:
            self._begin(segs)
            self._open()
            self._goto(_PYTAG)
        else:
            self._markup(segs)

    def _end(self) -> None:
        if self._state in (_PROBE, _JSON, _PYTAG):
            self._abandon("the output ended inside the call")
        self._goto(_ANSWER)
