"""Cloud streams have no token ids: the turn runner watches their reasoning text for loops."""

from dataclasses import replace

from app.controllers.chat_session import ChatSession
from app.domain.config import load_user_models
from app.domain.reasoning.markers import FAMILIES
from helpers.scripted_cloud import ScriptedCloudHost


def _session(deltas):
    config = load_user_models()
    config = replace(config, models=tuple(replace(m, enabled=True) if m.is_cloud else m for m in config.models))
    session = ChatSession(config, cloud_host=ScriptedCloudHost(["<think>", *deltas], spec=FAMILIES["think"]))
    session.set_model("deepseek-reasoner", preload=False)
    return session


def test_a_looping_cloud_trace_raises_the_alarm(qtbot):
    loop = "So the total cost is the hotel plus the food, which we computed before. "
    session = _session(["Let me plan. "] + [loop[i:i + 7] for _ in range(12) for i in range(0, len(loop), 7)])
    with qtbot.waitSignal(session.turn_finished, timeout=5000) as done:
        session.send("plan")
    alarm = done.args[0].loop_alarm
    assert alarm is not None and alarm.unit == "word"
    session.shutdown()


def test_ordinary_cloud_reasoning_stays_quiet(qtbot):
    text = ("First, list the costs. Wait, the museum is free on Sundays. But the train is not. "
            "Let me double-check the hotel: 120 per night for three nights is 360. Actually the family "
            "needs two rooms, so 720. Food is about 60 a day for four people, 180 in total. ")
    session = _session([text[i:i + 9] for i in range(0, len(text), 9)])
    with qtbot.waitSignal(session.turn_finished, timeout=5000) as done:
        session.send("plan")
    assert done.args[0].loop_alarm is None
    session.shutdown()
