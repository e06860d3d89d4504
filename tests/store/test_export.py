"""Markdown and JSON export, JSON import round trip, and no API key in any export."""

import json

import pytest

from app.domain.reasoning.markers import FAMILIES
from app.store.export import (ImportFormatError, conversation_from_json, conversation_json,
                              conversation_markdown)
from helpers.scripted_cloud import ScriptedCloudHost


def test_json_round_trip_keeps_everything(make_conversation):
    conv = make_conversation()
    data = json.loads(json.dumps(conversation_json(conv)))  # through real JSON text
    back = conversation_from_json(data)
    assert back == conv
    assert data["messages"][1]["stats"]["token_times"] == conv.messages[1].stats.token_times
    assert data["messages"][1]["parts"][0]["signature"] == "sig-abc123"
    assert data["messages"][1]["overflow"]["needed"] == 9000 and data["messages"][1]["notes"]


def test_import_as_a_copy_gets_new_ids(make_conversation):
    conv = make_conversation()
    copy = conversation_from_json(conversation_json(conv), new_ids=True)
    assert copy.uid != conv.uid and copy.messages[0].uid != conv.messages[0].uid
    assert [m.role for m in copy.messages] == [m.role for m in conv.messages]
    assert copy.messages[1].parts == conv.messages[1].parts


def test_imported_conversation_goes_through_the_store(store, make_conversation):
    conv = conversation_from_json(conversation_json(make_conversation()))
    store.save_conversation(conv)
    assert store.load_conversation(conv.uid) == conv


@pytest.mark.parametrize("data, text", [
    ([], "not a Ponder conversation export"),
    ({"format": "ponder.conversation", "version": 99, "messages": []}, "newer Ponder"),
    ({"format": "ponder.conversation", "version": 1}, 'no "messages" list'),
    ({"format": "ponder.conversation", "version": 1, "messages": [{"role": "system"}]}, "message 1 has role"),
    ({"format": "ponder.conversation", "version": 1,
      "messages": [{"role": "assistant", "parts": [{"type": "image"}]}]}, "unknown type 'image'"),
])
def test_import_rejects_other_files_with_a_reason(data, text):
    with pytest.raises(ImportFormatError, match=text):
        conversation_from_json(data)


def test_markdown_has_reasoning_in_details_blocks(make_conversation):
    conv = make_conversation()
    conv.messages[1].blocks[0].text += "\n</details> sneaky"
    md = conversation_markdown(conv)
    assert md.startswith("# Strawberry letters\n")
    assert md.count("<details>") == 3 == md.count("</details>")  # the literal tag in the trace is escaped
    assert "<summary>Thinking · 12 tokens · 1.2 s</summary>" in md
    assert "&lt;/details&gt; sneaky" in md
    assert "50 tokens of reasoning not shown by the provider" in md
    order = [md.index(s) for s in ("## You", "s-t-r-a-w", "There are", "Double-check", "3 r's.", "Thanks!")]
    assert order == sorted(order)
    assert "## Assistant · claude-sonnet-thinking (cloud)" in md and "*stop · 23 tokens · 3.0 s" in md


def test_exports_and_database_never_contain_the_api_key(qtbot, monkeypatch, store):
    from app.controllers.chat_session import ChatSession
    from app.controllers.persistence import Persistence
    from app.domain.config import load_user_models

    secret = "sk-test-DO-NOT-LEAK-4242"
    monkeypatch.setenv("DEEPSEEK_API_KEY", secret)
    session = ChatSession(load_user_models(), cloud_host=ScriptedCloudHost(["<think>", "Pondering", "</think>",
                                                                              "Hello", " there"],
                                                                             spec=FAMILIES["think"]))
    persistence = Persistence(session, store)
    try:
        session.set_model("deepseek-reasoner", preload=False)
        assert session.profile.is_cloud and session.profile.api_key_env == "DEEPSEEK_API_KEY"
        with qtbot.waitSignal(session.turn_finished, timeout=10_000):
            assert session.send("Say hello")
        persistence.close()
        conv = session.conversation
        assert conv.messages[1].model_id == "deepseek-reasoner" and conv.messages[1].answer == "Hello there"
        exported = conversation_markdown(conv) + json.dumps(conversation_json(conv))
        exported += json.dumps(conversation_json(store.load_conversation(conv.uid)))
        assert "Hello there" in exported and "Pondering" in exported and secret not in exported
        files = [p for p in store.path.parent.iterdir() if p.name.startswith("ponder.sqlite3")]
        assert files and all(secret.encode() not in p.read_bytes() for p in files)
    finally:
        persistence.close()
        session.shutdown()
