"""Calls checked against the tools' schemas, and long results cut visibly."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.tools.calculator import CALCULATOR_SPEC
from app.domain.tools.types import ToolCall, ToolSpec
from app.domain.tools.validation import check_call, schema_errors, truncate_result

SEARCH = ToolSpec("search", "Searches.", {
    "type": "object",
    "properties": {"q": {"type": "string", "minLength": 1}, "limit": {"type": "integer", "maximum": 50},
                   "filters": {"type": "object", "properties": {"lang": {"enum": ["en", "fr"]}}},
                   "tags": {"type": "array", "items": {"type": "string"}}},
    "required": ["q"], "additionalProperties": False,
}, source="mcp:web")
TOOLS = {t.name: t for t in (CALCULATOR_SPEC, SEARCH)}


def call(name, arguments=None, error=None):
    return ToolCall("c1", name, arguments or {}, error=error)


def test_a_valid_call_may_run():
    assert check_call(call("calculator", {"expression": "1+1"}), TOOLS) is None
    assert check_call(call("search", {"q": "cats", "limit": 3, "tags": ["a"]}), TOOLS) is None


def test_an_unknown_tool_is_answered_with_the_tools_there_are():
    text = check_call(call("calculater", {"expression": "1"}), TOOLS)
    assert "'calculater'" in text and "calculator, search" in text
    assert "names no tool" in check_call(call(""), TOOLS)
    assert "none" in check_call(call("x"), {})


def test_a_parse_error_is_passed_on_as_the_answer():
    assert check_call(call("calculator", error="The arguments are not valid JSON."), TOOLS) == \
        "The arguments are not valid JSON."


@pytest.mark.parametrize("arguments, needles", [
    ({}, ["'q' is a required property"]),
    ({"q": 5}, ["argument 'q'", "5 is not of type 'string'"]),
    ({"q": ""}, ["argument 'q'", "should be non-empty"]),
    ({"q": "x", "limit": 99}, ["argument 'limit'", "99 is greater than the maximum of 50"]),
    ({"q": "x", "filters": {"lang": "de"}}, ["argument 'filters.lang'", "'de' is not one of ['en', 'fr']"]),
    ({"q": "x", "tags": ["a", 3]}, ["argument 'tags[1]'"]),
    ({"q": "x", "extra": 1}, ["Additional properties are not allowed ('extra' was unexpected)"]),
])
def test_schema_failures_say_which_argument_and_what_is_wrong(arguments, needles):
    text = check_call(call("search", arguments), TOOLS)
    assert text.startswith("The arguments of 'search' do not match its schema: ")
    assert text.endswith("Call it again with corrected arguments.")
    for needle in needles:
        assert needle in text


def test_many_failures_are_summarised():
    schema = {"type": "object", "properties": {k: {"type": "integer"} for k in "abcdefgh"}}
    errors = schema_errors({k: "x" for k in "abcdefgh"}, schema)
    assert len(errors) == 6 and errors[-1] == "(and 3 more)"


def test_an_invalid_or_missing_schema_does_not_block_the_call():
    assert schema_errors({"a": 1}, {"type": "no-such-type"}) == []
    assert schema_errors({"a": 1}, {}) == []
    assert check_call(call("t", {"a": 1}), {"t": ToolSpec("t", "", {"type": 12})}) is None


def test_a_short_result_is_unchanged():
    assert truncate_result("abc", 3).text == "abc" and truncate_result("abc", 3).truncated_from is None
    assert truncate_result("", 0).text == ""


def test_a_long_result_keeps_its_start_and_end_and_says_what_was_cut():
    text = "".join(f"line {i}\n" for i in range(1000))
    out = truncate_result(text, 600)
    assert out.truncated_from == len(text)
    head, rest = out.text.split("[… ", 1)
    cut = int(rest.split(" characters cut by Ponder]")[0].replace(",", ""))
    tail = rest.split("characters cut by Ponder]\n", 1)[1]
    assert text.startswith(head) and text.endswith(tail)
    assert len(head) + len(tail) + cut == len(text)
    assert len(head) + len(tail) <= 600
    assert head.endswith("\n") and tail.startswith("line ")  # cut at line breaks


@settings(deadline=None, max_examples=200)
@given(text=st.text(max_size=300), limit=st.integers(min_value=0, max_value=300))
def test_truncation_never_hides_the_cut(text, limit):
    out = truncate_result(text, limit)
    if len(text) <= limit:
        assert out.text == text and out.truncated_from is None
    else:
        assert out.truncated_from == len(text)
        assert "characters cut by Ponder]" in out.text
        kept = out.text.replace(out.text[out.text.index("[… "): out.text.index("Ponder]") + 7], "", 1)
        assert len(kept.replace("\n", "")) <= limit


def test_a_negative_limit_is_a_programming_error():
    with pytest.raises(ValueError):
        truncate_result("abc", -1)
