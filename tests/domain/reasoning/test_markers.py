"""The family table matches the spec and names map to the right family."""

from __future__ import annotations

import pytest

from app.domain.reasoning.markers import FAMILIES, MarkerSpec, family_for_name

# Written out from the spec's table, independently of markers.py.
SPEC_TABLE = {
    "think": ("<think>", "</think>"),
    "seed": ("<seed:think>", "</seed:think>"),
    "command-r7b": ("<|START_THINKING|>", "<|END_THINKING|>"),
    "magistral": ("[THINK]", "[/THINK]"),
    "gpt-oss": ("<|channel|>analysis<|message|>", "<|end|>"),
    "gemma4": ("<|channel>thought\n", "<channel|>"),
    "hunyuan": ("<think>", "</think>"),
    "apertus": ("<|inner_prefix|>", "<|inner_suffix|>"),
    "kimi-vl": ("◁think▷", "◁/think▷"),
    "openthinker": ("<|begin_of_thought|>", "<|end_of_thought|>"),
    "thinking": ("<thinking>", "</thinking>"),
    "thought": ("<thought>", "</thought>"),
    "reason": ("<reason>", "</reason>"),
    "reasoning": ("<reasoning>", "</reasoning>"),
}


def test_every_spec_family_is_in_the_table():
    assert {k: (v.start, v.end) for k, v in FAMILIES.items()} == SPEC_TABLE
    assert all(spec.family == name for name, spec in FAMILIES.items())


@pytest.mark.parametrize(
    ("family", "wrappers"),
    [
        ("hunyuan", {"<answer>", "</answer>"}),
        ("command-r7b", {"<|START_RESPONSE|>", "<|END_RESPONSE|>"}),
        ("openthinker", {"<|begin_of_solution|>", "<|end_of_solution|>"}),
        ("gpt-oss", {"<|channel|>final<|message|>", "<|channel|>commentary<|message|>", "<|return|>"}),
    ],
)
def test_answer_wrappers_are_markup(family, wrappers):
    assert wrappers <= set(FAMILIES[family].markup)


def test_only_the_think_family_opens_implicitly():
    assert FAMILIES["think"].implicit_open
    assert [name for name, s in FAMILIES.items() if s.implicit_open] == ["think"]
    assert not any(s.special_tokens for s in FAMILIES.values())  # the backend opts in


@pytest.mark.parametrize(
    ("start", "end", "markup"),
    [
        ("", "</x>", ()),
        (" <x>", "</x>", ()),
        ("<x>", "</x>", ("<x>y",)),  # start is part of a markup string
        ("<a>", "<a>b", ()),
    ],
)
def test_invalid_specs_are_rejected(start, end, markup):
    with pytest.raises(ValueError):
        MarkerSpec("bad", start, end, markup=markup)


def test_all_markers_order():
    s = FAMILIES["hunyuan"]
    assert s.all_markers == ("<think>", "</think>", "<answer>", "</answer>")


@pytest.mark.parametrize(
    ("name", "family"),
    [
        ("DeepSeek-R1-Distill-Qwen-1.5B-Q4_K_M.gguf", "think"),
        ("deepseek_r1_distill_llama_8b", "think"),
        ("QwQ-32B-Preview", "think"),
        ("Qwen3-0.6B", "think"),
        ("GLM-4.5-Air", "think"),
        ("MiniMax-M2", "think"),
        ("granite-3.3-8b-instruct", "think"),
        ("Kimi-K2-Thinking", "think"),
        ("Kimi-VL-A3B-Thinking", "kimi-vl"),
        ("gpt-oss-20b-MXFP4.gguf", "gpt-oss"),
        ("Magistral-Small-2506", "magistral"),
        ("Seed-OSS-36B-Instruct", "seed"),
        ("c4ai-command-r7b-12-2024", "command-r7b"),
        ("Hunyuan-A13B-Instruct", "hunyuan"),
        ("Apertus-8B-Instruct", "apertus"),
        ("OpenThinker-7B", "openthinker"),
        ("Sky-T1-32B-Preview", "openthinker"),
        ("gemma-4-it", "gemma4"),
    ],
)
def test_family_for_name(name, family):
    spec = family_for_name(name)
    assert spec is not None and spec.family == family


@pytest.mark.parametrize("name", ["SmolLM2-1.7B-Instruct", "Llama-3.2-3B-Instruct", "gemma-3-4b-it", ""])
def test_family_for_name_unknown(name):
    assert family_for_name(name) is None
