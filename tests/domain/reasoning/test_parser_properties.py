"""Property tests: chunking never changes the result, nothing is lost, nothing raises."""

from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from app.domain.events import AnswerDelta, BlockEnd, BlockStart, MarkupText, ReasoningDelta
from app.domain.reasoning.markers import FAMILIES
from app.domain.reasoning.parser import ReasoningParser

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SPECS = sorted(FAMILIES.values(), key=lambda s: s.family)
FILLER = [
    "a", "text ", "\n", "\n\n", " ", "\t", "a < b", "<thead>", "<think-tank>", "</thinking>", "<", ">",
    "/", "|", "[", "]", "◁", "▷", "é", "数学", "🙂", "\u200b", "<|", "|>", "\r\n",
]


def kind_merge(events):
    out = []
    for e in events:
        if isinstance(e, (ReasoningDelta, AnswerDelta, MarkupText)):
            if out and type(out[-1]) is type(e):
                out[-1] = type(e)(out[-1].text + e.text)
                continue
        out.append(e)
    return out


def rebuild(events):
    return "".join(e.marker if isinstance(e, (BlockStart, BlockEnd)) else e.text for e in events)


def assert_well_formed(events):
    """Blocks alternate start/end; reasoning only inside a block, answer only outside."""
    inside = False
    for e in events:
        if isinstance(e, BlockStart):
            assert not inside
            inside = True
        elif isinstance(e, BlockEnd):
            assert inside
            inside = False
        elif isinstance(e, ReasoningDelta):
            assert inside
        elif isinstance(e, AnswerDelta):
            assert not inside
    assert not inside  # finish() always closes


def _partials(spec):
    return [m[:k] for m in spec.all_markers for k in range(1, len(m))]


# One fragment strategy per family, built once: markers, partial markers, look-alikes, Unicode.
PIECES = {
    s.family: st.one_of(
        st.sampled_from(s.all_markers),
        st.sampled_from(_partials(s)),
        st.sampled_from(FILLER),
        st.text(max_size=4),
    )
    for s in SPECS
}


@st.composite
def marked_text(draw, spec):
    return "".join(draw(st.lists(PIECES[spec.family], max_size=25)))


@st.composite
def cuts(draw, text):
    points = draw(st.lists(st.integers(0, len(text)), max_size=12))
    edges = sorted({0, len(text), *points})
    return [text[a:b] for a, b in zip(edges, edges[1:])]


@st.composite
def case(draw):
    spec = draw(st.sampled_from(SPECS))
    options = {
        "forced_open": draw(st.booleans()),
        "interleaved": draw(st.booleans()),
        "implicit_open": draw(st.booleans()),
    }
    text = draw(marked_text(spec))
    return spec, options, text, draw(cuts(text))


def run(spec, options, chunks, check_pending=False):
    p = ReasoningParser(spec, clock=lambda: 0.0, **options)
    events = []
    window = max(map(len, spec.all_markers)) - 1
    for c in chunks:
        events += p.feed(c)
        if check_pending and not p.undecided:
            held = p.pending.lstrip()  # LEAD/GAP whitespace is held apart from the marker tail
            assert held == "" or any(m.startswith(held) and m != held for m in spec.all_markers)
            assert len(held) <= window
    events += p.finish()
    return events, p


@settings(max_examples=3000, **SETTINGS)
@given(case())
def test_chunking_does_not_change_events_and_nothing_is_lost(c):
    spec, options, text, chunks = c
    whole, p1 = run(spec, options, [text])
    parts, p2 = run(spec, options, chunks, check_pending=True)
    assert kind_merge(parts) == kind_merge(whole)
    assert rebuild(parts) == text
    assert rebuild(whole) == text
    assert p1.truncated == p2.truncated
    assert_well_formed(parts)


@settings(max_examples=2000, **SETTINGS)
@given(
    spec=st.sampled_from(SPECS),
    forced=st.booleans(),
    special=st.booleans(),
    chunks=st.lists(st.tuples(st.text(), st.booleans()), max_size=12),
)
def test_arbitrary_unicode_never_raises(spec, forced, special, chunks):
    if special:
        spec = dataclasses.replace(spec, special_tokens=True)
    p = ReasoningParser(spec, forced_open=forced, implicit_open=True, interleaved=True)
    events = []
    for text, is_special in chunks:
        events += p.feed(text, special=is_special)
    events += p.finish()
    assert rebuild(events) == "".join(t for t, _ in chunks)
    assert_well_formed(events)


def _token_strategy(spec):
    markers = spec.all_markers
    # Multi-token markers arrive as pieces; each piece may or may not be flagged special.
    pieces = _partials(spec) + [m[k:] for m in markers for k in range(1, len(m))]
    return st.one_of(
        st.tuples(st.sampled_from(markers), st.booleans()),
        st.tuples(st.sampled_from(pieces), st.booleans()),
        st.tuples(st.sampled_from(FILLER), st.booleans()),
        st.tuples(st.text(max_size=3), st.just(False)),
    )


TOKENS = {s.family: _token_strategy(s) for s in SPECS}


@st.composite
def special_tokens_case(draw):
    spec = dataclasses.replace(draw(st.sampled_from(SPECS)), special_tokens=True)
    tokens = draw(st.lists(TOKENS[spec.family], max_size=20))
    # Split non-special tokens further: the result must not change.
    resplit = []
    for text, special in tokens:
        if special or len(text) < 2:
            resplit.append((text, special))
        else:
            k = draw(st.integers(1, len(text) - 1))
            resplit += [(text[:k], False), (text[k:], False)]
    return spec, draw(st.booleans()), tokens, resplit


@settings(max_examples=2000, **SETTINGS)
@given(special_tokens_case())
def test_special_mode_plain_text_splits_do_not_matter(c):
    spec, forced, tokens, resplit = c

    def feed(seq):
        p = ReasoningParser(spec, forced_open=forced, clock=lambda: 0.0)
        events = []
        for text, special in seq:
            events += p.feed(text, special=special)
            held = p.pending.lstrip()  # special mode holds only a marker begun by a special token
            assert held == "" or any(m.startswith(held) and m != held for m in spec.all_markers)
        return events + p.finish()

    a, b = feed(tokens), feed(resplit)
    assert kind_merge(a) == kind_merge(b)
    assert rebuild(a) == "".join(t for t, _ in tokens)
    assert_well_formed(a)


@settings(max_examples=500, **SETTINGS)
@given(st.lists(st.text(), max_size=10))
def test_pass_through_keeps_every_chunk(chunks):
    p = ReasoningParser(None)
    events = [e for c in chunks for e in p.feed(c)] + p.finish()
    assert all(isinstance(e, AnswerDelta) for e in events)
    assert "".join(e.text for e in events) == "".join(chunks)


@settings(max_examples=1000, **SETTINGS)
@given(spec=st.sampled_from(SPECS), body=st.text())
def test_forced_open_text_without_markers_is_all_reasoning(spec, body):
    """With forced open, text without markers is all reasoning and truncated."""
    assume(not any(m in body for m in spec.all_markers))
    events, p = run(spec, {"forced_open": True}, [body])
    assert p.truncated
    assert "".join(e.text for e in events if isinstance(e, ReasoningDelta)) == body
    assert not any(isinstance(e, AnswerDelta) for e in events)
