"""The turn runner: one turn, the same for a local-like and a cloud-like backend."""

import asyncio
import time

import pytest

from app.backends.fake import FakeBackend, FakeCloudBackend
from app.controllers.turn_runner import TurnRunner, drive_turn
from app.domain import events as ev
from app.domain.messages import AssistantMessage
from app.domain.reasoning.markers import FAMILIES
from app.domain.turn_control import TurnControl
from app.domain.turn_request import TurnRequest
from app.errors import BackendError
from helpers.models import profile

THINK = FAMILIES["think"]
REQUEST = TurnRequest(messages=({"role": "user", "content": "plan the trip"},), max_tokens=10_000)
LOOP = [f"w{i} " for i in range(12)]  # a 12-word passage, one word per token
REASONING = ["<think>", "Let ", "me ", "plan. ", *(LOOP * 12), "more ", "thinking ", "</think>"]
ANSWER = ["The ", "plan ", "is ", "ready."]


def play(backend, *, press=None, request=REQUEST):
    """Run one turn through the runner; ``press(event, control)`` may press Stop / Answer now."""
    control = TurnControl()
    events: list = []

    def emit(batch):
        for event in batch:
            events.append(event)
            if press:
                press(event, control)

    asyncio.run(drive_turn(TurnRunner.on(backend), request, control, emit))
    message = AssistantMessage()
    for event in events:
        message.apply(event)
    return events, message


def local(script, **kw):
    return FakeBackend(profile(), script, spec=THINK, **kw)


def cloud(script, follow_up=(), **kw):
    return FakeCloudBackend(profile(), script, follow_up=follow_up, spec=THINK, **kw)


def answer_now_on_loop(event, control):
    if type(event) is ev.LoopDetected:
        control.answer_now()


def shape(events):
    """What a turn looks like, without times, counts and call bookkeeping: event kinds in order,
    adjacent text of one kind merged."""
    out = []
    for e in events:
        kind = type(e).__name__
        if kind in ("TokenCounts", "Usage", "CallStarted", "TurnNote", "MarkupText"):
            continue
        text = getattr(e, "text", None) if kind in ("ReasoningDelta", "AnswerDelta") else None
        if text is not None and out and out[-1][0] == kind:
            out[-1] = (kind, out[-1][1] + text)
        else:
            out.append((kind, text if text is not None else getattr(e, "finish_reason", None)))
    return out


def summary(m: AssistantMessage):
    return {
        "reasoning": m.reasoning, "answer": m.answer, "finish": m.finish_reason, "error": m.error,
        "blocks": [(b.text.strip(), b.budget_cut, b.truncated) for b in m.blocks],
        "loop": (m.loop_alarm.period, m.loop_alarm.repeats) if m.loop_alarm else None,
        "tokens": (m.stats.reasoning_tokens, m.stats.answer_tokens),
    }


def test_the_same_scripted_turn_gives_the_same_events_and_message_locally_and_in_the_cloud():
    """Reasoning that loops, Answer now pressed when the loop is detected, then the answer:
    the local backend ends its own thinking; for the cloud one the runner ends the call and asks
    again. The runner makes both the same turn."""
    l_events, l_msg = play(local([*REASONING, *ANSWER]), press=answer_now_on_loop)
    c_events, c_msg = play(cloud(REASONING, follow_up=ANSWER), press=answer_now_on_loop)
    assert shape(l_events) == shape(c_events)
    assert summary(l_msg) == summary(c_msg)
    assert l_msg.loop_alarm is not None and l_msg.blocks[0].budget_cut
    assert l_msg.answer == "The plan is ready." and l_msg.finish_reason == "budget"
    assert "more" not in l_msg.reasoning  # cut where Answer now was pressed
    assert [type(e) for e in c_events].count(ev.CallStarted) == 1  # the cloud turn took two calls
    assert "Answered from the reasoning so far" in " ".join(c_msg.notes)


def test_an_error_mid_stream_ends_both_the_same_way_and_keeps_the_text():
    l_events, l_msg = play(local([*REASONING, *ANSWER], fail_at=6))
    c_events, c_msg = play(cloud([*REASONING, *ANSWER], fail_at=6))
    assert shape(l_events) == shape(c_events)
    assert summary(l_msg) == summary(c_msg)
    assert l_msg.finish_reason == "error" and "failed at token 6" in l_msg.error
    assert l_msg.reasoning.startswith("Let me plan.")
    assert [type(e) for e in c_events].count(ev.TurnFinished) == 1


def test_stop_ends_both_cancelled_at_once():
    def stop_after_words(event, control):
        if type(event) is ev.ReasoningDelta and event.text == "w3 ":
            control.stop()

    for backend in (local([*REASONING, *ANSWER]), cloud([*REASONING, *ANSWER])):
        events, msg = play(backend, press=stop_after_words)
        assert msg.finish_reason == "cancelled", type(backend).__name__
        assert msg.reasoning.endswith("w3") and not msg.answer
        assert [type(e) for e in events].count(ev.TurnFinished) == 1


def test_counts_stay_cumulative_across_the_calls_of_a_turn():
    events, msg = play(cloud(REASONING, follow_up=ANSWER), press=answer_now_on_loop)
    counts = [e for e in events if type(e) is ev.TokenCounts]
    totals = [c.reasoning + c.answer for c in counts]
    assert totals == sorted(totals)  # never goes back when the second call starts
    assert msg.stats.answer_tokens == len(ANSWER)
    assert msg.stats.reasoning_tokens == counts[-1].reasoning > 100


def test_loops_are_found_by_token_ids_locally_and_by_words_in_the_cloud():
    _, l_msg = play(local(REASONING))
    _, c_msg = play(cloud(REASONING))
    assert l_msg.loop_alarm.unit == "token" and c_msg.loop_alarm.unit == "word"
    _, clean = play(local(["<think>", *(f"step{i} " for i in range(300)), "</think>", "ok"]))
    assert clean.loop_alarm is None


def test_a_turn_stopped_before_it_starts_ends_at_once():
    control = TurnControl()
    control.stop()
    got = []
    asyncio.run(drive_turn(TurnRunner.on(local(REASONING)), REQUEST, control, got.extend))
    assert [type(e) for e in got] == [ev.TurnFinished] and got[0].finish_reason == "cancelled"


@pytest.mark.parametrize("failure", [BackendError("The model file is gone; pick another model."),
                                     ZeroDivisionError("a bug")])
def test_a_failure_to_get_the_backend_is_one_clear_ending(failure):
    def acquire():
        raise failure

    got = []
    asyncio.run(drive_turn(TurnRunner(acquire), REQUEST, TurnControl(), got.extend))
    assert len(got) == 1 and got[0].finish_reason == "error"
    if isinstance(failure, BackendError):
        assert got[0].error == str(failure)
    else:
        assert "failed unexpectedly (ZeroDivisionError)" in got[0].error


def test_a_call_that_ends_without_finishing_is_reported():
    class Silent(FakeBackend):
        def stream(self, request, control):
            yield ev.TurnStarted(time.monotonic(), "x", 1, 100)
            yield ev.AnswerDelta("half")

    events, msg = play(Silent(profile(), []))
    assert msg.finish_reason == "error" and "without finishing" in msg.error and msg.answer == "half"


def test_the_turn_is_timed_by_the_runner():
    class Late(FakeBackend):
        """A backend whose own clock is far off: the turn's times come from the runner."""

        def stream(self, request, control):
            for event in super().stream(request, control):
                yield event if type(event) is not ev.TurnStarted else ev.TurnStarted(-1000.0, "x", 1, 100)

    before = time.monotonic()
    events, _ = play(Late(profile(), ["a", "b"]))
    assert before <= events[0].t <= events[-1].t <= time.monotonic()


def test_a_cloud_call_that_ignores_max_tokens_is_ended_by_the_runner():
    forever = ["word "] * 5000  # a server that streams on and on
    events, msg = play(cloud(forever, ignores_max_tokens=True),
                       request=TurnRequest(messages=REQUEST.messages, max_tokens=100))
    assert msg.finish_reason == "length"
    assert 100 <= msg.stats.answer_tokens <= 100 * 1.1 + 17
    _, local_msg = play(local(forever), request=TurnRequest(messages=REQUEST.messages, max_tokens=100))
    assert local_msg.finish_reason == "length" and local_msg.stats.answer_tokens == 100  # exact, by the backend
