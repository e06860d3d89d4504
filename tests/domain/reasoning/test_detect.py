"""Detecting the marker family and forced-open state from realistic template snippets."""

from __future__ import annotations

import pytest

from app.domain.chat_template import render_chat
from app.domain.reasoning.detect import detect_reasoning, family_in_template, prompt_ends_open
from app.domain.reasoning.markers import FAMILIES
from app.domain.reasoning.parser import ReasoningParser

# DeepSeek-R1-Distill-like: strips old reasoning, ends the prompt with "<｜Assistant｜><think>\n".
DEEPSEEK_R1_DISTILL = (
    "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}"
    "{{ bos_token }}{% for message in messages %}"
    "{% if message['role'] == 'user' %}{{ '<｜User｜>' + message['content'] }}"
    "{% elif message['role'] == 'assistant' %}{% set content = message['content'] %}"
    "{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}"
    "{{ '<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>' }}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<｜Assistant｜><think>\\n' }}{% endif %}"
)

# Qwen3-like: ChatML, thinking on by default; enable_thinking=false pre-fills an empty block.
QWEN3 = """{%- for message in messages %}
{%- if message.role == "assistant" %}
{%- set content = message.content %}
{%- if '</think>' in content %}
{%- set content = content.split('</think>')[-1].lstrip('\\n') %}
{%- endif %}
{{- '<|im_start|>assistant\\n' + content + '<|im_end|>\\n' }}
{%- else %}
{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}
{%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
{{- '<|im_start|>assistant\\n' }}
{%- if enable_thinking is defined and enable_thinking is false %}
{{- '<think>\\n\\n</think>\\n\\n' }}
{%- endif %}
{%- endif %}"""

# SmolLM2-like ChatML without any thinking.
SMOLLM2 = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\\n' }}"
    "{% endif %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

# QwQ-like: ChatML that forces the block open.
QWQ = (
    "{%- for message in messages %}"
    "{%- if message.role == 'assistant' %}{%- set content = message.content.split('</think>')[-1].lstrip('\\n') %}"
    "{{- '<|im_start|>assistant\\n' + content + '<|im_end|>\\n' }}"
    "{%- else %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n<think>\\n' }}{%- endif %}"
)

GPT_OSS = (
    "{%- for message in messages %}"
    "{%- if message.role == 'assistant' and message.thinking %}"
    "{{- '<|start|>assistant<|channel|>analysis<|message|>' + message.thinking + '<|end|>' }}{%- endif %}"
    "{%- if message.role == 'assistant' %}"
    "{{- '<|start|>assistant<|channel|>final<|message|>' + message.content + '<|return|>' }}"
    "{%- else %}{{- '<|start|>' + message.role + '<|message|>' + message.content + '<|end|>' }}{%- endif %}"
    "{%- endfor %}{%- if add_generation_prompt %}<|start|>assistant{%- endif %}"
)

# Phi-3-like: uses <|end|> like Harmony but has no reasoning.
PHI3 = (
    "{% for message in messages %}{{'<|' + message['role'] + '|>' + '\\n' + message['content'] + '<|end|>\\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}"
)

HUNYUAN = (
    "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
    "{# reasoning as <think>...</think> then <answer>...</answer> #}"
)

COMMAND_R7B = (
    "{% for m in messages %}<|START_OF_TURN_TOKEN|>{{ m.content }}<|END_OF_TURN_TOKEN|>{% endfor %}"
    "{# <|START_THINKING|> ... <|END_THINKING|> <|START_RESPONSE|> #}"
    "{% if add_generation_prompt %}<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>{% endif %}"
)


def test_deepseek_r1_distill_forced_open():
    prompt = render_chat(DEEPSEEK_R1_DISTILL, [{"role": "user", "content": "hi"}])
    assert prompt.endswith("<｜Assistant｜><think>\n")
    d = detect_reasoning(DEEPSEEK_R1_DISTILL, "DeepSeek-R1-Distill-Qwen-1.5B")
    assert d.spec is FAMILIES["think"]
    assert d.forced_open and d.supports_thinking
    assert not d.enable_thinking_switch
    assert d.source == "template" and d.render_error is None


def test_qwen3_not_forced_open_but_has_switch():
    d = detect_reasoning(QWEN3, "Qwen3-0.6B")
    assert d.spec is FAMILIES["think"]
    assert not d.forced_open
    assert d.enable_thinking_switch and d.supports_thinking
    off = render_chat(QWEN3, [{"role": "user", "content": "hi"}], enable_thinking=False)
    assert off.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    assert not prompt_ends_open(off, d.spec)


def test_qwen3_strips_old_reasoning():
    msgs = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "<think>\nsecret\n</think>\n\nHello"},
        {"role": "user", "content": "again"},
    ]
    prompt = render_chat(QWEN3, msgs)
    assert "secret" not in prompt and "<|im_start|>assistant\nHello<|im_end|>" in prompt


def test_smollm2_chatml_has_no_thinking():
    d = detect_reasoning(SMOLLM2, "SmolLM2-360M-Instruct")
    assert d.spec is None and not d.forced_open and not d.supports_thinking
    assert d.source == "none" and not d.enable_thinking_switch


def test_qwq_forced_open():
    d = detect_reasoning(QWQ, "")
    assert d.spec is FAMILIES["think"] and d.forced_open and d.source == "template"


def test_gpt_oss_template():
    d = detect_reasoning(GPT_OSS, "")
    assert d.spec is FAMILIES["gpt-oss"] and not d.forced_open


def test_phi3_end_token_is_not_harmony():
    assert family_in_template(PHI3) is None
    assert detect_reasoning(PHI3, "Phi-3-mini-4k-instruct").spec is None


def test_hunyuan_beats_plain_think_by_its_answer_wrapper():
    assert family_in_template(HUNYUAN) is FAMILIES["hunyuan"]


def test_command_r7b_template():
    assert family_in_template(COMMAND_R7B) is FAMILIES["command-r7b"]


def test_name_fallback_when_template_is_silent_or_missing():
    d = detect_reasoning(None, "DeepSeek-R1-Distill-Llama-8B-Q4_K_M.gguf")
    assert d.spec is FAMILIES["think"] and d.source == "name" and not d.forced_open
    d = detect_reasoning(SMOLLM2, "magistral-small")
    assert d.spec is FAMILIES["magistral"] and d.source == "name"
    d = detect_reasoning(None, "")
    assert d == detect_reasoning(None) and d.spec is None and d.source == "none"


def test_broken_template_reports_the_error():
    broken = "<think>{% if %}"
    d = detect_reasoning(broken, "")
    assert d.spec is FAMILIES["think"] and not d.forced_open
    assert d.render_error is not None and "TemplateSyntaxError" in d.render_error


def test_raising_template_reports_the_error():
    tpl = "</think>{{ raise_exception('Conversation roles must alternate') }}"
    d = detect_reasoning(tpl, "")
    assert d.render_error is not None and "alternate" in d.render_error


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("<|im_start|>assistant\n<think>\n", True),
        ("<|im_start|>assistant\n<think>\n\n</think>\n\n", False),
        ("<|im_start|>assistant\n", False),
        ("old <think>x</think> turn <think>", True),
        ("", False),
    ],
)
def test_prompt_ends_open(prompt, expected):
    assert prompt_ends_open(prompt, FAMILIES["think"]) is expected


def test_gemma4_start_with_newline_found_in_template_and_prompt():
    spec = FAMILIES["gemma4"]
    tpl = "{% if add_generation_prompt %}<start_of_turn>model\n<|channel>thought\n{% endif %}"
    assert family_in_template(tpl) is spec
    assert detect_reasoning(tpl).forced_open


def test_detection_drives_the_parser():
    d = detect_reasoning(DEEPSEEK_R1_DISTILL)
    p = ReasoningParser(d.spec, forced_open=d.forced_open)
    events = p.feed("Okay, hi.\n</think>\n\nHello!") + p.finish()
    assert [type(e).__name__ for e in events] == ["BlockStart", "ReasoningDelta", "BlockEnd", "AnswerDelta"]
