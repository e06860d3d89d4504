"""Field/typed reasoning (cloud): mirrored fields, null fields, timing, interleaving."""

from __future__ import annotations

import json

import pytest

from app.domain.events import AnswerDelta, BlockEnd, BlockStart, ReasoningDelta
from app.domain.reasoning.fields import FieldReasoningAdapter, mirrored


class FakeClock:
    """Returns the time the test set; counts calls."""

    def __init__(self, t: float = 0.0) -> None:
        self.t = t
        self.calls = 0

    def __call__(self) -> float:
        self.calls += 1
        return self.t


def test_mirrored_fields_are_counted_once():
    a = FieldReasoningAdapter(clock=FakeClock(1.0))
    events = a.delta({"reasoning": "Okay", "reasoning_content": "Okay", "content": None})
    assert events == [BlockStart(1.0, ""), ReasoningDelta("Okay")]
    assert a.delta({"reasoning": " so", "reasoning_content": " so"}) == [ReasoningDelta(" so")]


def test_mirrored_helper():
    assert mirrored(reasoning="x", reasoning_content="x") == "x"
    assert mirrored(reasoning=None, reasoning_content="") is None
    assert mirrored(thinking="t") == "t"
    assert mirrored(reasoning="b", reasoning_content="a") == "a"  # differing: preferred key wins
    assert mirrored(other="o") == "o"


@pytest.mark.parametrize(
    "delta",
    [
        {"content": None, "reasoning_content": None},
        {"reasoning_content": ""},
        {"reasoning": "", "content": ""},
        {"thinking": None},
        {"role": "assistant"},
        {},
    ],
)
def test_null_or_empty_fields_open_no_block(delta):
    a = FieldReasoningAdapter(clock=FakeClock())
    assert a.delta(delta) == []
    assert not a.in_reasoning
    assert a.finish() == []


def test_answer_only_stream_has_no_block():
    a = FieldReasoningAdapter(clock=FakeClock())
    events = a.delta({"content": "Hi", "reasoning_content": None}) + a.answer("!") + a.finish()
    assert events == [AnswerDelta("Hi"), AnswerDelta("!")]


def test_thinking_time_ends_at_first_answer_delta():
    clock = FakeClock(10.0)
    a = FieldReasoningAdapter(clock=clock)
    assert a.reasoning("Let") == [BlockStart(10.0, ""), ReasoningDelta("Let")]
    clock.t = 12.0
    assert a.reasoning(" me") == [ReasoningDelta(" me")]
    clock.t = 15.5
    assert a.answer("") == []  # empty content does not end the thinking
    assert a.in_reasoning
    clock.t = 16.0
    assert a.answer("The") == [BlockEnd(16.0, ""), AnswerDelta("The")]
    clock.t = 30.0
    assert a.answer(" end") == [AnswerDelta(" end")]
    assert a.finish() == []
    assert not a.truncated


def test_reasoning_after_answer_opens_a_new_block():
    clock = FakeClock(1.0)
    a = FieldReasoningAdapter(clock=clock)
    a.reasoning("r1")
    a.answer("a1")
    clock.t = 5.0
    assert a.reasoning("r2") == [BlockStart(5.0, ""), ReasoningDelta("r2")]
    assert a.in_reasoning


def test_finish_inside_reasoning_can_be_truncated():
    a = FieldReasoningAdapter(clock=FakeClock(3.0))
    a.reasoning("never done")
    assert a.finish(truncated=True) == [BlockEnd(3.0, "", truncated=True)]
    assert a.truncated and not a.in_reasoning
    b = FieldReasoningAdapter(clock=FakeClock(3.0))
    b.reasoning("done")
    assert b.finish() == [BlockEnd(3.0, "")]


def test_delta_with_last_reasoning_and_first_content_together():
    a = FieldReasoningAdapter(clock=FakeClock(2.0))
    a.reasoning("x")
    assert a.delta({"reasoning_content": "y", "content": "A"}) == [
        ReasoningDelta("y"), BlockEnd(2.0, ""), AnswerDelta("A"),
    ]


def test_ollama_thinking_field():
    a = FieldReasoningAdapter(clock=FakeClock())
    assert a.delta({"thinking": "hmm", "content": ""}) == [BlockStart(0.0, ""), ReasoningDelta("hmm")]


def test_spec_event_lines():
    """The OpenAI-compatible lines from the spec, parsed and fed delta by delta."""
    lines = [
        'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":null,"reasoning_content":"Okay"}}]}',
        'data: {"choices":[{"index":0,"delta":{"content":"The","reasoning_content":null}}]}',
        'data: {"choices":[],"usage":{"prompt_tokens":20,"completion_tokens":350}}',
    ]
    clock = FakeClock(1.0)
    a = FieldReasoningAdapter(clock=clock)
    events = []
    for line in lines:
        payload = json.loads(line.removeprefix("data: "))
        for choice in payload["choices"]:
            clock.t += 1
            events += a.delta(choice["delta"])
    events += a.finish()
    assert events == [BlockStart(2.0, ""), ReasoningDelta("Okay"), BlockEnd(3.0, ""), AnswerDelta("The")]


def test_non_string_fields_are_ignored():
    a = FieldReasoningAdapter(clock=FakeClock())
    assert a.delta({"reasoning": {"summary": []}, "content": ["x"]}) == []


def test_non_string_mirror_does_not_hide_the_text():
    a = FieldReasoningAdapter(clock=FakeClock())
    assert a.delta({"reasoning_content": {"x": 1}, "reasoning": "real"}) == [
        BlockStart(0.0, ""), ReasoningDelta("real"),
    ]
