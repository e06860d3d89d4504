"""What a tool-call parser returns: text to pass on, and what it found of calls.

A parser sits on the raw token stream *before* the reasoning parser. It returns, in stream
order:

* ``Text``: text to hand on (with its special-token flag) to the reasoning parser;
* ``Markup``: tool-call syntax that belongs to no single call (block wrappers such as
  DeepSeek's ``<｜tool▁calls▁begin｜>``, separators between calls); neither shown nor parsed;
* ``CallOpened``: a call began (the UI can show its card); ``name`` when already known;
* ``CallParsed``: a complete call to run (``call.raw`` is its text);
* ``CallAbandoned``: an opened call that can no longer complete (the output ended or broke
  off); its raw text follows at once as ``Text``;
* ``CallMentioned``: call syntax written inside the reasoning of a family whose calls belong
  after it; its text was already passed on as ``Text``; never run.

Every ``CallParsed`` and ``CallAbandoned`` closes exactly one earlier ``CallOpened``; a
``CallMentioned`` has none. ``piece_text`` gives the input text a piece carries, so joining
it over all pieces rebuilds the input exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from app.domain.tools.types import ToolCall


@dataclass(frozen=True, slots=True)
class Text:
    """Text to pass on unchanged; ``special`` is the special-token flag it was fed with."""

    text: str
    special: bool = False


@dataclass(frozen=True, slots=True)
class Markup:
    """Call syntax outside any one call (wrappers, separators): not shown, not run."""

    text: str


@dataclass(frozen=True, slots=True)
class CallOpened:
    """A call began; ``name`` is "" until the format has written it."""

    name: str = ""


@dataclass(frozen=True, slots=True)
class CallParsed:
    """A complete call (possibly with ``call.error`` set: answer it with the error)."""

    call: ToolCall


@dataclass(frozen=True, slots=True)
class CallAbandoned:
    """An opened call that never completed; ``reason`` says why, for the trace."""

    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class CallMentioned:
    """Call syntax seen while thinking, in a family that calls after the reasoning.

    Never run; ``call.id`` is "" (nothing answers it) and ``call.in_reasoning`` is True.
    """

    call: ToolCall


Piece = Union[Text, Markup, CallOpened, CallParsed, CallAbandoned, CallMentioned]


def piece_text(piece: Piece) -> str:
    """The input text a piece stands for ("" for pieces that only report)."""
    if isinstance(piece, (Text, Markup)):
        return piece.text
    if isinstance(piece, CallParsed):
        return piece.call.raw
    return ""


def merge_text(pieces: list[Piece]) -> list[Piece]:
    """Adjacent non-special ``Text`` (and adjacent ``Markup``) joined into one piece.

    Special text is never joined: each special token must reach the reasoning parser alone.
    """
    out: list[Piece] = []
    for p in pieces:
        last = out[-1] if out else None
        if isinstance(p, Text) and not p.special and isinstance(last, Text) and not last.special:
            out[-1] = Text(last.text + p.text)
        elif isinstance(p, Markup) and isinstance(last, Markup):
            out[-1] = Markup(last.text + p.text)
        elif (isinstance(p, Text) and not p.text) or (isinstance(p, Markup) and not p.text):
            continue
        else:
            out.append(p)
    return out
