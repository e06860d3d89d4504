"""Where a streamed JSON value ends, whatever the chunking."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.tools.json_extent import JsonExtent

JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(alphabet='ab"\\{}[]é\n ', max_size=6)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(alphabet='k"}\\', max_size=3), inner, max_size=3)),
    max_leaves=10,
).filter(lambda v: isinstance(v, (list, dict)))


def end_of(text: str, cuts: list[int]) -> int:
    extent, start = JsonExtent(), 0
    for c in sorted(set(cuts)) + [len(text)]:
        c = min(c, len(text))
        if c <= start:
            continue
        end = extent.feed(text, start, c)
        if end != -1:
            return end
        start = c
    return -1


@settings(deadline=None, max_examples=300)
@given(value=JSON, tail=st.text(max_size=5), cuts=st.lists(st.integers(0, 200), max_size=10),
       indent=st.sampled_from([None, 1]))
def test_the_end_is_found_exactly_for_any_chunking(value, tail, cuts, indent):
    text = json.dumps(value, indent=indent)
    assert end_of(" \n" + text + tail, cuts) == 2 + len(text)


@pytest.mark.parametrize("text", ['{"a": "}"', '["\\"]"', "{", "  "])
def test_an_open_value_does_not_end(text):
    assert end_of(text, []) == -1


def test_a_value_that_does_not_start_with_a_bracket_is_invalid():
    extent = JsonExtent()
    assert extent.feed("  hello") == -1 and extent.invalid
    assert extent.feed("{}") == -1  # stays invalid
