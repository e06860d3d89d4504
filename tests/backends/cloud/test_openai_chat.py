"""OpenAI-compatible chat completions against a real local server replaying the documented shapes."""

from __future__ import annotations

from app.domain import events as ev
from app.domain.conversation import Conversation
from app.domain.report import turn_report
from app.domain.turn_request import build_request

PATH = "/v1/chat/completions"


def chunk(delta: dict | None = None, finish: str | None = None, **extra) -> dict:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": choices, **extra}


def stream(cloud, *objs, done: bool = True) -> bytes:
    return b"".join(cloud.sse(o) for o in objs) + (cloud.sse("[DONE]") if done else b"")


DEEPSEEK = [
    chunk({"role": "assistant", "content": None, "reasoning_content": "Okay, "}),
    chunk({"content": None, "reasoning_content": "2 + 2 is 4 — café ✓."}),
    chunk({"content": "The answer", "reasoning_content": None}),
    chunk({"content": " is 4."}),
    chunk({"content": ""}, "stop"),
    chunk(None, usage={"prompt_tokens": 20, "completion_tokens": 350,
                       "completion_tokens_details": {"reasoning_tokens": 320}}),
]


def test_reasoning_field_then_answer_with_odd_chunking_and_usage(cloud):
    cloud.server.script(PATH, cloud.Reply(pieces=cloud.odd(stream(cloud, *DEEPSEEK))))
    turn = cloud.run(cloud.profile())
    msg = turn.message
    assert msg.reasoning == "Okay, 2 + 2 is 4 — café ✓."
    assert msg.answer == "The answer is 4."
    assert "\ufffd" not in msg.reasoning + msg.answer  # UTF-8 split across TCP writes
    assert len(msg.blocks) == 1 and not msg.blocks[0].truncated
    assert msg.finish_reason == "stop" and msg.error is None
    assert (msg.stats.prompt_tokens, msg.stats.reasoning_tokens, msg.stats.answer_tokens) == (20, 320, 30)
    assert msg.stats.estimated is False
    assert msg.where == cloud.server.host and msg.stats.n_ctx == 32768
    # thinking ends at the first answer delta
    assert msg.blocks[0].end is not None and msg.blocks[0].end <= msg.stats.t_first_answer
    assert isinstance(turn.events[0], ev.TurnStarted) and isinstance(turn.events[-1], ev.TurnFinished)
    assert len(turn.of(ev.TurnFinished)) == 1
    assert turn.of(ev.TokenCounts)  # live (estimated) counts while streaming
    request = cloud.server.requests[0]
    body = request["json"]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["model"] == "test-model" and body["max_tokens"] == 64 and "reasoning_effort" not in body
    assert request["headers"]["authorization"] == f"Bearer {cloud.KEY}"


def test_estimates_are_flagged_until_usage_arrives(cloud):
    cloud.server.script(PATH, cloud.Reply(pieces=[stream(cloud, *DEEPSEEK)]))
    turn = cloud.run(cloud.profile())
    usages = turn.of(ev.Usage)
    assert usages[0].estimated is True and turn.events[0].prompt_tokens > 0
    assert usages[-1] == ev.Usage(20, 320, 30, estimated=False)


def test_mirrored_reasoning_fields_are_counted_once(cloud):
    objs = [chunk({"reasoning": "Let me", "reasoning_content": "Let me"}),
            chunk({"reasoning": " think.", "reasoning_content": " think."}),
            chunk({"content": "Four."}, "stop")]
    cloud.server.script(PATH, cloud.Reply(pieces=cloud.odd(stream(cloud, *objs))))
    msg = cloud.run(cloud.profile()).message
    assert msg.reasoning == "Let me think." and msg.answer == "Four."


def test_reasoning_field_alone_vllm_style(cloud):
    objs = [chunk({"reasoning": "Plan."}), chunk({"content": "Done."}, "stop")]
    cloud.server.script(PATH, cloud.Reply(pieces=[stream(cloud, *objs)]))
    msg = cloud.run(cloud.profile()).message
    assert msg.reasoning == "Plan." and msg.answer == "Done."


def test_inline_think_markers_in_content_split_anywhere(cloud):
    parts = ["<th", "ink>Hmm, ", "two and two", "</thi", "nk>\n\nIt is ", "4."]
    objs = [chunk({"content": p}) for p in parts] + [chunk({}, "stop")]
    cloud.server.script(PATH, cloud.Reply(pieces=cloud.odd(stream(cloud, *objs))))
    msg = cloud.run(cloud.profile()).message
    assert msg.reasoning == "Hmm, two and two"
    assert msg.answer.strip() == "It is 4."
    assert msg.raw.startswith("<think>")  # markers kept in the raw text


def test_reasoning_only_response_is_truncated_reasoning(cloud):
    objs = [chunk({"reasoning_content": "Still thinking about"}), chunk({"reasoning_content": " it"}, "length"),
            chunk(None, usage={"prompt_tokens": 9, "completion_tokens": 64,
                               "completion_tokens_details": {"reasoning_tokens": 64}})]
    cloud.server.script(PATH, cloud.Reply(pieces=[stream(cloud, *objs)]))
    msg = cloud.run(cloud.profile()).message
    assert msg.answer == "" and msg.reasoning == "Still thinking about it"
    assert msg.finish_reason == "length" and msg.reasoning_truncated
    assert (msg.stats.reasoning_tokens, msg.stats.answer_tokens) == (64, 0)


def test_openai_reasoning_model_hidden_count_and_effort(cloud):
    objs = [chunk({"role": "assistant", "content": ""}), chunk({"content": "Paris."}, "stop"),
            chunk(None, usage={"prompt_tokens": 12, "completion_tokens": 200,
                               "completion_tokens_details": {"reasoning_tokens": 192}})]
    cloud.server.script(PATH, cloud.Reply(pieces=[stream(cloud, *objs)]))
    turn = cloud.run(cloud.profile(reasoning_effort="high", model="o4-mini"))
    assert turn.of(ev.HiddenReasoning) == [ev.HiddenReasoning(192)]
    msg = turn.message
    assert msg.blocks[0].hidden_tokens == 192 and msg.blocks[0].visible and msg.blocks[0].text == ""
    assert msg.answer == "Paris." and (msg.stats.reasoning_tokens, msg.stats.answer_tokens) == (192, 8)
    body = cloud.server.requests[0]["json"]
    assert body["reasoning_effort"] == "high" and body["max_completion_tokens"] == 64 and "max_tokens" not in body


def test_server_without_usage_gives_flagged_estimates(cloud):
    objs = [chunk({"reasoning_content": "abcdefgh"}), chunk({"content": "abcd"}, "stop")]
    cloud.server.script(PATH, cloud.Reply(pieces=[stream(cloud, *objs)]))
    msg = cloud.run(cloud.profile()).message
    assert msg.stats.estimated is True
    assert (msg.stats.reasoning_tokens, msg.stats.answer_tokens) == (2, 1)
    assert turn_report(msg)["estimated"] is True


def test_keyless_local_server_sends_no_authorization(cloud, monkeypatch):
    monkeypatch.delenv(cloud.ENV)
    cloud.server.script(PATH, cloud.Reply(pieces=[stream(cloud, chunk({"content": "hi"}, "stop"))]))
    msg = cloud.run(cloud.profile(api_key_env=None)).message
    assert msg.answer == "hi" and msg.error is None
    assert "authorization" not in cloud.server.requests[0]["headers"]


def test_key_from_the_keyring(cloud, monkeypatch, memory_keyring):
    from app.backends.cloud.keys import set_key

    monkeypatch.delenv(cloud.ENV)
    set_key("test-openai", "sk-from-keyring-1234567890")
    cloud.server.script(PATH, cloud.Reply(pieces=[stream(cloud, chunk({"content": "hi"}, "stop"))]))
    cloud.run(cloud.profile())
    assert cloud.server.requests[0]["headers"]["authorization"] == "Bearer sk-from-keyring-1234567890"


def test_earlier_reasoning_is_not_sent_back(cloud):
    profile = cloud.profile()
    conversation = Conversation()
    conversation.add_user("First question")
    earlier = conversation.add_assistant(profile.id)
    for event in [ev.BlockStart(0.0), ev.ReasoningDelta("SECRET-REASONING"), ev.BlockEnd(1.0),
                  ev.AnswerDelta("First answer"), ev.TurnFinished(2.0, "stop")]:
        earlier.apply(event)
    conversation.add_user("Second question")
    request = build_request(conversation.messages, profile)
    cloud.server.script(PATH, cloud.Reply(pieces=[stream(cloud, chunk({"content": "ok"}, "stop"))]))
    cloud.run(profile, request)
    sent = cloud.server.requests[0]["json"]["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert sent[1]["content"] == "First answer"
    assert "SECRET-REASONING" not in str(cloud.server.requests[0]["json"])
