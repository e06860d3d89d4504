"""Llama 3.x: a bare ``{"name", "parameters"}`` call at the start, or ``<|python_tag|>…<|eom_id|>``."""

from __future__ import annotations

import pytest
from helpers.tool_streams import assert_bracketed, kinds, parsed, rebuild, run, run_text, text_of
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.tools.parse_llama import call_prefix, call_prefix_at
from app.domain.tools.pieces import CallAbandoned, CallOpened, Markup

MODES = ["plain", "special"]
CALL = '{"name": "calculator", "parameters": {"expression": "2+2"}}'


def go(text, mode, **kw):
    pieces = run_text("llama3", text, special_markers=(mode == "special"), **kw)
    assert rebuild(pieces) == text
    assert_bracketed(pieces)
    return pieces


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("text", [CALL, "\n " + CALL, '{"type": "function", "name": "calculator", '
                                  '"parameters": {"expression": "2+2"}}'])
def test_a_json_call_as_the_whole_message(mode, text):
    pieces = go(text + "<|eot_id|>", mode)
    (c,) = parsed(pieces)
    assert (c.name, c.arguments) == ("calculator", {"expression": "2+2"})
    assert CallOpened("calculator") in pieces
    assert pieces[-1] == Markup("<|eot_id|>")
    assert text_of(pieces).strip() == ""


def test_arguments_key_is_accepted_too():
    (c,) = parsed(go('{"name": "f", "arguments": {"a": 1}}', "plain"))
    assert c.arguments == {"a": 1}


@pytest.mark.parametrize("text", [
    'The JSON is {"name": "calculator", "parameters": {}} as you see.',  # not at the start
    '{"answer": 42}',  # an object, but no call
    '{"type": "object", "name": "x"}',
    '{ "name" : 5 }',
    "{" + " " * 300 + '"name": "f"}',  # too long before the name
    '{"name": "f", "parameters": {}',  # never closed: the output ended
])
def test_json_that_is_no_complete_call_stays_text(text):
    pieces = go(text, "plain")
    assert parsed(pieces) == [] and text_of(pieces) == text


def test_an_opened_json_call_that_never_closes_is_abandoned():
    pieces = go('{"name": "f", "parameters": {"a": ', "plain")
    assert kinds(pieces) == ["CallOpened", "CallAbandoned", "Text"]


def test_two_calls_separated_by_a_semicolon():
    calls = parsed(go(CALL + "; " + CALL.replace("2+2", "3"), "plain"))
    assert [c.arguments["expression"] for c in calls] == ["2+2", "3"]


def test_text_after_a_call_is_answer_text():
    pieces = go(CALL + "\nDone.", "plain")
    assert text_of(pieces) == "Done." and len(parsed(pieces)) == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("body, name, arguments", [
    ('brave_search.call(query="weather in Paris")', "brave_search", {"query": "weather in Paris"}),
    ('wolfram_alpha.call(query="2+2", n=3)', "wolfram_alpha", {"query": "2+2", "n": 3}),
    ("import math\nprint(math.pi)", "python", {"code": "import math\nprint(math.pi)"}),
    ('{"name": "calculator", "parameters": {"expression": "1"}}', "calculator", {"expression": "1"}),
])
def test_python_tag_calls(mode, body, name, arguments):
    (c,) = parsed(go("<|python_tag|>" + body + "<|eom_id|>", mode))
    assert (c.name, c.arguments) == (name, arguments)


def test_python_tag_without_its_end_token_is_abandoned():
    pieces = go('<|python_tag|>brave_search.call(query="x")', "plain")
    assert parsed(pieces) == [] and any(isinstance(p, CallAbandoned) for p in pieces)


@pytest.mark.parametrize("text, verdict", [
    ("", ("more", "")), ("{", ("more", "")), ('{"na', ("more", "")), ('{"name": "ca', ("more", "")),
    ('{"name": "calc"', ("yes", "calc")), ('{"type":"function","name":"x"', ("yes", "x")),
    ('{"type": "object"', ("no", "")), ("[", ("no", "")), ('{"name": 5', ("no", "")),
    ('{"q": 1', ("no", "")), ('{"name": ""', ("no", "")),
])
def test_call_prefix(text, verdict):
    assert call_prefix(text) == verdict


TAG_CALL = '<|python_tag|>brave_search.call(query="x")<|eom_id|>'


@pytest.mark.parametrize("chunks, passed, calls", [
    # found by the properties: the probe of '{{' used to swallow the rest of its chunk, so a
    # <|python_tag|> call in the same chunk was text, while a chunk boundary before it made it a call
    (["{", '{"name": "f", "parameters": {"a": "}"}}', TAG_CALL], '{{"name": "f", "parameters": {"a": "}"}}',
     ["brave_search"]),
    (["{", TAG_CALL], "{", ["brave_search"]),  # the deciding character is answer text
    (['{"type": "object"} ', TAG_CALL], '{"type": "object"} ', ["brave_search"]),
    (['{"name": ""}', TAG_CALL], '{"name": ""}', ["brave_search"]),
    (["{" + " " * 300, TAG_CALL], "{" + " " * 300, ["brave_search"]),  # no name within the limit
    (['{"name": "f"', TAG_CALL], '{"name": "f"' + TAG_CALL[:-len("<|eom_id|>")], []),  # inside a call
])
def test_where_a_probe_ends_does_not_depend_on_the_chunks(chunks, passed, calls):
    whole = "".join(chunks)
    for cut in (chunks, [whole], list(whole)):
        pieces = run("llama3", cut)
        assert rebuild(pieces) == whole
        assert_bracketed(pieces)
        assert text_of(pieces) == passed, cut
        assert [c.name for c in parsed(pieces)] == calls, cut


_PREFIX_ATOMS = st.sampled_from(['{', '}', '"', '\\', ':', ',', ' ', '\n', 'x', '"name"', '"type"', '"function"',
                                 '"f"', '""', '\\u0041', '\\q', '[', '<|python_tag|>'])


@settings(max_examples=300, deadline=None)
@given(st.lists(_PREFIX_ATOMS, max_size=16).map("".join))
def test_call_prefix_decides_at_one_character(text):
    """Every prefix up to the deciding character says "more", every longer one the verdict:
    so the probe ends at the same place however the text was cut."""
    verdict, name, at = call_prefix_at(text)
    assert (verdict, name) == call_prefix(text)
    assert (verdict == "more") == (at == len(text))
    for k in range(len(text) + 1):
        if k <= at:
            assert call_prefix(text[:k]) == ("more", "") or (k == len(text) == at)
        else:
            assert call_prefix_at(text[:k]) == (verdict, name, at)
