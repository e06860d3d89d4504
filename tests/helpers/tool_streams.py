"""Driving tool-call parsers in tests: tokenising text, running a stream, reading pieces."""

from __future__ import annotations

from typing import Iterable, Sequence, Union

from app.domain.tools.call_parser import make_tool_parser
from app.domain.tools.families import TOOL_FAMILIES
from app.domain.tools.pieces import (
    CallAbandoned,
    CallMentioned,
    CallOpened,
    CallParsed,
    Markup,
    Text,
    merge_text,
    piece_text,
)

Chunk = Union[str, tuple[str, bool]]


def tokens(text: str, special: Iterable[str] = (), *, size: int = 1) -> list[tuple[str, bool]]:
    """``text`` as a token stream: each ``special`` string is one special token, the rest is
    plain text in chunks of ``size`` characters."""
    specials = sorted(set(special), key=len, reverse=True)
    out: list[tuple[str, bool]] = []
    i = 0
    plain = ""
    while i < len(text):
        m = next((s for s in specials if text.startswith(s, i)), None)
        if m is None:
            plain += text[i]
            i += 1
            continue
        out += [(plain[k:k + size], False) for k in range(0, len(plain), size)]
        plain = ""
        out.append((m, True))
        i += len(m)
    out += [(plain[k:k + size], False) for k in range(0, len(plain), size)]
    return out


def family_tokens(family: str, text: str, *, size: int = 1) -> list[tuple[str, bool]]:
    """``text`` tokenised with the family's markers as special tokens."""
    return tokens(text, TOOL_FAMILIES[family].markers, size=size)


def run(family: str | None, chunks: Sequence[Chunk], *, special_markers: bool = False,
        in_reasoning: bool | Sequence[bool] = False, tools=(), id_prefix: str = "t") -> list:
    """All pieces of a stream (merged); ``in_reasoning`` may give one flag per chunk."""
    parser = make_tool_parser(family, special_markers, tools=tools, id_prefix=id_prefix)
    out = []
    for i, c in enumerate(chunks):
        text, special = (c, False) if isinstance(c, str) else c
        flag = in_reasoning if isinstance(in_reasoning, bool) else in_reasoning[i]
        out += parser.feed(text, special=special, in_reasoning=flag)
    out += parser.finish()
    return merge_text(out)


def run_text(family: str, text: str, *, special_markers: bool = False, **kw) -> list:
    """A stream fed one character at a time (or as tokens when markers are special)."""
    chunks = family_tokens(family, text) if special_markers else list(text)
    return run(family, chunks, special_markers=special_markers, **kw)


def rebuild(pieces) -> str:
    return "".join(piece_text(p) for p in pieces)


def text_of(pieces) -> str:
    """What is passed on to the reasoning parser."""
    return "".join(p.text for p in pieces if isinstance(p, Text))


def parsed(pieces) -> list:
    return [p.call for p in pieces if isinstance(p, CallParsed)]


def mentioned(pieces) -> list:
    return [p.call for p in pieces if isinstance(p, CallMentioned)]


def kinds(pieces) -> list[str]:
    return [type(p).__name__ for p in pieces]


def assert_bracketed(pieces) -> None:
    """Every CallParsed/CallAbandoned closes exactly one CallOpened, in order."""
    open_ = False
    for p in pieces:
        if isinstance(p, CallOpened):
            assert not open_, "a call opened inside another"
            open_ = True
        elif isinstance(p, (CallParsed, CallAbandoned)):
            assert open_, f"{type(p).__name__} without CallOpened"
            open_ = False
        elif isinstance(p, CallMentioned):
            assert not open_
    assert not open_, "a call stayed open after finish()"


__all__ = ["Markup", "Text", "assert_bracketed", "family_tokens", "kinds", "mentioned", "parsed",
           "rebuild", "run", "run_text", "text_of", "tokens"]
