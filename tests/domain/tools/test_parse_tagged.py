"""Hermes/Qwen3 ``<tool_call>{json}</tool_call>``, Qwen3-Coder XML and DeepSeek V3.2 DSML."""

from __future__ import annotations

import pytest
from helpers.tool_streams import (
    assert_bracketed,
    kinds,
    mentioned,
    parsed,
    rebuild,
    run,
    run_text,
    text_of,
    tokens,
)

from app.domain.tools.pieces import CallAbandoned, CallOpened, Markup, Text
from app.domain.tools.types import ToolSpec

MODES = ["plain", "special"]
CALC = '<tool_call>\n{"name": "calculator", "arguments": {"expression": "2+2"}}\n</tool_call>'


def go(family, text, mode, **kw):
    pieces = run_text(family, text, special_markers=(mode == "special"), **kw)
    assert rebuild(pieces) == text
    assert_bracketed(pieces)
    return pieces


@pytest.mark.parametrize("mode", MODES)
def test_call_after_the_reasoning_is_parsed_and_its_text_kept_out(mode):
    text = "<think>\nAdd them.\n</think>\n\n" + CALC
    pieces = go("hermes", text, mode)
    assert text_of(pieces) == "<think>\nAdd them.\n</think>\n\n"
    (call,) = parsed(pieces)
    assert (call.name, call.arguments, call.raw, call.error, call.id) == (
        "calculator", {"expression": "2+2"}, CALC, None, "t1")
    assert kinds(pieces)[-2:] == ["CallOpened", "CallParsed"]
    assert pieces[-2] == CallOpened("")


@pytest.mark.parametrize("mode", MODES)
def test_two_calls_get_two_ids_and_the_text_between_passes(mode):
    second = '<tool_call>\n{"name": "search", "arguments": {"q": "x"}}\n</tool_call>'
    pieces = go("hermes", CALC + "\n" + second + " done", mode)
    calls = parsed(pieces)
    assert [c.name for c in calls] == ["calculator", "search"]
    assert [c.id for c in calls] == ["t1", "t2"]
    assert text_of(pieces) == "\n done"


@pytest.mark.parametrize("body, arguments", [
    ('{"name": "f", "arguments": "{\\"a\\": 1}"}', {"a": 1}),  # arguments as a JSON string
    ('{"name": "f", "parameters": {"a": 1}}', {"a": 1}),  # some fine-tunes say parameters
    ('{"name": "f"}', {}),  # no arguments at all
    ('```json\n{"name": "f", "arguments": {"a": 1}}\n```', {"a": 1}),  # fenced
])
def test_argument_spellings(body, arguments):
    (call,) = parsed(go("hermes", f"<tool_call>{body}</tool_call>", "plain"))
    assert (call.name, call.arguments, call.error) == ("f", arguments, None)


@pytest.mark.parametrize("body, name, needle", [
    ('{"name": "calc", "arguments": {"expression": "2+2"}', "calc", "not valid JSON"),
    ('{"name": "calc", "arguments": [1, 2]}', "calc", "not an object"),
    ('{"arguments": {}}', "", "no \"name\""),
    ("just words", "", "not valid JSON"),
])
def test_a_complete_call_with_unusable_contents_is_parsed_with_an_error(body, name, needle):
    (call,) = parsed(go("hermes", f"<tool_call>{body}</tool_call>", "plain"))
    assert call.name == name and call.arguments == {} and needle in call.error


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("cut", [len("<tool_call>"), len(CALC) - 5, len(CALC) - 1])
def test_an_unterminated_call_is_abandoned_never_parsed(mode, cut):
    text = "Let me compute. " + CALC[:cut]
    pieces = go("hermes", text, mode)
    assert parsed(pieces) == []
    assert isinstance(pieces[-2], CallAbandoned) or isinstance(pieces[-1], Text)
    assert text_of(pieces) == text  # the text comes back for display
    assert any(isinstance(p, CallAbandoned) for p in pieces)


@pytest.mark.parametrize("text", [
    "a < b and <tool_callx> or <tool_cal> </tool_call> <tool_call",
    "<tool_ca",
    "<<<tool_call",
    "</tool_call>",
])
def test_look_alike_text_passes_through_unchanged(text):
    pieces = go("hermes", text, "plain")
    assert pieces == [Text(text)]


def test_markers_split_anywhere_are_found():
    for size in range(1, len(CALC) + 1):
        chunks = [CALC[i:i + size] for i in range(0, len(CALC), size)]
        (call,) = parsed(run("hermes", chunks))
        assert call.arguments == {"expression": "2+2"}


def test_only_the_held_beginning_of_a_marker_waits():
    from app.domain.tools.call_parser import make_tool_parser

    p = make_tool_parser("hermes", id_prefix="t")
    assert p.feed("Hello <tool") == [Text("Hello ")]
    assert p.pending == "<tool"
    assert p.feed("box> ok") == [Text("<toolbox> ok")]
    assert p.pending == ""


def test_special_mode_a_literal_tag_typed_as_text_is_text():
    # the model writes "<tool_call>" as plain text (not the special token): not a call
    chunks = [*tokens("I would write <tool_call>{\"name\": \"x\"}</tool_call> here."),
              ("<tool_call>", True), *tokens('{"name": "real", "arguments": {}}'), ("</tool_call>", True)]
    pieces = run("hermes", chunks, special_markers=True)
    assert [c.name for c in parsed(pieces)] == ["real"]
    assert text_of(pieces) == 'I would write <tool_call>{"name": "x"}</tool_call> here.'


def test_special_mode_a_literal_close_tag_inside_the_arguments_does_not_end_the_call():
    body = '{"name": "python", "arguments": {"code": "print(\'</tool_call>\')"}}'
    chunks = [("<tool_call>", True), *tokens(body, size=3), ("</tool_call>", True)]
    (call,) = parsed(run("hermes", chunks, special_markers=True))
    assert call.arguments == {"code": "print('</tool_call>')"}


def test_special_text_keeps_its_flag_for_the_reasoning_parser():
    chunks = [("<think>", True), ("hm", False), ("</think>", True), ("\n", False)]
    pieces = run("hermes", chunks, special_markers=True)
    assert pieces == [Text("<think>", True), Text("hm"), Text("</think>", True), Text("\n")]


@pytest.mark.parametrize("mode", MODES)
def test_a_call_written_while_thinking_is_only_mentioned(mode):
    text = "I could call " + CALC + " but I will not."
    pieces = go("hermes", text, mode, in_reasoning=True)
    assert parsed(pieces) == [] and not any(isinstance(p, CallOpened) for p in pieces)
    assert text_of(pieces) == text  # all of it stays reasoning text
    (m,) = mentioned(pieces)
    assert (m.name, m.arguments, m.raw, m.in_reasoning) == ("calculator", {"expression": "2+2"}, CALC, True)


def test_reasoning_state_is_taken_where_the_call_opens():
    # the call opens after the reasoning ended: it runs, whatever the flag says later
    chunks = ["<tool_call>", '{"name": "f"}', "</tool_call>"]
    pieces = run("hermes", chunks, in_reasoning=[False, True, True])
    assert [c.name for c in parsed(pieces)] == ["f"]
    pieces = run("hermes", chunks, in_reasoning=[True, False, False])
    assert parsed(pieces) == [] and [c.name for c in mentioned(pieces)] == ["f"]


# -- Qwen3-Coder -----------------------------------------------------------------------------

CODER = ("<tool_call>\n<function=run>\n<parameter=code>\nfor i in range(3):\n    print(i)\n</parameter>\n"
         "<parameter=timeout>\n30\n</parameter>\n<parameter=verbose>\ntrue\n</parameter>\n"
         "<parameter=env>\n{\"A\": \"1\"}\n</parameter>\n</function>\n</tool_call>")
RUN_SPEC = ToolSpec("run", "runs code", {"type": "object", "properties": {
    "code": {"type": "string"}, "timeout": {"type": "integer"}, "verbose": {"type": "boolean"},
    "env": {"type": "object"}}})


@pytest.mark.parametrize("mode", MODES)
def test_qwen3_coder_xml_values_take_the_types_of_the_schema(mode):
    (call,) = parsed(go("qwen3-coder", CODER, mode, tools=[RUN_SPEC]))
    assert call.name == "run"
    assert call.arguments == {"code": "for i in range(3):\n    print(i)", "timeout": 30, "verbose": True,
                              "env": {"A": "1"}}


def test_qwen3_coder_without_schemas_keeps_text_values():
    (call,) = parsed(go("qwen3-coder", CODER, "plain"))
    assert call.arguments["timeout"] == "30" and call.arguments["verbose"] == "true"


def test_qwen3_coder_values_that_do_not_fit_the_schema_stay_text_for_validation():
    text = "<tool_call><function=run><parameter=timeout>soon</parameter></function></tool_call>"
    (call,) = parsed(go("qwen3-coder", text, "plain", tools=[RUN_SPEC]))
    assert call.arguments == {"timeout": "soon"}


def test_qwen3_coder_also_reads_a_json_body_and_reports_a_missing_function():
    (ok,) = parsed(go("qwen3-coder", CALC, "plain"))
    assert ok.name == "calculator"
    (bad,) = parsed(go("qwen3-coder", "<tool_call>\n<parameter=a>1</parameter>\n</tool_call>", "plain"))
    assert "<function=NAME>" in bad.error


# -- DeepSeek V3.2 DSML ----------------------------------------------------------------------

D = "｜DSML｜"
DSML = (f"\n\n<{D}function_calls>\n<{D}invoke name=\"calculator\">\n"
        f"<{D}parameter name=\"expression\" string=\"true\">2+2</{D}parameter>\n</{D}invoke>\n"
        f"<{D}invoke name=\"search\">\n<{D}parameter name=\"q\" string=\"true\">cats</{D}parameter>\n"
        f"<{D}parameter name=\"limit\" string=\"false\">5</{D}parameter>\n"
        f"<{D}parameter name=\"tags\" string=\"false\">[\"a\", \"b\"]</{D}parameter>\n</{D}invoke>\n"
        f"</{D}function_calls>")


def test_dsml_block_gives_one_call_per_invoke_with_typed_values():
    pieces = go("deepseek-v3.2", "</think>" + DSML, "plain")
    calls = parsed(pieces)
    assert [(c.name, c.arguments) for c in calls] == [
        ("calculator", {"expression": "2+2"}), ("search", {"q": "cats", "limit": 5, "tags": ["a", "b"]})]
    assert all(c.raw.startswith(f"<{D}invoke") and c.raw.endswith(f"</{D}invoke>") for c in calls)
    assert any(isinstance(p, Markup) and p.text.startswith(f"<{D}function_calls>") for p in pieces)
    assert kinds(pieces).count("CallOpened") == 2


def test_dsml_calls_inside_the_thinking_run_there():
    calls = parsed(go("deepseek-v3.2", DSML, "plain", in_reasoning=True))
    assert [c.in_reasoning for c in calls] == [True, True]


def test_an_empty_dsml_block_is_abandoned_and_shown():
    text = f"<{D}function_calls>\n</{D}function_calls>"
    pieces = go("deepseek-v3.2", text, "plain")
    assert parsed(pieces) == [] and text_of(pieces) == text
