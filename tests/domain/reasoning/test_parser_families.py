"""Every marker family of the spec through the parser: a normal block, forced open, split markers."""

from __future__ import annotations

import pytest

from app.domain.reasoning.markers import FAMILIES
from app.domain.reasoning.parser import ReasoningParser
from helpers.events import norm


def parse(family, chunks, **kw):
    p = ReasoningParser(FAMILIES[family], clock=lambda: 0.0, **kw)
    events = []
    for c in chunks:
        events += p.feed(c)
    return norm(events + p.finish())


def every_split(text):
    """Whole, per character, and every cut into two chunks (which splits every marker)."""
    yield [text]
    yield list(text)
    for i in range(1, len(text)):
        yield [text[:i], text[i:]]


def assert_all_chunkings(family, text, expected, **kw):
    for chunks in every_split(text):
        assert parse(family, chunks, **kw) == expected, chunks


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_normal_block(family):
    s = FAMILIES[family]
    text = f"{s.start}Let me check: 3 < 4.{s.end}\n\nYes."
    assert_all_chunkings(
        family, text,
        [("start", s.start), ("r", "Let me check: 3 < 4."), ("end", s.end), ("a", "\n\nYes.")],
    )


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_forced_open_closed_and_truncated(family):
    s = FAMILIES[family]
    assert_all_chunkings(
        family, f"Plan it.{s.end}Done.",
        [("start", ""), ("r", "Plan it."), ("end", s.end), ("a", "Done.")],
        forced_open=True,
    )
    assert_all_chunkings(
        family, f"Plan {s.end[:-1]}", [("start", ""), ("r", f"Plan {s.end[:-1]}"), ("cut", "")],
        forced_open=True,
    )


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_answer_without_markers_and_partial_markers(family):
    s = FAMILIES[family]
    assert_all_chunkings(family, "Plain answer.", [("a", "Plain answer.")])
    assert_all_chunkings(family, f"Hi {s.start[:-1]}", [("a", f"Hi {s.start[:-1]}")])


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_markup_is_neither_reasoning_nor_answer(family):
    s = FAMILIES[family]
    for m in s.markup:
        assert_all_chunkings(
            family, f"{s.start}r{s.end}{m}Ans",
            [("start", s.start), ("r", "r"), ("end", s.end), ("m", m), ("a", "Ans")],
        )


def test_gpt_oss_harmony_full_message():
    text = (
        "<|channel|>analysis<|message|>User says hi. Reply briefly.<|end|>"
        "<|start|>assistant<|channel|>final<|message|>Hello!<|return|>"
    )
    assert_all_chunkings("gpt-oss", text, [
        ("start", "<|channel|>analysis<|message|>"), ("r", "User says hi. Reply briefly."),
        ("end", "<|end|>"), ("m", "<|start|>assistant<|channel|>final<|message|>"),
        ("a", "Hello!"), ("m", "<|return|>"),
    ])


def test_gpt_oss_commentary_channel_is_answer_text():
    text = "<|channel|>analysis<|message|>Need a tool.<|end|><|start|>assistant<|channel|>commentary<|message|>Calling."
    assert parse("gpt-oss", [text])[-2:] == [
        ("m", "<|start|>assistant<|channel|>commentary<|message|>"), ("a", "Calling."),
    ]


def test_gpt_oss_second_analysis_block_after_first_is_reasoning():
    text = "<|channel|>analysis<|message|>a<|end|><|start|>assistant<|channel|>analysis<|message|>b<|end|>"
    assert parse("gpt-oss", [text]) == [
        ("start", "<|channel|>analysis<|message|>"), ("r", "a"), ("end", "<|end|>"),
        ("m", "<|start|>assistant"), ("start", "<|channel|>analysis<|message|>"), ("r", "b"), ("end", "<|end|>"),
    ]


def test_command_r7b_response_wrapper():
    text = "<|START_THINKING|>Plan.<|END_THINKING|><|START_RESPONSE|>The answer.<|END_RESPONSE|>"
    assert_all_chunkings("command-r7b", text, [
        ("start", "<|START_THINKING|>"), ("r", "Plan."), ("end", "<|END_THINKING|>"),
        ("m", "<|START_RESPONSE|>"), ("a", "The answer."), ("m", "<|END_RESPONSE|>"),
    ])


def test_command_r7b_response_only():
    assert parse("command-r7b", ["<|START_RESPONSE|>Hi<|END_RESPONSE|>"]) == [
        ("m", "<|START_RESPONSE|>"), ("a", "Hi"), ("m", "<|END_RESPONSE|>"),
    ]


def test_hunyuan_answer_wrapper():
    text = "<think>\nReason.\n</think>\n<answer>\nHi\n</answer>"
    assert_all_chunkings("hunyuan", text, [
        ("start", "<think>"), ("r", "\nReason.\n"), ("end", "</think>"), ("m", "\n<answer>"),
        ("a", "\nHi\n"), ("m", "</answer>"),
    ])


def test_openthinker_solution_wrapper():
    text = "<|begin_of_thought|>\n\nthink\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\n42\n\n<|end_of_solution|>"
    assert_all_chunkings("openthinker", text, [
        ("start", "<|begin_of_thought|>"), ("r", "\n\nthink\n\n"), ("end", "<|end_of_thought|>"),
        ("m", "\n\n<|begin_of_solution|>"), ("a", "\n\n42\n\n"), ("m", "<|end_of_solution|>"),
    ])


def test_gemma4_thought_label_is_not_reasoning_text():
    text = "<|channel>thought\nConsider it.<channel|>Answer"
    assert_all_chunkings("gemma4", text, [
        ("start", "<|channel>thought\n"), ("r", "Consider it."), ("end", "<channel|>"), ("a", "Answer"),
    ])


def test_magistral_no_start_means_no_reasoning():
    assert_all_chunkings("magistral", "Just text [/THINK] here", [("a", "Just text [/THINK] here")])
    assert_all_chunkings(
        "magistral", "[THINK]hm[/THINK]ok",
        [("start", "[THINK]"), ("r", "hm"), ("end", "[/THINK]"), ("a", "ok")],
    )


def test_kimi_vl_unicode_markers():
    assert_all_chunkings(
        "kimi-vl", "◁think▷看图◁/think▷这是猫",
        [("start", "◁think▷"), ("r", "看图"), ("end", "◁/think▷"), ("a", "这是猫")],
    )


def test_seed_and_apertus():
    assert_all_chunkings(
        "seed", "<seed:think>a<seed:cot_budget_reflect>used 10</seed:cot_budget_reflect></seed:think>b",
        [("start", "<seed:think>"), ("r", "a<seed:cot_budget_reflect>used 10</seed:cot_budget_reflect>"),
         ("end", "</seed:think>"), ("a", "b")],
    )
    assert_all_chunkings(
        "apertus", "<|inner_prefix|>x<|inner_suffix|>y",
        [("start", "<|inner_prefix|>"), ("r", "x"), ("end", "<|inner_suffix|>"), ("a", "y")],
    )


@pytest.mark.parametrize("family", ["thinking", "thought", "reason", "reasoning"])
def test_prompted_families_ignore_the_think_tag(family):
    s = FAMILIES[family]
    assert parse(family, [f"{s.start}x<think>{s.end}y"]) == [
        ("start", s.start), ("r", "x<think>"), ("end", s.end), ("a", "y"),
    ]
