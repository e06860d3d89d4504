"""gpt-oss (Harmony) calls: messages addressed to a tool.

Harmony output is a sequence of messages ``<|start|>ROLE HEADER<|message|>BODY<|end|>``;
the prompt ends with ``<|start|>assistant``, so the output begins inside a header. A header
that names a recipient is a call; its body holds the arguments and ``<|call|>`` ends it::

    <|channel|>commentary to=functions.NAME <|constrain|>json<|message|>{…}<|call|>
    <|start|>assistant to=functions.NAME<|channel|>commentary json<|message|>{…}<|call|>

(the first is what the model writes per OpenAI's Harmony guide, the second what its chat
template renders; llama.cpp accepts both, and calls on the analysis channel too).

The parser holds a header until ``<|message|>`` decides: a call is taken whole (its header
included) and reported as ``CallOpened(NAME)`` then ``CallParsed``; any other header goes
on, token for token, to the reasoning parser, which reads the channels. A call on the
analysis channel is ``in_reasoning``. ``<|call|>`` is an end-of-generation token: feed it
when generation stops on it.
"""

from __future__ import annotations

import re

from app.domain.tools.call_bodies import harmony_call
from app.domain.tools.stream_parser import Buf, Markers, Seg, StreamParser

START, CHANNEL, CONSTRAIN, MESSAGE = "<|start|>", "<|channel|>", "<|constrain|>", "<|message|>"
END, CALL, RETURN = "<|end|>", "<|call|>", "<|return|>"

_HEADER, _BODY, _CALL = 0, 1, 2
_HEADER_LIMIT = 256  # longer is not a header: pass it on
_HEADER_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-=: ")
_RECIPIENT = re.compile(r"(?:^|[\s>])to=([^\s<]+)")
_CHANNEL = re.compile(r"<\|channel\|>\s*(\w+)")
_IN_ROLE = " to="  # at the very start of the output, a header without a marker must begin so
_ROLES = frozenset(("assistant", "user", "system", "developer"))


class HarmonyParser(StreamParser):
    """Harmony messages: calls taken out, every other message passed on unchanged."""

    def __init__(self, family, special_markers: bool = False, **options) -> None:
        super().__init__(family, special_markers, **options)
        self._m = {
            _HEADER: Markers((START, CHANNEL, CONSTRAIN, MESSAGE, END, CALL, RETURN)),
            _BODY: Markers((START, CHANNEL, END, CALL, RETURN)),
            _CALL: Markers((CALL, END, START)),
        }
        self._header: list[Seg] = []
        self._header_len = 0
        self._bare = True  # the header has no marker yet (the start of the output)
        self._name = ""
        self._analysis = False
        self._body_at = 0

    @property
    def pending(self) -> str:
        return "".join(t for t, _ in self._header) + super().pending

    def _active(self) -> Markers:
        return self._m[self._state]

    def _text(self, buf: Buf, a: int, b: int) -> int:
        st = self._state
        if st == _BODY:
            self._pass(buf.segs(a, b))
            return b
        if st == _CALL:
            self._capture(buf.segs(a, b))
            return b
        text = buf.text
        i = a
        while i < b and text[i] in _HEADER_CHARS and self._header_len + (i - a) < _HEADER_LIMIT:
            if self._bare:
                k = self._header_len + (i - a)
                if k < len(_IN_ROLE) and text[i] != _IN_ROLE[k]:
                    break
            i += 1
        self._header.extend(buf.segs(a, i))
        self._header_len += i - a
        if i < b:  # a character no header has: this was text
            self._release()
            self._goto(_BODY)
        return i

    def _marker(self, m: str, segs: list[Seg]) -> None:
        st = self._state
        if st == _HEADER:
            if m in (CHANNEL, CONSTRAIN):
                self._header.extend(segs)
                self._header_len += len(m)
                self._bare = False
            elif m == START:
                self._release()
                self._new_header(segs)
            elif m == MESSAGE:
                self._decide(segs)
            else:  # an end token where a header was expected
                self._release()
                self._pass(segs)
                self._goto(_BODY)
        elif st == _BODY:
            if m in (START, CHANNEL):
                self._new_header(segs)
            else:
                self._pass(segs)
        elif m == START:
            self._abandon("a new message began before the call ended")
            self._new_header(segs)
        else:
            self._capture(segs)
            raw = self._raw_text()
            body = raw[self._body_at: len(raw) - len(m)]
            self._complete([harmony_call(self._name, body)], in_reasoning=self._analysis)
            self._goto(_BODY)

    def _new_header(self, segs: list[Seg]) -> None:
        self._header = list(segs)
        self._header_len = sum(len(t) for t, _ in segs)
        self._bare = False
        self._goto(_HEADER)

    def _release(self) -> None:
        """The held header was no call: pass it on as it came."""
        self._pass(self._header)
        self._header = []
        self._header_len = 0
        self._bare = False

    def _decide(self, segs: list[Seg]) -> None:
        header = "".join(t for t, _ in self._header)
        recipient = _RECIPIENT.search(header)
        if recipient is None or recipient.group(1) in _ROLES:  # e.g. a tool's reply "to=assistant"
            self._header.extend(segs)
            self._release()
            self._goto(_BODY)
            return
        name = recipient.group(1)
        self._name = name[len("functions."):] if name.startswith("functions.") else name
        channel = _CHANNEL.search(header)
        self._begin(self._header)
        self._analysis = self._in_reasoning or bool(channel and channel.group(1) == "analysis")
        self._capture(segs)
        self._body_at = len(self._raw_text())
        self._header = []
        self._header_len = 0
        self._bare = False
        self._open(self._name)
        self._goto(_CALL)

    def _end(self) -> None:
        if self._state == _HEADER:
            self._release()
        elif self._state == _CALL:
            self._abandon("the output ended before the call's <|call|>")
        self._goto(_BODY)
