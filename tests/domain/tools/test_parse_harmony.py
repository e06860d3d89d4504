"""gpt-oss Harmony: messages addressed ``to=functions.NAME`` are calls, the rest passes on."""

from __future__ import annotations

import pytest
from helpers.tool_streams import assert_bracketed, family_tokens, kinds, parsed, rebuild, run, run_text, text_of

from app.domain.tools.call_parser import make_tool_parser
from app.domain.tools.pieces import CallAbandoned, CallOpened, Text

MODES = ["plain", "special"]
ANALYSIS = "<|channel|>analysis<|message|>The user wants 2+2. Use the calculator.<|end|>"
IN_CHANNEL = ('<|start|>assistant<|channel|>commentary to=functions.calculator <|constrain|>json'
              '<|message|>{"expression":"2+2"}<|call|>')
IN_ROLE = '<|start|>assistant to=functions.calculator<|channel|>commentary json<|message|>{"expression":"2+2"}<|call|>'


def go(text, mode, **kw):
    pieces = run_text("gpt-oss", text, special_markers=(mode == "special"), **kw)
    assert rebuild(pieces) == text
    assert_bracketed(pieces)
    return pieces


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("call", [IN_CHANNEL, IN_ROLE], ids=["in-channel", "in-role"])
def test_analysis_then_a_commentary_call(mode, call):
    pieces = go(ANALYSIS + call, mode)
    (c,) = parsed(pieces)
    assert (c.name, c.arguments, c.raw, c.in_reasoning) == ("calculator", {"expression": "2+2"}, call, False)
    assert text_of(pieces) == ANALYSIS
    assert CallOpened("calculator") in pieces


def test_the_header_passed_on_is_the_same_token_sequence():
    # the reasoning parser must see exactly the tokens it would have seen without tools
    chunks = family_tokens("gpt-oss", ANALYSIS + "<|start|>assistant<|channel|>final<|message|>4<|return|>")
    pieces = run("gpt-oss", chunks, special_markers=True)
    assert [(p.text, p.special) for p in pieces if isinstance(p, Text)] == [
        (t, s) for t, s in _merge_plain(chunks)]


def _merge_plain(chunks):
    out = []
    for t, s in chunks:
        if out and not s and not out[-1][1]:
            out[-1] = (out[-1][0] + t, False)
        else:
            out.append((t, s))
    return out


@pytest.mark.parametrize("mode", MODES)
def test_a_call_at_the_very_start_in_role_form(mode):
    text = ' to=functions.calculator<|channel|>commentary json<|message|>{"expression":"1"}<|call|>'
    (c,) = parsed(go(text, mode))
    assert c.name == "calculator" and c.arguments == {"expression": "1"}


@pytest.mark.parametrize("mode", MODES)
def test_a_call_on_the_analysis_channel_is_in_the_reasoning(mode):
    text = '<|channel|>analysis to=functions.lookup <|constrain|>json<|message|>{"q":"x"}<|call|>'
    (c,) = parsed(go(text, mode))
    assert c.name == "lookup" and c.in_reasoning


def test_the_in_reasoning_flag_of_the_caller_is_kept():
    (c,) = parsed(go(IN_CHANNEL, "plain", in_reasoning=True))
    assert c.in_reasoning  # gpt-oss calls from its reasoning: run, not "mentioned"


def test_builtin_python_recipient_takes_code():
    text = "<|channel|>analysis to=python code<|message|>print(6*7)<|call|>"
    (c,) = parsed(go(text, "plain"))
    assert (c.name, c.arguments) == ("python", {"code": "print(6*7)"})


@pytest.mark.parametrize("text", [
    "<|channel|>final<|message|>Just an answer.<|return|>",
    "<|channel|>commentary<|message|>Let me check that.<|end|>",  # a preamble, no recipient
    "<|start|>functions.calculator to=assistant<|channel|>commentary<|message|>\"4\"<|end|>",  # a reply
    "Plain text without any header, e.g. a model that lost its format.",
    "<|channel|>final <|constrain|>json<|message|>{\"a\": 1}<|return|>",
])
def test_messages_without_a_tool_recipient_pass_unchanged(text):
    for mode in MODES:
        pieces = go(text, mode)
        assert parsed(pieces) == [] and text_of(pieces) == text


def test_plain_text_at_the_start_is_not_held():
    p = make_tool_parser("gpt-oss")
    assert p.feed("Hello there") == [Text("Hello there")]
    assert p.pending == ""


def test_a_header_is_held_only_until_message_decides():
    p = make_tool_parser("gpt-oss", True)
    assert p.feed("<|channel|>", special=True) == []
    assert p.feed("analysis") == []
    assert p.pending == "<|channel|>analysis"
    assert p.feed("<|message|>", special=True) == [Text("<|channel|>", True), Text("analysis"),
                                                   Text("<|message|>", True)]
    assert p.feed("thinking") == [Text("thinking")]


@pytest.mark.parametrize("mode", MODES)
def test_without_the_call_token_the_call_is_abandoned(mode):
    text = ANALYSIS + IN_CHANNEL[:-len("<|call|>")]
    pieces = go(text, mode)
    assert parsed(pieces) == []
    assert any(isinstance(p, CallAbandoned) for p in pieces) and text_of(pieces) == text


def test_a_new_message_before_the_call_ends_abandons_it():
    text = '<|channel|>commentary to=functions.f json<|message|>{"a":<|start|>assistant<|channel|>final<|message|>x'
    pieces = go(text, "plain")
    assert parsed(pieces) == [] and kinds(pieces).count("CallAbandoned") == 1


def test_invalid_json_arguments_are_a_call_with_an_error():
    text = "<|channel|>commentary to=functions.calculator json<|message|>{expression: 2}<|call|>"
    (c,) = parsed(go(text, "plain"))
    assert c.name == "calculator" and "not valid JSON" in c.error


def test_a_call_ended_by_end_instead_of_call_is_accepted():
    text = '<|channel|>commentary to=functions.f json<|message|>{}<|end|>'
    assert [c.name for c in parsed(go(text, "plain"))] == ["f"]


def test_two_calls_in_one_output():
    text = IN_CHANNEL + IN_CHANNEL.replace("2+2", "3*3")
    calls = parsed(go(text, "plain"))
    assert [c.arguments["expression"] for c in calls] == ["2+2", "3*3"]
    assert [c.id for c in calls] == ["t1", "t2"]
