"""Properties of every family's parser: nothing lost, chunking never matters, calls are whole.

Streams are drawn from each family's own syntax (complete calls, its markers alone, JSON
fragments) mixed with look-alike filler, in both marker modes (plain text, and markers as
special tokens); in special mode a literal marker in plain text is a look-alike too.
"""

from __future__ import annotations

import pytest
from helpers.tool_streams import assert_bracketed, family_tokens, rebuild, run
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.domain.tools.families import TOOL_FAMILIES
from app.domain.tools.pieces import CallMentioned, CallOpened, CallParsed, Text

SETTINGS = dict(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
FAMILIES = sorted(TOOL_FAMILIES)

D = "｜DSML｜"
CALLS = {
    "hermes": ['<tool_call>\n{"name": "calculator", "arguments": {"expression": "2+2"}}\n</tool_call>',
               '<tool_call>{"name": "f", "arguments": "{\\"a\\": [1, {\\"b\\": \\"}\\"}]}"}</tool_call>',
               "<tool_call>not json</tool_call>"],
    "qwen3-coder": ["<tool_call>\n<function=run>\n<parameter=code>\nprint('<x>')\n</parameter>\n</function>\n</tool_call>",
                    '<tool_call>{"name": "f", "arguments": {}}</tool_call>'],
    "deepseek-r1": ['<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>f\n```json\n{"a": 1}\n```'
                    '<｜tool▁call▁end｜><｜tool▁calls▁end｜>',
                    '<｜tool▁call▁begin｜>g<｜tool▁sep｜>{"b": "}"}<｜tool▁call▁end｜>'],
    "deepseek-v3.1": ['<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>f<｜tool▁sep｜>{"a": 1}<｜tool▁call▁end｜>'
                      '<｜tool▁call▁begin｜>g<｜tool▁sep｜>{}<｜tool▁call▁end｜><｜tool▁calls▁end｜>'],
    "deepseek-v3.2": [f'<{D}function_calls>\n<{D}invoke name="f">\n<{D}parameter name="a" string="false">1'
                      f'</{D}parameter>\n</{D}invoke>\n</{D}function_calls>'],
    "gpt-oss": ['<|channel|>analysis<|message|>think<|end|>',
                '<|start|>assistant<|channel|>commentary to=functions.f <|constrain|>json<|message|>{"a":1}<|call|>',
                ' to=functions.g<|channel|>commentary json<|message|>{}<|call|>',
                '<|start|>assistant<|channel|>final<|message|>answer<|return|>'],
    "llama3": ['{"name": "f", "parameters": {"a": "}"}}', '<|python_tag|>brave_search.call(query="x")<|eom_id|>',
               '{"type": "function", "name": "g", "parameters": {}}'],
    "mistral": ['[TOOL_CALLS] [{"name": "f", "arguments": {"a": 1}}, {"name": "g", "arguments": {}}]',
                '[TOOL_CALLS]f[ARGS]{"a": "]"}', '[TOOL_CALLS]g[CALL_ID]abcdefghi[ARGS]{}'],
}
# arguments nested deeper than the JSON decoder can recurse: a call error, never a crash
DEEP = "[" * 100_000 + "]" * 100_000
DEEP_CALLS = {
    "hermes": '<tool_call>{"name": "f", "arguments": {"a": %s}}</tool_call>',
    "qwen3-coder": '<tool_call>{"name": "f", "arguments": "%s"}</tool_call>',
    "deepseek-r1": '<｜tool▁call▁begin｜>function<｜tool▁sep｜>f\n```json\n{"a": %s}\n```<｜tool▁call▁end｜>',
    "deepseek-v3.1": '<｜tool▁call▁begin｜>f<｜tool▁sep｜>{"a": %s}<｜tool▁call▁end｜>',
    "deepseek-v3.2": f'<{D}function_calls><{D}invoke name="f"><{D}parameter name="a" string="false">%s'
                     f'</{D}parameter></{D}invoke></{D}function_calls>',
    "gpt-oss": '<|channel|>commentary to=functions.f json<|message|>{"a": %s}<|call|>',
    "llama3": '{"name": "f", "parameters": {"a": %s}}',
    "mistral": '[TOOL_CALLS] [{"name": "f", "arguments": {"a": %s}}]',
}
FRAGMENTS = ['{', '}', '[', ']', '"', '\\', ',', ':', ' ', '\n', '"name"', '"arguments": ', '"f"', '{"name": "f"',
             '```json\n', '```', '<function=f>', '</function>', '<parameter=a>', '</parameter>', 'function',
             ' to=functions.f', ' to=', 'json', 'commentary', 'analysis', f'<{D}invoke name="f">', f'</{D}invoke>',
             'brave_search.call(', ')', ';']
FILLER = ["a", "text ", "\n\n", "<", ">", "/", "|", "<|", "|>", "a < b", "<tool", "_call>", "<tool_callx>", "[TOOL",
          "<｜tool", "▁", "｜>", "é", "数学", "🙂", "\u200b", "\r\n"]


def atoms(family: str):
    fam = TOOL_FAMILIES[family]
    return st.lists(
        st.one_of(
            st.sampled_from(CALLS[family]).map(lambda t: ("call", t)),
            st.sampled_from(fam.markers).map(lambda t: ("marker", t)),
            st.sampled_from(FRAGMENTS + list(fam.markers)).map(lambda t: ("text", t)),
            st.sampled_from(FILLER).map(lambda t: ("text", t)),
            st.text(max_size=4).map(lambda t: ("text", t)),
        ),
        max_size=24,
    )


def stream(family: str, drawn, special: bool) -> list[tuple[str, bool]]:
    """One chunk per atom; in special mode markers (and those inside calls) are tokens."""
    out: list[tuple[str, bool]] = []
    for kind, text in drawn:
        if not text:
            continue
        if special and kind == "call":
            out += family_tokens(family, text, size=len(text))
        elif special and kind == "marker":
            out.append((text, True))
        else:
            out.append((text, False))
    return out


def rechunk(chunks: list[tuple[str, bool]], cuts: list[int]) -> list[tuple[str, bool]]:
    """The same stream cut elsewhere: plain runs joined and split at ``cuts`` (special tokens stay)."""
    out: list[tuple[str, bool]] = []
    run_, pos, cuts = "", 0, sorted(set(cuts))

    def flush(text: str, start: int) -> None:
        prev = 0
        for c in cuts:
            if start < c < start + len(text):
                out.append((text[prev:c - start], False))
                prev = c - start
        if prev < len(text):
            out.append((text[prev:], False))

    start = 0
    for text, special in chunks:
        if special:
            flush(run_, start)
            out.append((text, True))
            pos += len(text)
            run_, start = "", pos
        else:
            run_ += text
            pos += len(text)
    flush(run_, start)
    return out


def whole(chunks) -> str:
    return "".join(t for t, _ in chunks)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("special", [False, True], ids=["plain", "special"])
def test_nothing_lost_chunking_independent_and_calls_bracketed(family, special):
    @settings(**SETTINGS)
    @given(drawn=atoms(family), cuts=st.lists(st.integers(min_value=1, max_value=400), max_size=40),
           in_reasoning=st.booleans())
    # counter-examples found with many more examples (each also a vector in test_parse_*.py);
    # run for every family and mode, as any stream must keep the properties
    @example(drawn=[("text", "{"), ("call", '{"name": "f", "parameters": {"a": "}"}}'),
                    ("call", '<|python_tag|>brave_search.call(query="x")<|eom_id|>')], cuts=[], in_reasoning=False)
    def check(drawn, cuts, in_reasoning):
        chunks = stream(family, drawn, special)
        text = whole(chunks)
        a = run(family, chunks, special_markers=special, in_reasoning=in_reasoning)
        b = run(family, rechunk(chunks, cuts), special_markers=special, in_reasoning=in_reasoning)
        assert rebuild(a) == text
        assert a == b
        assert_bracketed(a)
        for p in a:
            if isinstance(p, CallParsed):
                assert p.call.raw and p.call.raw in text
        if in_reasoning and not TOOL_FAMILIES[family].calls_in_reasoning:
            assert not any(isinstance(p, (CallParsed, CallOpened)) for p in a)
        if not in_reasoning:
            assert not any(isinstance(p, CallMentioned) for p in a)

    check()


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("special", [False, True], ids=["plain", "special"])
def test_a_cut_stream_never_runs_a_call_the_whole_stream_does_not(family, special):
    """Stopping anywhere (max tokens, Stop) yields only calls that were complete there."""

    @settings(**SETTINGS)
    @given(drawn=atoms(family), data=st.data())
    def check(drawn, data):
        chunks = stream(family, drawn, special)
        if special:  # cut between tokens
            k = data.draw(st.integers(min_value=0, max_value=len(chunks)))
            prefix = chunks[:k]
        else:
            text = whole(chunks)
            k = data.draw(st.integers(min_value=0, max_value=len(text)))
            prefix = [(text[:k], False)]
        full = [p.call for p in run(family, chunks, special_markers=special) if isinstance(p, CallParsed)]
        cut = [p.call for p in run(family, prefix, special_markers=special) if isinstance(p, CallParsed)]
        assert cut == full[:len(cut)]

    check()


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("special", [False, True], ids=["plain", "special"])
def test_no_input_raises(family, special):
    @settings(**SETTINGS)
    @given(chunks=st.lists(st.tuples(st.text(max_size=12), st.booleans()), max_size=20),
           flags=st.lists(st.booleans(), min_size=20, max_size=20))
    @example(chunks=[(DEEP_CALLS[f] % DEEP, False) for f in ["llama3", *FAMILIES]], flags=[False] * 20)
    @example(chunks=[('<tool_call>{"name": "f"}', True), ("<|python_tag|>x", True), ("[TOOL_CALLS]f", True),
                     ("<|channel|>commentary to=functions.f<|message|>", True), ("<｜tool▁call▁begin｜>f", True),
                     ("<｜DSML｜function_calls>f", True)],
             flags=[False] * 20)
    def check(chunks, flags):
        pieces = run(family, chunks, special_markers=special, in_reasoning=flags[: len(chunks)])
        assert rebuild(pieces) == whole(chunks)
        assert_bracketed(pieces)
        # text passed on keeps the special flag each character was fed with
        fed = iter((c, f) for t, f in chunks for c in t)
        passed = [(c, p.special) for p in pieces if isinstance(p, Text) for c in p.text]
        assert all(any(x == y for y in fed) for x in passed)

    check()


@pytest.mark.parametrize("family", FAMILIES)
def test_text_without_any_call_syntax_comes_out_at_once(family):
    """Ordinary prose is never held back (the UI shows it as it streams)."""
    from app.domain.tools.call_parser import make_tool_parser

    parser = make_tool_parser(family)
    for word in "The answer is 42, as computed. ".split(" "):
        pieces = parser.feed(word + " ")
        assert pieces == [Text(word + " ")]


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("special", [False, True], ids=["plain", "special"])
def test_json_nested_too_deeply_is_a_call_error_not_a_crash(family, special):
    text = DEEP_CALLS[family] % DEEP
    chunks = [(t.replace("@", DEEP), f) for t, f in family_tokens(family, DEEP_CALLS[family] % "@", size=4096)]
    pieces = run(family, chunks if special else [text], special_markers=special)
    assert rebuild(pieces) == text
    assert_bracketed(pieces)
    (call,) = [p.call for p in pieces if isinstance(p, CallParsed)]
    if family == "deepseek-v3.2":  # a string="false" value that is no JSON stays text
        assert call.arguments == {"a": DEEP}
    else:
        assert "nested too deeply" in call.error
