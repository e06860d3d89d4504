"""A cloud model in the window, against the local replay server: the same thinking panel,
where it ran, the once-per-conversation confirmation before local turns go out."""

from __future__ import annotations

from dataclasses import replace


from app.backends.fake import FakeBackend
from app.controllers.chat_session import ChatSession
from app.domain.config import load_user_models
from app.ui.main_window import MainWindow
from helpers.cloud_replay import run_until

PATH = "/v1/chat/completions"




def _reply(cloud):
    return (cloud.sse({"choices": [{"index": 0, "delta": {"reasoning_content": "Let me think about it."}}]})
            + cloud.sse({"choices": [{"index": 0, "delta": {"content": "Paris."}, "finish_reason": "stop"}]})
            + cloud.sse({"choices": [], "usage": {"prompt_tokens": 30, "completion_tokens": 12,
                                                   "completion_tokens_details": {"reasoning_tokens": 9}}})
            + cloud.sse("[DONE]"))


def test_cloud_turn_in_the_window_with_confirmation(qtbot, qloop, cloud):
    cloud.server.script(PATH, cloud.Reply(pieces=cloud.odd(_reply(cloud))), cloud.Reply(pieces=[_reply(cloud)]))
    config = load_user_models()
    remote = cloud.profile(id="remote", label="Remote thinker")
    config = replace(config, models=config.models + (remote,))
    session = ChatSession(config, factory=lambda p: FakeBackend(p, ["Local", " answer."]))
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    asked = []
    session.set_cloud_confirmation(lambda profile: asked.append(profile.id) or True)

    session.send("Hello locally")
    run_until(qloop, lambda: not session.busy)
    session.set_model("remote")
    assert session.send("Capital of France?")
    run_until(qloop, lambda: not session.busy)
    msg = session.conversation.messages[-1]
    assert asked == ["remote"]
    assert msg.reasoning == "Let me think about it." and msg.answer == "Paris."
    assert msg.where == f"127.0.0.1:{cloud.server.server_port}"
    widget = win.chat.widget_for(msg)
    assert widget.origin.text().endswith(msg.where)
    assert widget.panels and widget.panels[0].plain_text() == "Let me think about it."
    assert "9 tokens" in widget.panels[0].header.text()  # the provider's count
    assert win.gauge.usage.history + win.gauge.usage.system == 30 and not win.gauge.usage.estimated
    # asked once per conversation
    assert session.send("And Germany?")
    run_until(qloop, lambda: not session.busy)
    assert asked == ["remote"]
    session.shutdown()


def test_declining_the_confirmation_sends_nothing(qtbot, qloop, cloud):
    config = load_user_models()
    config = replace(config, models=config.models + (cloud.profile(id="remote"),))
    session = ChatSession(config, factory=lambda p: FakeBackend(p, ["Local."]))
    session.set_cloud_confirmation(lambda profile: False)
    session.send("private notes")
    run_until(qloop, lambda: not session.busy)
    session.set_model("remote")
    assert not session.send("go")
    assert cloud.server.requests == [] and len(session.conversation.messages) == 2
    session.shutdown()


def test_answer_now_on_a_cloud_model_asks_for_an_answer_from_the_reasoning(qtbot, qloop, cloud):
    tick = cloud.sse({"choices": [{"index": 0, "delta": {"reasoning_content": "pondering "}}]})
    answer = (cloud.sse({"choices": [{"index": 0, "delta": {"content": "Forty-two."}, "finish_reason": "stop"}]})
              + cloud.sse("[DONE]"))
    cloud.server.script(PATH, cloud.Reply(stream_forever=True, tick=tick, interval=0.01),
                        cloud.Reply(pieces=[answer]))
    config = load_user_models()
    config = replace(config, models=config.models + (cloud.profile(id="remote"),), default="remote")
    session = ChatSession(config)
    session.send("The meaning of life?")
    run_until(qloop, lambda: session.current is not None and "pondering pondering" in session.current.reasoning)
    msg = session.current
    session.answer_now()
    run_until(qloop, lambda: not session.busy)
    # one turn, two model calls: the first cut at Answer now, the second asked for the answer
    assert session.conversation.messages[-1] is msg and len(cloud.server.requests) == 2
    assert msg.reasoning.startswith("pondering") and msg.blocks[0].budget_cut and not msg.blocks[0].truncated
    assert msg.answer == "Forty-two." and msg.finish_reason == "budget"
    assert "Answered from the reasoning so far" in msg.notes[0]
    follow_up = cloud.server.requests[-1]["json"]["messages"]
    assert follow_up[-1]["role"] == "user" and "based on your reasoning so far" in follow_up[-1]["content"]
    assert "pondering" in follow_up[-1]["content"]
    session.shutdown()
