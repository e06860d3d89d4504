"""Table-driven vectors for every parser rule of the reasoning-formats spec.

Each vector is checked for the whole input, one character per chunk, and every
two-chunk cut, so the rule holds "for every way of cutting the input".
"""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from app.domain.events import AnswerDelta, BlockEnd, BlockStart, MarkupText, ReasoningDelta
from app.domain.reasoning.markers import FAMILIES
from app.domain.reasoning.parser import (
    PassThroughParser,
    ReasoningParser,
    display_trim,
    is_blank_reasoning,
    make_parser,
)
from helpers.events import norm

THINK = FAMILIES["think"]




def run(spec, chunks, **kw):
    parser = ReasoningParser(spec, clock=lambda: 0.0, **kw)
    events = []
    for c in chunks:
        events += parser.feed(c)
    events += parser.finish()
    return events, parser


def chunkings(text):
    yield [text]
    yield list(text)
    for i in range(1, len(text)):
        yield [text[:i], text[i:]]


def rebuild(events):
    return "".join(e.marker if isinstance(e, (BlockStart, BlockEnd)) else e.text for e in events)


# (id, family, parser options, input, expected events)
VECTORS = [
    (
        "normal block",
        "think", {}, "<think>Let me see.</think>The answer.",
        [("start", "<think>"), ("r", "Let me see."), ("end", "</think>"), ("a", "The answer.")],
    ),
    (
        "empty block (Qwen3 thinking off) still emits events",
        "think", {}, "<think>\n\n</think>\n\nHi",
        [("start", "<think>"), ("r", "\n\n"), ("end", "</think>"), ("a", "\n\nHi")],
    ),
    (
        "block with nothing inside",
        "think", {}, "<think></think>Hi",
        [("start", "<think>"), ("end", "</think>"), ("a", "Hi")],
    ),
    ("flush at end: partial marker is answer text", "think", {}, "Hello <thi", [("a", "Hello <thi")]),
    (
        "flush at end, interleaved (partial start marker held, then flushed)",
        "think", {"interleaved": True}, "Hello <thi", [("a", "Hello <thi")],
    ),
    ("partial marker alone at the start", "think", {}, "<thi", [("a", "<thi")]),
    (
        "stream ends inside an explicit block: truncated",
        "think", {}, "<think>abc</thi",
        [("start", "<think>"), ("r", "abc</thi"), ("cut", "")],
    ),
    (
        "forced open, never closed: all reasoning, truncated, no answer",
        "think", {"forced_open": True}, "Let me think about <b> and more",
        [("start", ""), ("r", "Let me think about <b> and more"), ("cut", "")],
    ),
    (
        "forced open, closed",
        "think", {"forced_open": True}, "Okay.\n</think>\n\nAnswer",
        [("start", ""), ("r", "Okay.\n"), ("end", "</think>"), ("a", "\n\nAnswer")],
    ),
    ("forced open, empty stream", "think", {"forced_open": True}, "", [("start", ""), ("cut", "")]),
    (
        "missing opener on an implicit-open family",
        "think", {"implicit_open": True}, "Okay… so 2+2=4.</think>Answer",
        [("start", ""), ("r", "Okay… so 2+2=4."), ("end", "</think>"), ("a", "Answer")],
    ),
    (
        "implicit open: leading whitespace then the end marker",
        "think", {"implicit_open": True}, "\n</think>Hi",
        [("start", ""), ("r", "\n"), ("end", "</think>"), ("a", "Hi")],
    ),
    (
        "implicit open: no end marker -> answer",
        "think", {"implicit_open": True}, "Just an answer < 3",
        [("a", "Just an answer < 3")],
    ),
    (
        "implicit open: explicit opener still works",
        "think", {"implicit_open": True}, "<think>r</think>a",
        [("start", "<think>"), ("r", "r"), ("end", "</think>"), ("a", "a")],
    ),
    (
        "implicit open: text then a start marker -> answer text",
        "think", {"implicit_open": True}, "Hi <think>x</think>",
        [("a", "Hi <think>x</think>")],
    ),
    (
        "implicit open not requested: text before the end marker is answer",
        "think", {}, "Okay</think>Answer", [("a", "Okay</think>Answer")],
    ),
    (
        "implicit open requested but family does not open implicitly (Magistral)",
        "magistral", {"implicit_open": True}, "Okay[/THINK]Answer",
        [("a", "Okay[/THINK]Answer")],
    ),
    (
        "consecutive blocks at the start are all reasoning",
        "think", {}, "<think>a</think>\n<think>b</think>Ans",
        [
            ("start", "<think>"), ("r", "a"), ("end", "</think>"), ("m", "\n"),
            ("start", "<think>"), ("r", "b"), ("end", "</think>"), ("a", "Ans"),
        ],
    ),
    (
        "start marker inside the answer is answer text",
        "think", {}, "<think>a</think>Ans <think>b</think> more",
        [("start", "<think>"), ("r", "a"), ("end", "</think>"), ("a", "Ans <think>b</think> more")],
    ),
    (
        "start marker inside the answer opens a block when interleaved",
        "think", {"interleaved": True}, "<think>a</think>Ans <think>b</think> more",
        [
            ("start", "<think>"), ("r", "a"), ("end", "</think>"), ("a", "Ans "),
            ("start", "<think>"), ("r", "b"), ("end", "</think>"), ("a", " more"),
        ],
    ),
    (
        "duplicate end marker after a budget cut is dropped from the answer",
        "think", {"forced_open": True}, "cut</think>\n\n</think>\n\nAnswer",
        [("start", ""), ("r", "cut"), ("end", "</think>"), ("m", "\n\n</think>"), ("a", "\n\nAnswer")],
    ),
    (
        "duplicate end marker right after the end marker",
        "think", {}, "<think>x</think></think>A",
        [("start", "<think>"), ("r", "x"), ("end", "</think>"), ("m", "</think>"), ("a", "A")],
    ),
    (
        "stray end marker at the very start is dropped",
        "think", {}, " </think>Hi", [("m", " </think>"), ("a", "Hi")],
    ),
    (
        "end marker later in the answer is answer text",
        "think", {}, "<think>x</think>Hi </think>",
        [("start", "<think>"), ("r", "x"), ("end", "</think>"), ("a", "Hi </think>")],
    ),
    (
        "duplicate opener right after a forced open is markup",
        "think", {"forced_open": True}, "\n<think>\nplan</think>x",
        [("start", ""), ("r", "\n"), ("m", "<think>"), ("r", "\nplan"), ("end", "</think>"), ("a", "x")],
    ),
    (
        "start marker later inside reasoning is reasoning text",
        "think", {}, "<think>use <think> tags</think>ok",
        [("start", "<think>"), ("r", "use <think> tags"), ("end", "</think>"), ("a", "ok")],
    ),
    (
        "look-alikes pass through",
        "think", {}, "<think>a < b, <thead>, <think-tank>, </thinking></think><thead> a < b",
        [
            ("start", "<think>"), ("r", "a < b, <thead>, <think-tank>, </thinking>"),
            ("end", "</think>"), ("a", "<thead> a < b"),
        ],
    ),
    ("look-alike at the very start is answer", "think", {}, "<think-tank> rocks", [("a", "<think-tank> rocks")]),
    (
        "whitespace before the first block is markup",
        "think", {}, "\n\n<think>x</think>y",
        [("m", "\n\n"), ("start", "<think>"), ("r", "x"), ("end", "</think>"), ("a", "y")],
    ),
    ("trailing whitespace after a block is answer", "think", {}, "<think>x</think>\n\n",
     [("start", "<think>"), ("r", "x"), ("end", "</think>"), ("a", "\n\n")]),
    ("whitespace only", "think", {}, " \n ", [("a", " \n ")]),
    ("plain answer", "think", {}, "Just 1 < 2.", [("a", "Just 1 < 2.")]),
    ("empty stream", "think", {}, "", []),
]


@pytest.mark.parametrize(
    ("family", "options", "text", "expected"),
    [v[1:] for v in VECTORS],
    ids=[v[0] for v in VECTORS],
)
def test_rule_vectors_hold_for_every_chunking(family, options, text, expected):
    for chunks in chunkings(text):
        events, parser = run(FAMILIES[family], chunks, **options)
        assert norm(events) == expected, chunks
        assert rebuild(events) == text
        assert parser.truncated == (expected[-1][0] == "cut" if expected else False)


def test_truncated_flag_and_in_reasoning_after_finish():
    _, parser = run(THINK, ["Let me"], forced_open=True)
    assert parser.truncated and not parser.in_reasoning
    _, parser = run(THINK, ["<think>x</think>y"])
    assert not parser.truncated


def test_in_reasoning_tracks_state():
    p = ReasoningParser(THINK)
    assert not p.in_reasoning
    p.feed("<thi")
    assert not p.in_reasoning  # only a partial marker so far
    p.feed("nk>abc</th")
    assert p.in_reasoning
    p.feed("ink>")
    assert not p.in_reasoning
    assert ReasoningParser(THINK, forced_open=True).in_reasoning


def test_forced_open_block_start_comes_with_first_feed_and_its_time():
    ticks = iter([1.0, 2.0, 3.0])
    p = ReasoningParser(THINK, forced_open=True, clock=lambda: next(ticks))
    first = p.feed("Hmm")
    assert first == [BlockStart(1.0, ""), ReasoningDelta("Hmm")]
    assert p.feed("</think>") == [BlockEnd(2.0, "</think>")]
    assert p.feed("A") == [AnswerDelta("A")]


def test_block_times_come_from_the_clock():
    ticks = iter([10.0, 11.0, 12.5])  # first feed, block start, block end
    p = ReasoningParser(THINK, clock=lambda: next(ticks))
    events = p.feed("<think>x") + p.feed("</think>y")
    assert events[0] == BlockStart(11.0, "<think>")
    assert events[2] == BlockEnd(12.5, "</think>")


def test_implicit_block_starts_at_first_token_time():
    ticks = iter([5.0, 9.0])
    p = ReasoningParser(THINK, implicit_open=True, clock=lambda: next(ticks))
    assert p.feed("Okay") == []  # held: not yet known to be reasoning
    assert p.undecided and not p.in_reasoning
    assert p.pending == "Okay"
    events = p.feed("</think>A")
    assert events == [BlockStart(5.0, ""), ReasoningDelta("Okay"), BlockEnd(9.0, "</think>"), AnswerDelta("A")]


class TestHoldBack:
    """Only what could still become a marker waits."""

    def test_partial_start_marker_waits(self):
        p = ReasoningParser(THINK)
        assert p.feed("<th") == []
        assert p.pending == "<th"

    @pytest.mark.parametrize("text", ["a < b", "x <thead>", "<think-tank>", "<", "</thinking>"])
    def test_look_alikes_in_reasoning_are_emitted_at_once(self, text):
        p = ReasoningParser(THINK)
        p.feed("<think>r")
        out = p.feed(text)
        if text == "<":  # could still be "</think>"
            assert out == [] and p.pending == "<"
        else:
            assert out == [ReasoningDelta(text)] and p.pending == ""

    def test_look_alike_at_start_is_answer_at_once(self):
        p = ReasoningParser(THINK)
        assert p.feed("<think-tank> is") == [AnswerDelta("<think-tank> is")]

    def test_partial_end_marker_in_reasoning(self):
        p = ReasoningParser(THINK)
        p.feed("<think>")
        assert p.feed("abc</th") == [ReasoningDelta("abc")]
        assert p.pending == "</th"

    @pytest.mark.parametrize("k", range(1, len("</think>")))
    def test_window_is_longest_marker_minus_one(self, k):
        p = ReasoningParser(THINK)
        p.feed("<think>")
        out = p.feed("x" * 50 + "</think>"[:k])
        assert out == [ReasoningDelta("x" * 50)]
        assert p.pending == "</think>"[:k]
        assert len(p.pending) <= len("</think>") - 1

    def test_gpt_oss_window_uses_its_longest_marker(self):
        spec = FAMILIES["gpt-oss"]
        longest = max(spec.all_markers, key=len)
        p = ReasoningParser(spec)
        p.feed("<|channel|>final<|message|>Hi ")
        p.feed("y" + longest[:-1])
        assert p.pending == longest[:-1]
        assert len(p.pending) == max(map(len, spec.all_markers)) - 1

    def test_answer_of_non_interleaved_model_holds_nothing(self):
        p = ReasoningParser(THINK)
        p.feed("<think>x</think>Hi")
        assert p.feed(" <thi") == [AnswerDelta(" <thi")]
        assert p.pending == ""

    def test_interleaved_answer_holds_partial_start(self):
        p = ReasoningParser(THINK, interleaved=True)
        p.feed("<think>x</think>Hi")
        assert p.feed(" <thi") == [AnswerDelta(" ")]
        assert p.pending == "<thi"
        assert p.finish() == [AnswerDelta("<thi")]


def test_whitespace_before_marker_is_markup_with_fixed_clock():
    p = ReasoningParser(THINK, clock=lambda: 7.0)
    assert p.feed("\n") == []
    assert p.feed("<think>") == [MarkupText("\n"), BlockStart(7.0, "<think>")]


def test_empty_chunks_emit_nothing():
    p = ReasoningParser(THINK)
    assert p.feed("") == []
    p.feed("<think>a")
    assert p.feed("") == []


def test_blank_reasoning_and_display_trim():
    assert is_blank_reasoning("")
    assert is_blank_reasoning("\n\n \t")
    assert not is_blank_reasoning("\n x \n")
    assert display_trim("\n\n  Hi there \n") == "Hi there"
    events, _ = run(THINK, ["<think>\n\n</think>\n\nHi"])
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    answer = "".join(e.text for e in events if isinstance(e, AnswerDelta))
    assert is_blank_reasoning(reasoning)
    assert display_trim(answer) == "Hi"
    assert answer == "\n\nHi"  # the raw text keeps the whitespace


class TestPassThrough:
    def test_spec_none_is_answer_only(self):
        p = ReasoningParser(None, forced_open=True)
        assert p.feed("<think>x") == [AnswerDelta("<think>x")]
        assert p.feed("") == []
        assert p.finish() == []
        assert not p.in_reasoning and not p.truncated

    def test_pass_through_parser(self):
        p = make_parser(None)
        assert isinstance(p, PassThroughParser)
        assert p.feed("</think>") == [AnswerDelta("</think>")]
        assert p.finish() == []
        assert isinstance(make_parser(THINK, forced_open=True), ReasoningParser)


class TestSpecialTokenMode:
    """Markers count only when fed as special tokens."""

    SPEC = dataclasses.replace(THINK, special_tokens=True)

    def feed_tokens(self, spec, tokens, **kw):
        p = ReasoningParser(spec, clock=lambda: 0.0, **kw)
        events = []
        for text, special in tokens:
            events += p.feed(text, special=special)
        return events + p.finish(), p

    def test_literal_end_marker_in_reasoning_stays_reasoning(self):
        tokens = [
            ("<think>", True), ("I write ", False), ("</think>", False), (" as text", False),
            ("</think>", True), ("Answer", False),
        ]
        events, _ = self.feed_tokens(self.SPEC, tokens)
        assert norm(events) == [
            ("start", "<think>"), ("r", "I write </think> as text"), ("end", "</think>"), ("a", "Answer"),
        ]

    def test_non_special_start_marker_is_answer(self):
        events, _ = self.feed_tokens(self.SPEC, [("<think>", False), ("x", False)])
        assert norm(events) == [("a", "<think>x")]

    def test_no_hold_back_for_plain_text(self):
        p = ReasoningParser(self.SPEC)
        p.feed("<think>", special=True)
        assert p.feed("abc</th") == [ReasoningDelta("abc</th")]
        assert p.pending == ""

    def test_forced_open_closed_by_special_token(self):
        events, p = self.feed_tokens(
            self.SPEC, [("Hmm", False), ("</think>", False), ("</think>", True), ("\n\nA", False)], forced_open=True
        )
        assert norm(events) == [("start", ""), ("r", "Hmm</think>"), ("end", "</think>"), ("a", "\n\nA")]
        assert not p.truncated

    def test_duplicate_special_end_marker_is_markup(self):
        events, _ = self.feed_tokens(
            self.SPEC, [("x", False), ("</think>", True), ("\n", False), ("</think>", True), ("A", False)],
            forced_open=True,
        )
        assert norm(events) == [("start", ""), ("r", "x"), ("end", "</think>"), ("m", "\n</think>"), ("a", "A")]

    def test_multi_token_markers_gpt_oss(self):
        spec = dataclasses.replace(FAMILIES["gpt-oss"], special_tokens=True)
        tokens = [
            ("<|channel|>", True), ("analysis", False), ("<|message|>", True), ("think", False),
            ("<|end|>", True), ("<|start|>", True), ("assistant", False), ("<|channel|>", True),
            ("final", False), ("<|message|>", True), ("Hi", False), ("<|return|>", True),
        ]
        events, _ = self.feed_tokens(spec, tokens)
        assert norm(events) == [
            ("start", "<|channel|>analysis<|message|>"), ("r", "think"), ("end", "<|end|>"),
            ("m", "<|start|>assistant<|channel|>final<|message|>"), ("a", "Hi"), ("m", "<|return|>"),
        ]

    def test_failed_candidate_is_released_as_text(self):
        spec = dataclasses.replace(FAMILIES["gpt-oss"], special_tokens=True)
        tokens = [
            ("<|channel|>", True), ("analysis", False), ("<|message|>", True), ("a", False),
            ("<|channel|>", True), ("<|end|>", True), ("B", False),
        ]
        events, _ = self.feed_tokens(spec, tokens)
        assert norm(events) == [
            ("start", "<|channel|>analysis<|message|>"), ("r", "a<|channel|>"), ("end", "<|end|>"), ("a", "B"),
        ]

    def test_candidate_left_at_finish_is_flushed(self):
        spec = dataclasses.replace(FAMILIES["gpt-oss"], special_tokens=True)
        events, _ = self.feed_tokens(spec, [("Hi ", False), ("<|channel|>", True)])
        assert norm(events) == [("a", "Hi <|channel|>")]


def test_all_two_cut_chunkings_of_a_long_vector():
    """Three-chunk cuts of a vector that exercises most transitions at once."""
    text = "\n<think>a<b</think>\n</think> <think>c</think>\nAns <think>d</think>e"
    expected = None
    for i, j in itertools.combinations(range(1, len(text)), 2):
        events, _ = run(THINK, [text[:i], text[i:j], text[j:]], interleaved=True)
        if expected is None:
            expected = norm(run(THINK, [text], interleaved=True)[0])
        assert norm(events) == expected
        assert rebuild(events) == text
    assert expected == [
        ("m", "\n"), ("start", "<think>"), ("r", "a<b"), ("end", "</think>"), ("m", "\n</think> "),
        ("start", "<think>"), ("r", "c"), ("end", "</think>"), ("a", "\nAns "),
        ("start", "<think>"), ("r", "d"), ("end", "</think>"), ("a", "e"),
    ]
