"""Tool turns rendered by the families' own templates, and read back by our parsers.

The templates (``helpers/tool_templates.py``) are condensed from the real ones. Round trip:
what our messages render is what our parser reads back as the same calls.
"""

from __future__ import annotations

import json

import pytest
from helpers.tool_streams import parsed, run
from helpers.tool_templates import DEEPSEEK_R1, DEEPSEEK_V31, GPT_OSS, LLAMA31, MISTRAL, QWEN3, QWEN3_CODER

from app.domain.chat_template import render_chat
from app.domain.tools.chat_format import (
    assistant_message,
    call_json,
    round_messages,
    tool_json,
    tool_message,
    tools_json,
)
from app.domain.tools.types import ToolCall, ToolResult, ToolSpec

CALC = ToolSpec("calculator", "Exact arithmetic.", {"type": "object", "properties": {
    "expression": {"type": "string"}}, "required": ["expression"]})
USER = {"role": "user", "content": "What is 2+2 and 3*3?"}
CALLS = [ToolCall("k3j9x0ab1", "calculator", {"expression": "2+2"}),
         ToolCall("k3j9x0ab2", "calculator", {"expression": "3*3"})]
RESULTS = [ToolResult("k3j9x0ab1", "4"), ToolResult("k3j9x0ab2", "9")]


def test_tool_json_is_the_openai_function_format():
    assert tool_json(CALC) == {"type": "function", "function": {
        "name": "calculator", "description": "Exact arithmetic.", "parameters": CALC.parameters}}
    assert tools_json([CALC, CALC]) == [tool_json(CALC)] * 2


def test_call_json_arguments_are_a_dict_or_a_string_per_family():
    assert call_json(CALLS[0])["function"]["arguments"] == {"expression": "2+2"}
    assert call_json(CALLS[0], "deepseek-r1")["function"]["arguments"] == '{"expression": "2+2"}'
    assert call_json(CALLS[0], "hermes") == {"id": "k3j9x0ab1", "type": "function", "function": {
        "name": "calculator", "arguments": {"expression": "2+2"}}}


def test_tool_message_carries_the_id_and_the_name():
    assert tool_message(RESULTS[0], CALLS[0]) == {"role": "tool", "tool_call_id": "k3j9x0ab1",
                                                  "name": "calculator", "content": "4"}


def test_round_messages_need_one_result_per_call():
    with pytest.raises(ValueError):
        round_messages(CALLS, RESULTS[:1])


def render(template, messages, **kw):
    return render_chat(template, messages, add_generation_prompt=False, eos_token="</s>", **kw)


def between(text, start, end):
    i = text.index(start) + len(start)
    return text[i: text.index(end, i)]


# (family, template, where the assistant's calls are in the rendered prompt)
ROUND_TRIPS = [
    ("hermes", QWEN3, lambda t: between(t, "<|im_start|>assistant\n", "<|im_end|>")),
    ("qwen3-coder", QWEN3_CODER, lambda t: between(t, "<|im_start|>assistant", "<|im_end|>")),
    ("deepseek-r1", DEEPSEEK_R1, lambda t: between(t, "<｜Assistant｜>", "<｜end▁of▁sentence｜>")),
    ("deepseek-v3.1", DEEPSEEK_V31, lambda t: between(t, "<｜Assistant｜>", "<｜end▁of▁sentence｜>")),
    ("gpt-oss", GPT_OSS, lambda t: t[t.index("<|start|>assistant"):]),
    ("mistral", MISTRAL, lambda t: between(t, "[/INST]", "</s>")),
]


@pytest.mark.parametrize("family, template, part", ROUND_TRIPS, ids=[r[0] for r in ROUND_TRIPS])
def test_the_template_renders_our_round_and_our_parser_reads_the_calls_back(family, template, part):
    messages = [USER, *round_messages(CALLS, RESULTS, family, reasoning="Two sums.")]
    prompt = render(template, messages, tools=tools_json([CALC]))
    back = parsed(run(family, list(part(prompt)), tools=[CALC]))
    assert [(c.name, c.arguments) for c in back] == [(c.name, c.arguments) for c in CALLS]
    assert "4" in prompt and "9" in prompt  # both results are in the prompt


def test_llama31_one_call_per_assistant_message_round_trip():
    messages = [USER, *round_messages(CALLS, RESULTS, "llama3")]
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "assistant", "tool"]
    prompt = render(LLAMA31, messages)
    parts = prompt.split("<|start_header_id|>assistant<|end_header_id|>\n\n")[1:]
    calls = [parsed(run("llama3", list(p[: p.index("<|eot_id|>")])))[0] for p in parts]
    assert [(c.name, c.arguments) for c in calls] == [(c.name, c.arguments) for c in CALLS]
    assert '<|start_header_id|>ipython<|end_header_id|>\n\n"4"<|eot_id|>' in prompt


def test_llama31_refuses_two_calls_in_one_message_which_is_why_rounds_are_split():
    from jinja2 import TemplateError

    with pytest.raises(TemplateError):
        render(LLAMA31, [USER, assistant_message(CALLS, "llama3")])


def test_gpt_oss_gets_one_call_per_message_with_the_thinking_first():
    messages = round_messages(CALLS, RESULTS, "gpt-oss", reasoning="Two sums.")
    assert [m["role"] for m in messages] == ["assistant", "tool", "assistant", "tool"]
    assert messages[0]["thinking"] == "Two sums." and messages[0]["content"] == ""
    assert "thinking" not in messages[2]
    prompt = render(GPT_OSS, [USER, *messages])
    assert "<|start|>assistant<|channel|>analysis<|message|>Two sums.<|end|>" in prompt
    assert '<|start|>functions.calculator to=assistant<|channel|>commentary<|message|>"4"<|end|>' in prompt


def test_gpt_oss_refuses_content_and_thinking_together_so_content_is_emptied():
    from jinja2 import TemplateError

    msg = assistant_message(CALLS[:1], "gpt-oss", content="Let me check.", reasoning="Sum.")
    assert msg["content"] == ""
    render(GPT_OSS, [USER, msg, tool_message(RESULTS[0], CALLS[0])])  # renders
    with pytest.raises(TemplateError):
        render(GPT_OSS, [USER, {**msg, "content": "Let me check."}, tool_message(RESULTS[0], CALLS[0])])


def test_qwen3_keeps_the_reasoning_of_the_current_tool_loop():
    prompt = render(QWEN3, [USER, *round_messages(CALLS, RESULTS, "hermes", reasoning="Two sums.")])
    assert "<think>\nTwo sums.\n</think>" in prompt
    assert prompt.count("<tool_response>") == 2 and prompt.count("<|im_start|>user") == 2  # results merged


def test_deepseek_r1_needs_string_arguments_and_no_content():
    good = [USER, *round_messages(CALLS, RESULTS, "deepseek-r1")]
    assert good[1]["content"] is None
    prompt = render(DEEPSEEK_R1, good)
    assert prompt.count("<｜Assistant｜>") == 1
    # what the generic shape would do: dict arguments fail, "" content adds an empty assistant turn
    with pytest.raises(TypeError):
        render(DEEPSEEK_R1, [USER, assistant_message(CALLS, None)])
    with_text = {**good[1], "content": ""}
    assert render(DEEPSEEK_R1, [USER, with_text]).count("<｜Assistant｜>") == 2


def test_mistral_ids_are_long_enough_for_its_template():
    from app.domain.tools.stream_parser import CallIds

    ids = CallIds()
    first = ids.next()
    assert len(first) >= 9 and first.isalnum()
    call = ToolCall(first, "calculator", {"expression": "1"})
    prompt = render(MISTRAL, [USER, assistant_message([call], "mistral"),
                              tool_message(ToolResult(first, "1"), call)])
    assert f'"call_id": "{first[-9:]}"' in prompt
    assert json.loads(between(prompt, "[TOOL_CALLS] ", "</s>"))[0]["id"] == first[-9:]
