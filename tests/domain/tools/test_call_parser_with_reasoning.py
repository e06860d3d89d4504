"""The tool-call parser in front of the real reasoning parser, token by token.

This is how the local backend will chain them: each token goes to the tool parser with the
reasoning parser's current state; the ``Text`` pieces go on to the reasoning parser.
"""

from __future__ import annotations

from dataclasses import replace

from helpers.tool_streams import tokens

from app.domain.events import AnswerDelta, BlockEnd, BlockStart, ReasoningDelta
from app.domain.reasoning.markers import FAMILIES
from app.domain.reasoning.parser import ReasoningParser
from app.domain.tools.call_parser import make_tool_parser
from app.domain.tools.pieces import CallMentioned, CallOpened, CallParsed, Markup, Text

THINK = replace(FAMILIES["think"], special_tokens=True)
HARMONY = replace(FAMILIES["gpt-oss"], special_tokens=True)


def pipeline(tool_family, spec, chunks, *, forced_open=False):
    tp = make_tool_parser(tool_family, True, id_prefix="t")
    rp = ReasoningParser(spec, forced_open=forced_open, clock=lambda: 0.0)
    out = []

    def take(pieces):
        for piece in pieces:
            if isinstance(piece, Text):
                out.extend(rp.feed(piece.text, special=piece.special))
            elif not isinstance(piece, Markup):
                out.append(piece)

    for text, special in chunks:
        take(tp.feed(text, special=special, in_reasoning=rp.in_reasoning))
    take(tp.finish())
    out.extend(rp.finish())
    return out


def reasoning(events):
    return "".join(e.text for e in events if isinstance(e, ReasoningDelta))


def answer(events):
    return "".join(e.text for e in events if isinstance(e, AnswerDelta))


def calls(events, kind=CallParsed):
    return [e.call for e in events if isinstance(e, kind)]


QWEN_SPECIALS = ("<think>", "</think>", "<tool_call>", "</tool_call>")
CALL = '<tool_call>\n{"name": "calculator", "arguments": {"expression": "2+2"}}\n</tool_call>'


def test_qwen3_thinks_then_calls():
    chunks = tokens("I should use the calculator.</think>\n\n" + CALL, QWEN_SPECIALS, size=4)
    events = pipeline("hermes", THINK, chunks, forced_open=True)
    assert reasoning(events) == "I should use the calculator."
    (call,) = calls(events)
    assert (call.name, call.in_reasoning) == ("calculator", False)
    assert "tool_call" not in answer(events)
    kinds = [type(e) for e in events]
    assert kinds.index(BlockEnd) < kinds.index(CallOpened) < kinds.index(CallParsed)


def test_qwen3_call_syntax_while_thinking_is_mentioned_and_the_real_call_runs():
    text = "Plan: " + CALL + " then check.</think>\n\n" + CALL.replace("2+2", "3+3")
    events = pipeline("hermes", THINK, tokens(text, QWEN_SPECIALS, size=3), forced_open=True)
    assert reasoning(events) == "Plan: " + CALL + " then check."
    (mention,) = calls(events, CallMentioned)
    (call,) = calls(events)
    assert mention.arguments == {"expression": "2+2"} and mention.in_reasoning
    assert call.arguments == {"expression": "3+3"} and not call.in_reasoning


def test_a_literal_tool_call_typed_inside_the_reasoning_is_reasoning_text():
    # "<tool_call>" written as plain text (not the special token) while thinking
    literal = tokens('I might write <tool_call>{"name": "calculator", "arguments": {}}</tool_call>.', (), size=2)
    chunks = [*literal, ("</think>", True), *tokens("\n\nNo tools needed.", ())]
    events = pipeline("hermes", THINK, chunks, forced_open=True)
    assert calls(events) == [] and calls(events, CallMentioned) == []
    assert "<tool_call>" in reasoning(events)
    assert answer(events).strip() == "No tools needed."


DS = ("<｜tool▁calls▁begin｜>", "<｜tool▁call▁begin｜>", "<｜tool▁sep｜>", "<｜tool▁call▁end｜>",
      "<｜tool▁calls▁end｜>", "<think>", "</think>")


def test_deepseek_v31_calls_from_inside_its_thinking():
    text = ("I need the product.<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>calculator<｜tool▁sep｜>"
            '{"expression": "6*7"}<｜tool▁call▁end｜><｜tool▁calls▁end｜>')
    events = pipeline("deepseek-v3.1", THINK, tokens(text, DS, size=5), forced_open=True)
    (call,) = calls(events)
    assert call.in_reasoning and call.arguments == {"expression": "6*7"}
    assert reasoning(events) == "I need the product."
    # the block is still open when the round ends: the thinking goes on after the result
    assert isinstance(events[-1], BlockEnd) and events[-1].truncated


HARMONY_SPECIALS = ("<|start|>", "<|channel|>", "<|constrain|>", "<|message|>", "<|end|>", "<|call|>",
                    "<|return|>")


def test_gpt_oss_analysis_then_commentary_call_then_final_answer():
    round1 = ("<|channel|>analysis<|message|>Need to compute 2+2.<|end|>"
              '<|start|>assistant<|channel|>commentary to=functions.calculator <|constrain|>json'
              '<|message|>{"expression":"2+2"}<|call|>')
    events = pipeline("gpt-oss", HARMONY, tokens(round1, HARMONY_SPECIALS, size=3))
    assert reasoning(events) == "Need to compute 2+2."
    (call,) = calls(events)
    assert call.name == "calculator" and call.arguments == {"expression": "2+2"}
    assert answer(events) == ""  # no header text leaks into the answer
    assert [type(e) for e in events][:1] == [BlockStart]

    round2 = ("<|channel|>analysis<|message|>The result is 4.<|end|>"
              "<|start|>assistant<|channel|>final<|message|>2+2 = 4<|return|>")
    events = pipeline("gpt-oss", HARMONY, tokens(round2, HARMONY_SPECIALS, size=3))
    assert reasoning(events) == "The result is 4." and answer(events) == "2+2 = 4" and calls(events) == []


def test_gpt_oss_without_tools_reads_exactly_as_before():
    text = "<|channel|>analysis<|message|>Think.<|end|><|start|>assistant<|channel|>final<|message|>Hi<|return|>"
    chunks = tokens(text, HARMONY_SPECIALS, size=2)
    with_tools = pipeline("gpt-oss", HARMONY, chunks)
    rp = ReasoningParser(HARMONY, clock=lambda: 0.0)
    alone = [e for t, s in chunks for e in rp.feed(t, special=s)] + rp.finish()

    def merged(events):
        out = []
        for e in events:
            if out and type(e) is type(out[-1]) and isinstance(e, (ReasoningDelta, AnswerDelta)):
                out[-1] = type(e)(out[-1].text + e.text)
            else:
                out.append(e)
        return out

    assert merged(with_tools) == merged(alone)
