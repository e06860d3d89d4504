"""Exports with tool calls: JSON round-trips them, Markdown shows their arguments and results as text."""

import json

import pytest

from app.domain import events as ev
from app.domain.conversation import Conversation
from app.domain.tools.types import ToolCall, ToolResult
from app.store.export import ImportFormatError, conversation_from_json, conversation_json, conversation_markdown
from helpers import tool_turns as tt


def _conversation() -> Conversation:
    conv = Conversation(title="Tools")
    conv.add_user("What is 6*7?")
    msg = conv.add_assistant("m")
    tt.apply(msg, tt.WHOLE)
    msg.apply(ev.ProviderState("openai-responses", [{"type": "reasoning", "encrypted_content": "gAAA"}]))
    return conv


def test_json_round_trips_the_calls_with_everything(make_conversation):
    conv = _conversation()
    data = json.loads(json.dumps(conversation_json(conv)))  # through real JSON text
    assert data["version"] == 2
    back = conversation_from_json(data)
    assert back == conv
    parts = data["messages"][1]["parts"]
    calls = [p for p in parts if p["type"] == "tool_call"]
    assert [c["call"]["name"] for c in calls] == ["calculator", "python", "python"]
    assert calls[0]["call"]["arguments"] == {"expression": "6*7"} and calls[0]["result"]["text"] == "42"
    assert calls[1]["state"] == "denied" and calls[1]["reach"] == tt.REACH
    assert data["messages"][1]["provider_state"]["openai-responses"][0]["encrypted_content"] == "gAAA"
    assert back.messages[1].blocks[0].mentions == conv.messages[1].blocks[0].mentions  # tuples again


def test_a_conversation_without_calls_stays_version_1(make_conversation):
    assert conversation_json(make_conversation())["version"] == 1


def test_an_import_through_the_store_keeps_the_cards(store):
    conv = conversation_from_json(conversation_json(_conversation()), new_ids=True)
    store.save_conversation(conv)
    assert store.load_conversation(conv.uid) == conv


@pytest.mark.parametrize("part, text", [
    ({"type": "tool_call", "call": "calculator"}, "tool call that cannot be read"),
    ({"type": "tool_call", "call": {"id": "c", "name": "x", "arguments": [1]}}, "arguments are not an object"),
    ({"type": "tool_call", "call": {"id": "c", "name": "x"}, "state": "exploded"}, "unknown state"),
    ({"type": "tool_call", "call": {"id": "c", "name": "x"}, "result": {"text": 5}}, "tool result"),
])
def test_a_broken_tool_call_in_an_import_is_refused_with_a_reason(part, text):
    data = {"format": "ponder.conversation", "version": 2, "messages": [{"role": "assistant", "parts": [part]}]}
    with pytest.raises(ImportFormatError, match=text):
        conversation_from_json(data)


def test_markdown_shows_arguments_code_and_results_in_fences_in_order():
    conv = _conversation()
    md = conversation_markdown(conv)
    assert "<summary>Tool call · calculator · done · 0.10 s · 9 result tokens</summary>" in md
    assert '```json\n{\n  "expression": "6*7"\n}\n```' in md
    assert "```python\nprint(sum(range(11)))\n```" in md  # the code as it ran (the user edited it)
    assert "Declined by the user; the model was told:" in md
    order = [md.index(s) for s in ("I need 6*7", '"expression"', "So it is 42", "import os", "Declined. A sum",
                                   "print(sum(range(11)))", "6*7 is 42, and the sum is 55.")]
    assert order == sorted(order)


def test_markdown_cannot_be_broken_out_of_by_a_result():
    conv = Conversation(title="Hostile")
    conv.add_user("Go")
    msg = conv.add_assistant("m")
    hostile = "```\n</details>\n# Heading <img src=x>\n````"
    call = ToolCall("c", "fetch", {"url": "x"})
    for e in (ev.TurnStarted(0.0, "m", 1, 100), ev.ToolCallParsed(0.1, call),
              ev.ToolCallRunning(0.2, "c", {"url": "x"}), ev.ToolCallFinished(0.3, "c", ToolResult("c", hostile)),
              ev.TurnFinished(0.4, "stop")):
        msg.apply(e)
    md = conversation_markdown(conv)
    fence = "`````"  # one longer than the longest run of backticks in the result
    assert f"{fence}\n{hostile}\n{fence}\n\n</details>" in md  # the result's own tag stays inside the fence
    assert md.count("<details>") == 1
