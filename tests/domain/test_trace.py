"""The trace's analysis and export: changes of course, figures, timeline data, round trip."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain import events as ev
from app.domain.messages import AnswerPart, AssistantMessage, ReasoningBlock
from app.domain.trace import (
    COURSE_CHANGE_PHRASES,
    BlockStats,
    boundary_time,
    boundary_token_index,
    block_stats,
    choose_bin,
    course_changes,
    message_from_trace_json,
    message_summary,
    rate_series,
    ratio_text,
    reasoning_document,
    summary_line,
    thinking_spans,
    trace_json,
    trace_markdown,
)
from helpers import turns

T0 = 100.0


def think_then_answer(n_reasoning: int = 30, n_answer: int = 10, reasoning: str = "Let me think.",
                      answer: str = "It is 4.") -> AssistantMessage:
    return turns.think_then_answer(n_reasoning, n_answer, reasoning, answer, t0=T0)


def interleaved() -> AssistantMessage:
    """Block 1: 20 tokens in 2.0 s; answer 5 tokens; block 2: 12 tokens in 0.5 s; answer 5."""
    m = AssistantMessage()
    m.apply(ev.TurnStarted(0.0, "inter", 5, 1000))
    m.apply(ev.BlockStart(1.0, "<think>"))
    m.apply(ev.ReasoningDelta("First plan.\nWait, check the units."))
    m.apply(ev.TokenCounts(20, 0, 0, 3.0))
    m.apply(ev.BlockEnd(3.0, "</think>"))
    m.apply(ev.AnswerDelta("Step one."))
    m.apply(ev.TokenCounts(20, 5, 0, 3.5))
    m.apply(ev.BlockStart(4.0, "<think>"))
    m.apply(ev.ReasoningDelta("Hmm, now step two."))
    m.apply(ev.TokenCounts(32, 5, 0, 4.5))
    m.apply(ev.BlockEnd(4.5, "</think>"))
    m.apply(ev.AnswerDelta(" Step two."))
    m.apply(ev.TokenCounts(32, 10, 0, 5.0))
    m.apply(ev.TurnFinished(5.0, "stop"))
    return m


# -- changes of course ----------------------------------------------------------------------
@pytest.mark.parametrize("text, phrase", [
    ("Wait, that is wrong.", "Wait"),
    ("Wait. No.", "Wait"),
    ("Wait that is wrong", "Wait"),
    ("So x = 3.\nAlternatively: x = 4", "Alternatively"),
    ("  - Hmm... not sure", "Hmm"),
    ("> But the sum is odd", "But"),
    ("1. Actually, no", "Actually"),
    ("It is 5. Let me double-check the sum.", "Let me double-check"),
    ("It is 5! Let me double check.", "Let me double-check"),
    ("It is 5? But wait, no.", "But wait"),
    ("**Wait**, the units.", "Wait"),
    ("x is 2.) Hold on.", "Hold on"),
    ("Done.\n\nActually the first approach works", "Actually"),
])
def test_course_change_positives(text, phrase):
    changes = course_changes(text)
    assert [c.phrase for c in changes] == [phrase]
    c = changes[0]
    assert text[c.offset:].startswith(phrase[0]) and c.snippet.startswith(text[c.offset:c.offset + c.length])
    assert c.line_no == text.count("\n", 0, c.offset) + 1


@pytest.mark.parametrize("text", [
    "Butter is made from cream.",
    "Waiting for the value.",
    "Hmmm, odd.",  # not the listed phrase
    "but that is lowercase",
    "wait, lowercase too",
    "The answer, but wait: mid-sentence.",
    "x = 3 Wait mid-sentence without a stop",
    "Actuallyness is not a word",
    "e.g.Wait glued to the stop",
])
def test_course_change_negatives(text):
    assert course_changes(text) == []


def test_course_changes_offsets_lines_and_order():
    text = "Start.\nWait, no.\nThen 2. But 3 is odd.\n- Alternatively, 5."
    changes = course_changes(text)
    assert [(c.phrase, c.line_no) for c in changes] == [("Wait", 2), ("But", 3), ("Alternatively", 4)]
    assert [text[c.offset:c.offset + c.length] for c in changes] == ["Wait", "But", "Alternatively"]
    assert changes[1].snippet == "But 3 is odd."


def test_phrase_list_is_the_one_place():
    assert {"Wait", "Alternatively", "Hmm", "But", "Let me double-check", "Actually"} <= set(
        COURSE_CHANGE_PHRASES)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(list("WaitButHm.,!? \n-*x") + ["Wait", "But ", ". ", "Hmm"]), max_size=40))
def test_course_changes_always_open_a_line_or_sentence(pieces):
    text = "".join(pieces)
    for c in course_changes(text):
        written = text[c.offset:c.offset + c.length]
        assert written[0] == c.phrase[0]
        end = c.offset + c.length
        assert end == len(text) or not text[end].isalnum()
        before = text[:c.offset].rstrip(" \t*_-+>\"')]")
        assert before == "" or before.endswith(("\n", ".", "!", "?"))


# -- figures -----------------------------------------------------------------------------
def test_block_stats_numbers():
    stats = block_stats(interleaved())
    assert stats == [
        BlockStats(0, 20, 2.0, 10.0),
        BlockStats(1, 12, 0.5, 24.0),
    ]


def test_block_stats_flags_and_zero_seconds():
    m = AssistantMessage()
    m.apply(ev.TurnStarted(0.0, "x", 3, 100))
    m.apply(ev.BlockStart(0.0))
    m.apply(ev.ReasoningDelta("cut"))
    m.apply(ev.TurnFinished(0.0, "cancelled"))
    (b,) = block_stats(m)
    assert b.truncated and b.seconds == 0.0 and b.tokens_per_s is None


def test_message_summary_and_ratio():
    m = think_then_answer(n_reasoning=280, n_answer=20)
    s = message_summary(m)
    assert (s["reasoning_tokens"], s["answer_tokens"], s["generated_tokens"]) == (280, 20, 300)
    assert s["thinking_share"] == pytest.approx(280 / 300)
    assert s["ratio"] == 14.0 and s["ratio_text"] == "reasoning was 14× the answer"
    assert s["ttft_s"] == pytest.approx(0.5)
    assert s["first_answer_s"] == pytest.approx(0.5 + 27.9 + 0.2)
    assert summary_line(s) == ("Reasoning 280 tokens · answer 20 tokens · 93% spent thinking · "
                               "reasoning was 14× the answer")


@pytest.mark.parametrize("r, a, text", [
    (30, 10, "reasoning was 3× the answer"),
    (25, 10, "reasoning was 2.5× the answer"),
    (10, 40, "the answer was 4× the reasoning"),
    (0, 10, "no reasoning"),
    (10, 0, "all tokens went to reasoning"),
])
def test_ratio_text(r, a, text):
    assert ratio_text(r, a) == text


# -- timeline data -----------------------------------------------------------------------
def test_rate_series_bins_include_empty_ones():
    times = [10.1, 10.2, 10.3, 10.9, 11.05]
    series = rate_series(times, 10.0, bin_s=0.25)
    assert series == [(0.125, 8.0), (0.375, 4.0), (0.625, 0.0), (0.875, 4.0), (1.125, 4.0)]
    assert rate_series([], 0.0) == []
    assert len(rate_series(times, 10.0, 0.25, t_end=12.0)) == 8  # bins reach the turn's end


def test_choose_bin_is_round_and_bounded():
    assert choose_bin(4.0) == 0.25
    assert choose_bin(100.0) == 1.0
    assert choose_bin(1000.0, max_bins=160) == 10.0
    assert 5000.0 / choose_bin(5000.0) <= 160


def test_boundary_token_index_is_the_first_answer_token():
    m = think_then_answer(30, 10)
    assert len(m.stats.token_times) == 40
    assert boundary_token_index(m) == 30
    # between the last reasoning token (0.5 + 2.9 s) and the first answer token (3.6 s)
    assert boundary_time(m) == pytest.approx(3.5)
    assert boundary_token_index(interleaved()) == 20  # only blocks before the first answer count


def test_thinking_spans_and_answer_seconds_of_interleaved_thinking():
    m = interleaved()
    assert boundary_time(m) == pytest.approx(3.25)  # last reasoning token 3.0 s, first answer 3.5 s
    assert thinking_spans(m) == [(0.0, pytest.approx(3.25)), (4.0, 4.5)]
    # 3.5 s to 5.0 s, less block 2's 0.5 s of thinking
    assert message_summary(m)["answer_s"] == pytest.approx(1.0)


def test_boundary_without_answer_or_without_reasoning():
    no_answer = AssistantMessage(parts=[ReasoningBlock("x", tokens=7)])
    assert boundary_token_index(no_answer) is None and boundary_time(no_answer) is None
    no_reasoning = AssistantMessage(parts=[AnswerPart("hi")])
    assert boundary_token_index(no_reasoning) == 0


def test_reasoning_document_spans_blocks():
    doc = reasoning_document(interleaved())
    assert [doc.text[a:b] for a, b in doc.spans] == ["First plan.\nWait, check the units.",
                                                     "Hmm, now step two."]
    assert doc.text.startswith("── Thinking block 1 · 20 tokens · 2.0 s ──\n")
    single = reasoning_document(think_then_answer(reasoning="\nOnly one.\n"))
    assert single.text == "Only one." and single.spans == [(0, 9)]


# -- export ------------------------------------------------------------------------------
def test_trace_markdown_has_details_blocks_in_order_then_the_answer():
    md = trace_markdown(interleaved())
    first = md.index("<details><summary>Thinking · 20 tokens · 2.0 s</summary>\n\nFirst plan.")
    step_one = md.index("Step one.")
    second = md.index("<details><summary>Thinking · 12 tokens · 0.5 s</summary>\n\nHmm, now step two.")
    assert first < step_one < second < md.index("Step two.")
    assert md.count("</details>") == 2
    assert md.startswith("**inter** · local · stop")


def test_trace_markdown_labels_truncated_and_hidden_blocks():
    m = AssistantMessage(parts=[ReasoningBlock("half a thought", 0.0, 1.0, 5, truncated=True),
                                ReasoningBlock("", 1.0, 1.0, 0, hidden_tokens=1204),
                                AnswerPart("ok")])
    md = trace_markdown(m)
    assert "<summary>Thinking · 5 tokens · 1.0 s · truncated</summary>" in md
    assert "<summary>Thinking · 1,204 tokens · hidden by the provider</summary>" in md


def test_trace_json_round_trips_through_json_text():
    for m in (think_then_answer(), interleaved()):
        m.blocks[0].expanded = True
        m.blocks[0].signature = "sig"
        d = json.loads(json.dumps(trace_json(m)))
        back = message_from_trace_json(d)
        assert back == m
        assert back.stats.token_times == m.stats.token_times and len(back.stats.token_times) > 0
        assert back.raw == m.raw and back.finish_reason == "stop" and back.model_id == m.model_id
        assert [type(p) for p in back.parts] == [type(p) for p in m.parts]
    assert d["summary"]["reasoning_tokens"] == 32 and d["boundary_token_index"] == 20


def test_trace_json_ignores_unknown_keys_and_rejects_other_files():
    m = think_then_answer()
    d = trace_json(m)
    d["message"]["from_the_future"] = 1
    d["message"]["stats"]["also_new"] = 2
    d["message"]["parts"][0]["new_block_field"] = 3
    assert message_from_trace_json(d) == m
    with pytest.raises(ValueError, match="not a Ponder trace"):
        message_from_trace_json({"messages": []})
    with pytest.raises(ValueError, match="newer Ponder"):
        message_from_trace_json({**d, "version": 99})
