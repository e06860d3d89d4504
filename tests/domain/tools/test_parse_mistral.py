"""Mistral: ``[TOOL_CALLS] [{…}]`` (v3–v7 tokenizers) and ``[TOOL_CALLS]NAME[ARGS]{…}`` (v11+)."""

from __future__ import annotations

import pytest
from helpers.tool_streams import assert_bracketed, kinds, mentioned, parsed, rebuild, run_text, text_of

from app.domain.tools.pieces import CallAbandoned, CallOpened, Markup

MODES = ["plain", "special"]
LIST = ('[TOOL_CALLS] [{"name": "calculator", "arguments": {"expression": "2+2"}, "id": "a1b2c3d4e"}, '
        '{"name": "search", "arguments": "{\\"q\\": \\"cats\\"}"}]')
V11 = '[TOOL_CALLS]calculator[ARGS]{"expression": "2+2"}[TOOL_CALLS]search[CALL_ID]x9y8z7w6v[ARGS]{"q": "cats"}'


def go(text, mode, **kw):
    pieces = run_text("mistral", text, special_markers=(mode == "special"), **kw)
    assert rebuild(pieces) == text
    assert_bracketed(pieces)
    return pieces


@pytest.mark.parametrize("mode", MODES)
def test_a_list_of_calls(mode):
    pieces = go(LIST + "</s>", mode)
    calls = parsed(pieces)
    assert [(c.name, c.arguments, c.id) for c in calls] == [
        ("calculator", {"expression": "2+2"}, "a1b2c3d4e"), ("search", {"q": "cats"}, "t1")]
    assert calls[0].raw.startswith('{"name": "calculator"') and calls[0].raw.endswith("}")
    assert Markup("[TOOL_CALLS] [") in pieces
    assert text_of(pieces) == "</s>"


@pytest.mark.parametrize("mode", MODES)
def test_v11_calls_one_per_marker(mode):
    pieces = go(V11, mode)
    calls = parsed(pieces)
    assert [(c.name, c.arguments, c.id) for c in calls] == [
        ("calculator", {"expression": "2+2"}, "t1"), ("search", {"q": "cats"}, "x9y8z7w6v")]
    assert calls[0].raw == '[TOOL_CALLS]calculator[ARGS]{"expression": "2+2"}'
    assert [p for p in pieces if isinstance(p, CallOpened)] == [CallOpened("calculator"), CallOpened("search")]


def test_v11_without_args_token_and_a_single_object():
    assert [c.name for c in parsed(go('[TOOL_CALLS]f{"a": 1}', "plain"))] == ["f"]
    assert [c.name for c in parsed(go('[TOOL_CALLS]{"name": "g", "arguments": {}}', "plain"))] == ["g"]


@pytest.mark.parametrize("text", ["[TOOL_CALLS] hello there", "[TOOL_CALLS]na me[ARGS]{}", "[TOOL_CALLS]"])
def test_no_call_after_the_marker_is_text(text):
    pieces = go(text, "plain")
    assert parsed(pieces) == [] and text_of(pieces) == text
    assert not any(isinstance(p, CallAbandoned) for p in pieces)  # nothing was opened


def test_an_unclosed_list_is_abandoned():
    pieces = go(LIST[:-2], "plain")
    assert kinds(pieces)[:2] == ["CallOpened", "CallAbandoned"] and parsed(pieces) == []


def test_a_closed_but_invalid_list_is_a_call_with_an_error():
    (c,) = parsed(go("[TOOL_CALLS] [{'name': 'calculator'}]", "plain"))
    assert "not valid JSON" in c.error and c.arguments == {}


def test_arguments_that_are_not_an_object():
    (c,) = parsed(go("[TOOL_CALLS]f[ARGS][1, 2]", "plain"))
    assert c.name == "f" and "not an object" in c.error


def test_args_that_are_not_json_give_the_text_back():
    pieces = go("[TOOL_CALLS]f[ARGS]hello", "plain")
    assert parsed(pieces) == [] and "CallAbandoned" in kinds(pieces)
    assert text_of(pieces) == "[TOOL_CALLS]f[ARGS]hello"


@pytest.mark.parametrize("mode", MODES)
def test_calls_inside_magistral_thinking_are_mentioned(mode):
    pieces = go(V11, mode, in_reasoning=True)
    assert parsed(pieces) == [] and [c.name for c in mentioned(pieces)] == ["calculator", "search"]
    assert text_of(pieces) == V11
