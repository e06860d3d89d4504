"""The tool vocabulary and the piece helpers."""

from __future__ import annotations

from app.domain.tools.pieces import CallOpened, CallParsed, Markup, Text, merge_text, piece_text
from app.domain.tools.types import ToolCall, ToolSpec


def test_tool_records():
    call = ToolCall("c1", "f", {"x": "é", "n": [1]})
    assert call.arguments_json == '{"x": "é", "n": [1]}'
    assert call.error is None and not call.in_reasoning
    assert ToolSpec("t", "", {}, "mcp:files").is_mcp and not ToolSpec("t", "", {}).is_mcp


def test_merge_text_never_joins_special_text():
    pieces = [Text("a"), Text("b"), Text("<x>", True), Text("<y>", True), Text(""), Text("c"), Markup("1"),
              Markup("2"), Markup(""), CallOpened("f"), Text("d")]
    assert merge_text(pieces) == [Text("ab"), Text("<x>", True), Text("<y>", True), Text("c"), Markup("12"),
                                  CallOpened("f"), Text("d")]


def test_piece_text():
    call = ToolCall("c1", "f", raw="<tool_call>{}</tool_call>")
    assert [piece_text(p) for p in (Text("a"), Markup("m"), CallParsed(call), CallOpened("f"))] == [
        "a", "m", "<tool_call>{}</tool_call>", ""]
