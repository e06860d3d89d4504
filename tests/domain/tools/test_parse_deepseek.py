"""DeepSeek R1/V3 (``function<｜tool▁sep｜>NAME`` + fence) and V3.1 (``NAME<｜tool▁sep｜>{json}``)."""

from __future__ import annotations

import pytest
from helpers.tool_streams import assert_bracketed, kinds, mentioned, parsed, rebuild, run_text, text_of

from app.domain.tools.pieces import CallAbandoned, Markup

MODES = ["plain", "special"]
BB, BE, CB, CE, SEP = ("<｜tool▁calls▁begin｜>", "<｜tool▁calls▁end｜>", "<｜tool▁call▁begin｜>",
                       "<｜tool▁call▁end｜>", "<｜tool▁sep｜>")
R1_CALL = f'{CB}function{SEP}calculator\n```json\n{{"expression": "2+2"}}\n```{CE}'
R1_CALL2 = f'{CB}function{SEP}search\n```json\n{{"q": "cats"}}\n```{CE}'
V31_CALL = f'{CB}calculator{SEP}{{"expression": "2+2"}}{CE}'


def go(family, text, mode, **kw):
    pieces = run_text(family, text, special_markers=(mode == "special"), **kw)
    assert rebuild(pieces) == text
    assert_bracketed(pieces)
    return pieces


@pytest.mark.parametrize("mode", MODES)
def test_r1_block_with_two_calls(mode):
    text = "</think>\n\n" + BB + R1_CALL + "\n" + R1_CALL2 + BE
    pieces = go("deepseek-r1", text, mode)
    assert [(c.name, c.arguments) for c in parsed(pieces)] == [
        ("calculator", {"expression": "2+2"}), ("search", {"q": "cats"})]
    assert parsed(pieces)[0].raw == R1_CALL
    assert text_of(pieces) == "</think>\n\n"
    assert [p.text for p in pieces if isinstance(p, Markup)] == [BB, "\n", BE]
    assert kinds(pieces)[1:] == ["Markup", "CallOpened", "CallParsed", "Markup", "CallOpened", "CallParsed",
                                 "Markup"]


@pytest.mark.parametrize("mode", MODES)
def test_v31_call_inside_the_thinking_runs_where_it_stands(mode):
    text = "I need to add these." + BB + V31_CALL + BE
    pieces = go("deepseek-v3.1", text, mode, in_reasoning=True)
    (call,) = parsed(pieces)
    assert (call.name, call.arguments, call.in_reasoning) == ("calculator", {"expression": "2+2"}, True)
    assert mentioned(pieces) == []


@pytest.mark.parametrize("mode", MODES)
def test_r1_call_inside_the_thinking_is_only_mentioned(mode):
    text = "Maybe " + BB + R1_CALL + BE + " no."
    pieces = go("deepseek-r1", text, mode, in_reasoning=True)
    assert parsed(pieces) == [] and text_of(pieces) == text
    assert [c.name for c in mentioned(pieces)] == ["calculator"]


def test_both_body_generations_are_read_by_both_families():
    for family in ("deepseek-r1", "deepseek-v3.1"):
        names = [c.name for c in parsed(go(family, BB + R1_CALL + V31_CALL + BE, "plain"))]
        assert names == ["calculator", "calculator"]


@pytest.mark.parametrize("opener", ["<｜tool_calls_begin｜>", "<｜tool calls begin｜>", "<｜tool▁calls｜>"])
def test_opener_spellings_of_r1_distills_and_a_left_out_call_begin(opener):
    text = opener + f'function{SEP}calculator\n```json\n{{"expression": "1"}}\n```{CE}{BE}'
    (call,) = parsed(go("deepseek-r1", text, "plain"))
    assert call.arguments == {"expression": "1"}


def test_a_bare_call_without_the_block_token():
    pieces = go("deepseek-v3.1", "x" + V31_CALL + " then text", "plain")
    assert [c.name for c in parsed(pieces)] == ["calculator"]
    assert text_of(pieces) == "x then text"


def test_block_closing_without_the_call_end_still_completes_the_call():
    text = BB + f'{CB}calculator{SEP}{{"expression": "3"}}' + BE
    (call,) = parsed(go("deepseek-v3.1", text, "plain"))
    assert call.arguments == {"expression": "3"}


@pytest.mark.parametrize("body, needle", [
    ("calculator{\"expression\": 1}", "<｜tool▁sep｜>"),
    (f"calculator{SEP}{{\"expression\": ", "not valid JSON"),
    (f"{SEP}{{}}", "no name"),
])
def test_broken_bodies_are_calls_with_errors(body, needle):
    (call,) = parsed(go("deepseek-v3.1", BB + CB + body + CE + BE, "plain"))
    assert needle in call.error


@pytest.mark.parametrize("mode", MODES)
def test_an_unfinished_call_is_abandoned(mode):
    text = BB + R1_CALL[:-len(CE)]
    pieces = go("deepseek-r1", text, mode)
    assert parsed(pieces) == [] and any(isinstance(p, CallAbandoned) for p in pieces)
    assert text_of(pieces) == R1_CALL[:-len(CE)]  # the opener was Markup, the call text comes back


def test_special_mode_a_spelled_out_token_is_text():
    from helpers.tool_streams import run, tokens

    chunks = tokens(BB + "text", ()) + [(BB, True), *tokens(V31_CALL, (CB, CE, SEP)), (BE, True)]
    pieces = run("deepseek-v3.1", chunks, special_markers=True)
    assert [c.name for c in parsed(pieces)] == ["calculator"]
    assert text_of(pieces) == BB + "text"
