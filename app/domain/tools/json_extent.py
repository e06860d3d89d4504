"""Where a JSON object or array that arrives in pieces ends, found incrementally.

Formats without an end marker (Mistral ``[TOOL_CALLS][…]``, Llama's bare JSON call) end
where their JSON value closes. ``JsonExtent.feed`` looks at each character once: it counts
brackets outside strings (escapes respected) and reports the index just past the bracket
that closes the value. It does not validate; ``json.loads`` does that on the whole value.
"""

from __future__ import annotations

import re

_OUTSIDE = re.compile(r'["{}\[\]]')
_INSIDE = re.compile(r'["\\]')
_WS = " \t\r\n"


class JsonExtent:
    """Incremental bracket matcher for one JSON object or array.

    ``invalid`` becomes True when the first non-whitespace character is not ``{`` or ``[``
    (the caller decides what that means); ``closed`` when the value is complete.
    """

    __slots__ = ("depth", "in_string", "escape", "started", "invalid", "closed")

    def __init__(self) -> None:
        self.depth = 0
        self.in_string = False
        self.escape = False
        self.started = False
        self.invalid = False
        self.closed = False

    def feed(self, text: str, start: int = 0, end: int | None = None) -> int:
        """Scan ``text[start:end]``; the index just past the closing bracket, or -1."""
        end = len(text) if end is None else end
        i = start
        if not self.started:
            while i < end and text[i] in _WS:
                i += 1
            if i == end:
                return -1
            if text[i] not in "{[":
                self.invalid = True
                return -1
            self.started = True
        if self.invalid or self.closed:
            return -1
        while i < end:
            if self.escape:
                self.escape = False
                i += 1
                continue
            m = (_INSIDE if self.in_string else _OUTSIDE).search(text, i, end)
            if m is None:
                return -1
            c = m.group()
            i = m.end()
            if self.in_string:
                if c == "\\":
                    self.escape = True
                else:
                    self.in_string = False
            elif c == '"':
                self.in_string = True
            elif c in "{[":
                self.depth += 1
            else:
                self.depth -= 1
                if self.depth <= 0:
                    self.closed = True
                    return i
        return -1
