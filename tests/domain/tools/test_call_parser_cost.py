"""Each feed costs the chunk plus the hold-back, however long the stream or the call.

A parser that rescanned or rejoined what it holds would be quadratic: 60,000 one-character
feeds inside one call would then take minutes. The bound is loose enough never to flake on
a loaded machine and still far below that.
"""

from __future__ import annotations

import time

import pytest
from helpers.tool_streams import assert_bracketed, kinds, parsed, rebuild

from app.domain.tools.call_parser import make_tool_parser

N = 60_000
BIG = "x" * N
CALLS = {
    "hermes": '<tool_call>{"name": "f", "arguments": {"code": "' + BIG + '"}}</tool_call>',
    "qwen3-coder": "<tool_call><function=f><parameter=code>" + BIG + "</parameter></function></tool_call>",
    "deepseek-r1": '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>f\n```json\n{"code": "' + BIG
                   + '"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>',
    "deepseek-v3.1": '<｜tool▁call▁begin｜>f<｜tool▁sep｜>{"code": "' + BIG + '"}<｜tool▁call▁end｜>',
    "deepseek-v3.2": '<｜DSML｜function_calls><｜DSML｜invoke name="f"><｜DSML｜parameter name="code" string="true">'
                     + BIG + "</｜DSML｜parameter></｜DSML｜invoke></｜DSML｜function_calls>",
    "gpt-oss": '<|channel|>commentary to=functions.f json<|message|>{"code": "' + BIG + '"}<|call|>',
    "llama3": '{"name": "f", "parameters": {"code": "' + BIG + '"}}',
    "mistral": '[TOOL_CALLS]f[ARGS]{"code": "' + BIG + '"}',
}


@pytest.mark.parametrize("family", sorted(CALLS))
@pytest.mark.parametrize("in_reasoning", [False, True], ids=["call", "mentioned"])
def test_long_calls_and_long_text_fed_a_character_at_a_time(family, in_reasoning):
    prose = "Some prose. " * 1000
    # a Llama call is the whole message: its prose can only come after
    text = CALLS[family] + prose if family == "llama3" else prose + CALLS[family]
    parser = make_tool_parser(family, id_prefix="t")
    t0 = time.perf_counter()
    pieces = [p for c in text for p in parser.feed(c, in_reasoning=in_reasoning)] + parser.finish()
    elapsed = time.perf_counter() - t0
    assert elapsed < 30, f"{family}: {elapsed:.1f} s for {len(text):,} feeds"
    if in_reasoning and not parser.family.calls_in_reasoning:
        assert parsed(pieces) == []
    else:
        (call,) = parsed(pieces)
        assert call.name == "f" and len(call.arguments["code"]) == N


D = "｜DSML｜"
REPEATS = 60_000


@pytest.mark.parametrize("family, text, outcome", [
    # a fence that never closes over many blank lines (the fence pattern was cubic in them)
    ("hermes", "<tool_call>```json" + "\n" * 20_000 + "x</tool_call>", "CallParsed"),
    ("deepseek-v3.1", "<｜tool▁call▁begin｜>f<｜tool▁sep｜>```" + " \n" * 20_000 + "x<｜tool▁call▁end｜>", "CallParsed"),
    # unclosed elements written over and over (each try of the pattern scanned to the end)
    ("qwen3-coder", "<tool_call>" + "<function=" * REPEATS + "</tool_call>", "CallParsed"),
    ("qwen3-coder", "<tool_call><function=f>" + "<parameter=" * REPEATS + "</function></tool_call>", "CallParsed"),
    ("deepseek-v3.2", f"<{D}function_calls>" + f'<{D}invoke name="f">' * REPEATS + f"</{D}function_calls>",
     "CallAbandoned"),
    ("deepseek-v3.2", f'<{D}function_calls><{D}invoke name="f">' + f'<{D}parameter name="a">' * REPEATS
     + f"</{D}invoke></{D}function_calls>", "CallParsed"),
], ids=["fence-hermes", "fence-deepseek", "xml-function", "xml-parameter", "dsml-invoke", "dsml-parameter"])
def test_call_bodies_that_made_patterns_backtrack_are_read_in_linear_time(family, text, outcome):
    parser = make_tool_parser(family, id_prefix="t")
    t0 = time.perf_counter()
    pieces = [p for k in range(0, len(text), 4096) for p in parser.feed(text[k:k + 4096])] + parser.finish()
    elapsed = time.perf_counter() - t0
    assert elapsed < 30, f"{family}: {elapsed:.1f} s for a call of {len(text):,} characters"
    assert rebuild(pieces) == text
    assert_bracketed(pieces)
    assert outcome in kinds(pieces)
