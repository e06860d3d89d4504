"""Which tool-call family a template (or a model name) means, and the tool_format override."""

from __future__ import annotations

import pytest

from app.domain.tools.detect import detect_tool_family, resolve_tool_family
from app.domain.tools.families import TOOL_FAMILIES, tool_family

from helpers.tool_templates import DEEPSEEK_R1, DEEPSEEK_V31, GPT_OSS, LLAMA31, MISTRAL, QWEN3, QWEN3_CODER

SMOLLM2 = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
           "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
DSML = "{%- set dsml_token = \"｜DSML｜\" -%}{{ '<' + dsml_token + 'function_calls>' }}"
LLAMA_BUILTIN = "{{- \"<|python_tag|>\" + tool_call.name + \".call(\" }}"


@pytest.mark.parametrize("template, family", [
    (QWEN3, "hermes"), (QWEN3_CODER, "qwen3-coder"), (DEEPSEEK_R1, "deepseek-r1"),
    (DEEPSEEK_V31, "deepseek-v3.1"), (DSML, "deepseek-v3.2"), (GPT_OSS, "gpt-oss"), (LLAMA31, "llama3"),
    (LLAMA_BUILTIN, "llama3"), (MISTRAL, "mistral"), (SMOLLM2, None),
])
def test_the_template_decides(template, family):
    assert detect_tool_family(template) == family


def test_the_template_wins_over_the_name():
    assert detect_tool_family(QWEN3_CODER, "Qwen3-8B-Q4_K_M.gguf") == "qwen3-coder"


@pytest.mark.parametrize("name, family", [
    ("Qwen3-8B-Q4_K_M.gguf", "hermes"), ("qwq-32b", "hermes"), ("Qwen3-Coder-30B-A3B", "qwen3-coder"),
    ("DeepSeek-R1-Distill-Qwen-7B", "deepseek-r1"), ("deepseek_v3.1_terminus", "deepseek-v3.1"),
    ("DeepSeek-V3.2-Exp", "deepseek-v3.2"), ("gpt-oss-20b-mxfp4", "gpt-oss"),
    ("Meta-Llama-3.1-8B-Instruct", "llama3"), ("Magistral-Small-2509", "mistral"),
    ("Hermes-3-Llama-3.1-8B", "hermes"), ("SmolLM2-135M-Instruct", None), ("", None),
])
def test_the_name_decides_when_the_template_says_nothing(name, family):
    assert detect_tool_family(SMOLLM2, name) == family
    assert detect_tool_family(None, name) == family


def test_the_setting_overrides_detection():
    assert resolve_tool_family(QWEN3, "qwen3", "mistral") == "mistral"
    assert resolve_tool_family(QWEN3, "qwen3", "auto") == "hermes"
    assert resolve_tool_family(QWEN3, "qwen3", None) == "hermes"
    assert resolve_tool_family(QWEN3, "qwen3", "none") is None
    assert resolve_tool_family(QWEN3, "qwen3", "off") is None
    assert resolve_tool_family(None, "", "qwen3") == "hermes"  # aliases give the family name
    assert resolve_tool_family(None, "", "harmony") == "gpt-oss"


def test_an_unknown_setting_names_the_allowed_values():
    with pytest.raises(ValueError) as err:
        resolve_tool_family(QWEN3, "", "hermes2")
    assert "hermes2" in str(err.value) and "qwen3-coder" in str(err.value) and "auto" in str(err.value)
    with pytest.raises(ValueError):
        tool_family("nope")


def test_every_family_row_is_consistent():
    for name, fam in TOOL_FAMILIES.items():
        assert fam.name == name and fam.markers
        assert all(t in fam.markers for t in fam.stop_tokens)
        assert fam.reasoning_key in ("reasoning_content", "thinking")
