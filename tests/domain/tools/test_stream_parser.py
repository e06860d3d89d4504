"""The engine under every family parser: what it promises whatever the family."""

from __future__ import annotations

import pytest
from helpers.tool_streams import assert_bracketed, rebuild, run

from app.domain.tools.pieces import Text

D = "｜DSML｜"


@pytest.mark.parametrize("family, chunk", [
    ("hermes", '<tool_call>{"name": "f"}'),
    ("llama3", "<|python_tag|>x"),
    ("mistral", "[TOOL_CALLS]f"),
    ("deepseek-v3.1", "<｜tool▁call▁begin｜>f"),
    ("deepseek-v3.2", f"<{D}function_calls>f"),
    ("gpt-oss", "<|channel|>commentary to=functions.f<|message|>{"),
])
def test_the_rest_of_a_special_chunk_after_its_marker_stays_special(family, chunk):
    """A special chunk that holds more than its marker: when its call is given back as text,
    that text keeps the flag it was fed with (it used to come back as plain text)."""
    pieces = run(family, [(chunk, True)], special_markers=True)
    assert rebuild(pieces) == chunk
    assert_bracketed(pieces)
    passed = [p for p in pieces if isinstance(p, Text)]
    assert "".join(p.text for p in passed) == chunk  # nothing completed: all of it is text
    assert all(p.special for p in passed)
