"""The provider-independent half of cloud tool calls: decoding arguments, collecting calls
from pieces, and walking a history into rounds a provider accepts."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from httpx_sse import ServerSentEvent

from app.backends.cloud.openai_chat import ChatCompletionsReader
from app.backends.cloud.tool_calls import (NOT_RUN, CallBook, Round, arguments_json, chat_items, decode_call,
                                           whole_call)
from app.domain import events as ev
from app.domain.profiles import ModelProfile
from app.domain.tools.history import round_history
from app.domain.tools.types import ToolCall, ToolResult


def test_arguments_decode_to_an_object_or_an_error_never_an_exception():
    assert decode_call("c", "calc", '{"a": 1}') == ToolCall("c", "calc", {"a": 1}, raw='{"a": 1}')
    assert decode_call("c", "clock", "").arguments == {} and decode_call("c", "clock", " ").error is None
    broken = decode_call("c", "calc", '{"a": ')
    assert broken.arguments == {} and "not valid JSON" in broken.error and broken.raw == '{"a": '
    assert "not an object" in decode_call("c", "calc", "[1, 2]").error
    assert "not an object" in whole_call("c", "calc", "text").error
    assert "names no tool" in decode_call("c", "", "{}").error


def test_a_book_completes_calls_in_order_and_never_offers_a_cut_one():
    book = CallBook(lambda: 1.0)
    opened = book.open("a", "id-a", "calc")
    assert opened == [ev.ToolCallOpened(1.0, "id-a", "calc")]
    book.add("a", '{"x": ')
    book.add("a", "1}")
    again = book.open("a", "id-b", "calc")  # a new call under the same key completes the first
    assert [type(e) for e in again] == [ev.ToolCallParsed, ev.ToolCallOpened]
    book.add("a", '{"x": 2')
    cut = book.finish(truncated=True)
    assert [c.id for c in book.parsed] == ["id-a"]  # the cut call is not one the model finished
    assert len(cut) == 1 and "ended before" in cut[0].call.error and cut[0].call.raw == '{"x": 2'


def test_the_history_becomes_rounds_with_one_result_per_call():
    calls = [ToolCall("1", "calc", {"x": 1}), ToolCall("2", "clock")]
    added = round_history(calls[:1], [ToolResult("1", "one")])
    added[0]["tool_calls"] = tuple(calls)  # the second result is missing
    orphan = {"role": "tool", "tool_call_id": "zz", "content": "nobody asked"}
    mapping = {"role": "assistant", "content": "", "tool_calls": ({"id": "3", "name": "calc", "arguments": {"x": 3}},)}
    items = chat_items([{"role": "user", "content": "q"}, *added, orphan, mapping,
                        {"role": "tool", "tool_call_id": "3", "content": "three", "is_error": True}])
    assert [type(i).__name__ for i in items] == ["dict", "Round", "Round"]
    first, second = items[1], items[2]
    assert isinstance(first, Round) and [r["content"] for r in first.results] == ["one", NOT_RUN]
    assert [r["is_error"] for r in first.results] == [False, True]
    assert second.calls == [ToolCall("3", "calc", {"x": 3})] and second.results[0]["is_error"] is True


def test_arguments_go_back_as_the_model_wrote_them_unless_edited():
    call = decode_call("c", "calc", '{ "x" :1 }')
    assert arguments_json(call) == '{ "x" :1 }'
    assert arguments_json(ToolCall("c", "calc", {"x": 2}, raw='{ "x" :1 }')) == '{"x": 2}'
    assert arguments_json(decode_call("c", "calc", "{broken")) == "{}"
    assert arguments_json(ToolCall("c", "calc", {"x": 1}, raw='<tool_call>{"x": 1}</tool_call>')) == '{"x": 1}'


PROFILE = ModelProfile(id="t", label="t", role="cloud", backend="openai", base_url="http://127.0.0.1:9", model="m")
VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                      lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                   max_size=3), max_leaves=8)


def sse(obj) -> ServerSentEvent:
    return ServerSentEvent(data=json.dumps(obj))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.dictionaries(st.text(min_size=1, max_size=6), VALUES, max_size=4), min_size=1, max_size=3),
       st.lists(st.integers(min_value=1, max_value=9), min_size=1, max_size=20), st.booleans())
def test_openai_calls_read_the_same_however_the_arguments_are_cut(arguments, cuts, ollama):
    """Any fragmenting of any arguments, by index or (Ollama) all at index 0 with ids: the same calls."""
    reader = ChatCompletionsReader(PROFILE, lambda: 0.0)
    events: list = []
    for n, args in enumerate(arguments):
        text = json.dumps(args)
        pieces, i, k = [], 0, 0
        while i < len(text):
            pieces.append(text[i:i + cuts[k % len(cuts)]])
            i += cuts[k % len(cuts)]
            k += 1
        index = 0 if ollama else n
        head = {"index": index, "id": f"call_{n}", "type": "function", "function": {"name": "f", "arguments": ""}}
        events += reader.feed(sse({"choices": [{"index": 0, "delta": {"tool_calls": [head]}}]}))
        for piece in pieces:
            fragment = {"index": index, "function": {"arguments": piece}}
            events += reader.feed(sse({"choices": [{"index": 0, "delta": {"tool_calls": [fragment]}}]}))
    events += reader.feed(sse({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}))
    events += reader.close(truncated=False)
    parsed = [e.call for e in events if isinstance(e, ev.ToolCallParsed)]
    assert [(c.id, c.arguments, c.error) for c in parsed] == [(f"call_{n}", a, None) for n, a in enumerate(arguments)]
    opened = [e.call_id for e in events if isinstance(e, ev.ToolCallOpened)]
    assert opened == [f"call_{n}" for n in range(len(arguments))]
    assert [type(e) for e in events if isinstance(e, ev.ProviderState)] == [ev.ProviderState]
