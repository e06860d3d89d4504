"""Incremental tool-call parsers for local models: the entry point.

``make_tool_parser(family, special_markers)`` gives a parser for one generation::

    parser = make_tool_parser("hermes", special_markers=True, tools=specs)
    for text, special in tokens:
        for piece in parser.feed(text, special=special, in_reasoning=reasoning.in_reasoning):
            ...  # Text -> the reasoning parser, in order; CallOpened/CallParsed -> the turn
    pieces = parser.finish()

It works on the raw token stream *before* the reasoning parser. ``in_reasoning`` is the
reasoning parser's state where the chunk begins; fed token by token (as the local backend
does) that is exact. Calls seen while reasoning follow the family convention: Hermes/Qwen3,
Qwen3-Coder, DeepSeek-R1 and Mistral write calls after the reasoning, so call syntax inside
it is passed on as ``Text`` and reported as ``CallMentioned`` (never run); DeepSeek V3.1+
and gpt-oss call from inside the reasoning, so there ``CallParsed`` comes with
``call.in_reasoning=True``.

An unterminated call at ``finish()`` is abandoned: ``CallAbandoned`` and its text back as
``Text`` (never ``CallParsed``). Families whose calls end with an end-of-generation token
(``ToolFamily.stop_tokens``: gpt-oss ``<|call|>``, Llama ``<|eom_id|>``) need that token's
text fed (``special=True``) before ``finish()``.

Properties (tests/domain/tools/test_call_parser_properties.py): the input is rebuilt by
joining ``piece_text`` over the pieces; the merged pieces do not depend on where the input
was cut; no input raises.
"""

from __future__ import annotations

from typing import Iterable

from app.domain.tools.families import ToolFamily, tool_family
from app.domain.tools.parse_deepseek import DeepSeekParser
from app.domain.tools.parse_harmony import HarmonyParser
from app.domain.tools.parse_llama import LlamaParser
from app.domain.tools.parse_mistral import MistralParser
from app.domain.tools.parse_tagged import TaggedParser
from app.domain.tools.pieces import Piece, Text
from app.domain.tools.stream_parser import StreamParser
from app.domain.tools.types import ToolSpec

_PARSERS: dict[str, type[StreamParser]] = {
    "tagged": TaggedParser,
    "dsml": TaggedParser,
    "deepseek": DeepSeekParser,
    "harmony": HarmonyParser,
    "llama3": LlamaParser,
    "mistral": MistralParser,
}


class PassThroughToolParser:
    """For models without a tool format: every chunk is text."""

    family = None
    pending = ""

    def feed(self, text: str, *, special: bool = False, in_reasoning: bool = False) -> list[Piece]:
        return [Text(text, special)] if text else []

    def finish(self) -> list[Piece]:
        return []


def make_tool_parser(
    family: str | ToolFamily | None,
    special_markers: bool = False,
    *,
    tools: Iterable[ToolSpec] = (),
    id_prefix: str | None = None,
) -> StreamParser | PassThroughToolParser:
    """A parser for ``family`` (a name from ``TOOL_FAMILIES`` or the row itself).

    ``special_markers``: the family's markers are special tokens in this model's vocabulary
    (match them only in chunks fed with ``special=True``). ``tools`` lets formats that write
    bare text values (Qwen3-Coder XML) convert them to the types the schemas declare.
    ``id_prefix`` fixes the call ids (``<prefix>1``, ``<prefix>2``…; random otherwise).
    ``None`` gives the pass-through parser.
    """
    if family is None:
        return PassThroughToolParser()
    row = tool_family(family) if isinstance(family, str) else family
    return _PARSERS[row.parser](row, special_markers, tools=tools, id_prefix=id_prefix)
