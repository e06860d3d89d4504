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

from app.domain.tools.call_bodies import json_call, python_tag_call
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
    verdict, name, _ = call_prefix_at(text)
    return verdict, name


def call_prefix_at(text: str) -> tuple[str, str, int]:
    """``call_prefix`` and the index of the character that decided it (``len(text)`` for
    "more"): ``text[:at]`` still gets "more", ``text[:at + 1]`` and every longer prefix the
    verdict. The parser ends its probe there, whatever the chunks were."""
    n = len(text)

    def ws(i: int) -> int:
        while i < n and text[i] in _WS:
            i += 1
        return i

    def string(i: int) -> tuple[str, int, object]:
        """A JSON string at ``i``: ("ok", just past it, value), ("no", deciding index, None)
        or ("more", n, None)."""
        if i >= n:
            return "more", n, None
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
                    return "no", j, None
            j += 1
        return "more", n, None

    def lit(i: int, c: str) -> str:
        return "more" if i >= n else ("ok" if text[i] == c else "no")

    def after(i: int, c: str) -> tuple[str, int, object]:
        """The string after the punctuation ``c`` (blanks around both allowed)."""
        i = ws(i)
        if (s := lit(i, c)) != "ok":
            return s, min(i, n), None
        return string(ws(i + 1))

    i = ws(0)
    if (s := lit(i, "{")) != "ok":
        return s, "", min(i, n)
    s, i, key = string(ws(i + 1))
    if s != "ok":
        return s, "", i
    if key == "type":
        s, i, value = after(i, ":")
        if s != "ok":
            return s, "", i
        if value != "function":
            return "no", "", i - 1
        s, i, key = after(i, ",")
        if s != "ok":
            return s, "", i
    if key != "name":
        return "no", "", i - 1
    s, i, name = after(i, ":")
    if s != "ok":
        return s, "", i
    return ("yes", name, i - 1) if isinstance(name, str) and name else ("no", "", i - 1)


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
        if st == _PROBE:
            cut = self._probe(buf, a, stop, close != -1)
            if cut is not None:
                return cut
        else:
            self._capture(buf.segs(a, stop))
        if close != -1:
            self._finish_json()
        return stop

    def _probe(self, buf: Buf, a: int, stop: int, closed: bool) -> int | None:
        """Capture ``text[a:stop]`` into the probed object, or end the probe where the text
        says it is no call (then return where the answer text begins).

        The probe ends at the character that decided, not at the end of this chunk: what
        follows is scanned again as answer text, with the answer's markers (a
        ``<|python_tag|>`` there is a call), so the result does not depend on the chunks.
        """
        held = self._raw_text()
        room = max(_PROBE_LIMIT - len(held), 0)
        head = held + buf.text[a: min(stop, a + room)]
        verdict, name, at = call_prefix_at(head)
        if verdict == "no":
            cut = a + at - len(held)  # the deciding character is answer text
        elif verdict == "more" and len(head) >= _PROBE_LIMIT:
            cut = a + room  # no "name" within the limit
        elif verdict == "more" and closed:
            cut = stop
        else:
            cut = None
        if cut is not None:
            self._capture(buf.segs(a, cut))
            self._abandon("no call")  # never opened: its text goes on as text
            self._goto(_ANSWER)
            return cut
        self._capture(buf.segs(a, stop))
        if verdict == "yes":
            self._open(name)
            self._goto(_JSON)
        return None

    def _finish_json(self) -> None:
        self._complete([json_call(self._raw_text())])
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
