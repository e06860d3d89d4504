"""Tools in the window: a card's Run and Deny reach the running turn, the tools control sets the
next request's tools, the gauge counts tools, and reopened conversations show their cards."""

import pytest
from PySide6.QtCore import Qt

from app.controllers.live_usage import usage_of
from app.controllers.persistence import Persistence
from app.domain import events as ev
from app.domain.conversation import Conversation
from app.domain.messages import AssistantMessage, ToolCallPart
from app.domain.tools.calculator import CALCULATOR_SPEC
from app.controllers.toolbox import PYTHON_SPEC
from app.store.conversations import open_store
from app.ui.context_gauge import ContextGauge
from app.ui.main_window import MainWindow
from helpers import tool_turns as tt
from helpers.fake_session import fake_session


@pytest.fixture
def window(qtbot):
    made = []

    def make(script=("x ",) * 400, delay_s=0.01, store=None):
        session = fake_session(list(script), delay_s=delay_s)
        persistence = Persistence(session, store) if store is not None else None
        win = MainWindow(session, store=store, persistence=persistence)
        qtbot.addWidget(win)
        win.show()
        made.append(session)
        return win, session
    yield make
    for session in made:
        session.shutdown()


def _cards(win, msg):
    widget = win.chat.widget_for(msg)
    return widget.cards if widget is not None else []


def test_run_and_deny_on_cards_reach_the_turns_control_and_stop_ends_it(qtbot, window):
    win, session = window()
    assert session.send("List /, then sum.")
    msg, control = session.current, session._control
    qtbot.waitUntil(lambda: msg.stats.answer_tokens > 2, timeout=5000)
    session._on_events([ev.ToolCallParsed(1.0, tt.PY1), ev.ToolApprovalRequested(1.1, "p1", tt.REACH)])
    qtbot.waitUntil(lambda: len(_cards(win, msg)) == 1, timeout=5000)
    card = _cards(win, msg)[0]
    assert card.awaiting_approval and card.reach.text().endswith(tt.REACH)
    card.args_edit.setPlainText("print('edited')")
    qtbot.mouseClick(card.allow_conversation_button, Qt.LeftButton)
    assert control.approval("p1") == ({"code": "print('edited')"}, "conversation")
    session._on_events([ev.ToolCallRunning(1.2, "p1", {"code": "print('edited')"}),
                        ev.ToolCallFinished(1.3, "p1", ev_result("p1", "edited\n")),
                        ev.ToolCallParsed(1.4, tt.PY2), ev.ToolApprovalRequested(1.5, "p2", tt.REACH)])
    qtbot.waitUntil(lambda: len(_cards(win, msg)) == 2 and _cards(win, msg)[1].awaiting_approval, timeout=5000)
    qtbot.mouseClick(_cards(win, msg)[1].deny_button, Qt.LeftButton)
    assert control.approval("p2") == (None, None)
    with qtbot.waitSignal(session.turn_finished, timeout=5000):
        qtbot.mouseClick(win.composer.stop_button, Qt.LeftButton)  # Stop ends the turn (and a running tool)
    assert control.stopped and msg.finish_reason == "cancelled"
    session.approve_tool("p9", {}, None)  # nothing is waiting any more: ignored
    assert control.approval("p9") is None


def ev_result(call_id, text):
    from app.domain.tools.types import ToolResult

    return ToolResult(call_id, text, duration_s=0.1)


def test_the_tools_control_chooses_the_tools_of_the_next_request(qtbot, window, monkeypatch):
    win, session = window(script=("Hi.",), delay_s=0.0)
    assert win.tools_picker.text() == "Tools: off" and session.tools == ()  # off by default
    requests = []
    monkeypatch.setattr(session.local_host, "run_turn", lambda profile, request, control, *_tools: requests.append(request))
    win.tools_picker.toggle("calculator", True)
    win.tools_picker.toggle("python", True)
    assert session.tools == (CALCULATOR_SPEC, PYTHON_SPEC) and win.tools_picker.text() == "Tools: calculator, python"
    win.tools_picker.toggle("python", False)
    assert session.send("What is 2**100?")
    assert requests[-1].tools == (CALCULATOR_SPEC,)
    session.local_host.turn_done.emit()  # as the host would, once the turn ended
    session.new_chat()
    assert session.tools == () and win.tools_picker.text() == "Tools: off"  # a new conversation starts without


def test_the_gauge_counts_the_schemas_and_the_results(qtbot):
    msg = AssistantMessage(model_id="m")
    tt.apply(msg, tt.WHOLE)
    gauge = ContextGauge()
    qtbot.addWidget(gauge)
    gauge.resize(800, 30)
    gauge.show()
    usage, _ = usage_of(msg, 1024)
    gauge.set_usage(usage)
    assert usage.tools == 30 + 41 and usage.tool_schemas == 30  # schemas + what the three rounds added
    widths = gauge.bar.segment_widths()
    assert widths["tools"] == pytest.approx(gauge.bar.width() * 71 / 4096)
    assert "tools: their schemas and results: 71 tokens, 2% of 4,096 (schemas 30, results 41)" in gauge.legend()
    assert usage.used == usage.system + usage.history + usage.carried_reasoning + 71 + usage.reasoning + usage.answer


def test_a_reopened_conversation_shows_its_cards_in_order(qtbot, window):
    store, notice = open_store()
    assert notice is None
    conv = Conversation(title="With tools")
    conv.add_user("What is 6*7?")
    tt.apply(conv.add_assistant("m"), tt.WHOLE)
    store.save_conversation(conv)
    win, session = window(store=store)
    win.history.open_conversation(conv.uid)
    reopened = session.conversation.messages[1]
    cards = win.chat.widget_for(reopened).cards
    assert [(c.part.call.name, c.part.state) for c in cards] == [("calculator", "done"), ("python", "denied"),
                                                                  ("python", "done")]
    assert [c.expanded for c in cards] == [False, False, False]
    assert win.chat.widget_for(reopened).panels[0].header.text().startswith("Thought for 0.2 s, then called calculator")
    win.persistence.close()
    store.close()


def test_a_streamed_tool_turn_is_saved_as_it_goes_and_reopens_with_its_cards(qtbot, window):
    store, _ = open_store()
    _win, session = window(script=("a ",) * 60, delay_s=0.01)
    persistence = Persistence(session, store, interval_ms=50)
    assert session.send("Compute.")
    msg = session.current
    qtbot.waitUntil(lambda: msg.stats.answer_tokens > 3, timeout=5000)
    session._on_events([ev.ToolCallParsed(1.0, tt.CALC), ev.ToolCallRunning(1.1, "c1", {"expression": "6*7"}),
                        ev.ToolCallFinished(1.2, "c1", ev_result("c1", "42"))])
    qtbot.waitUntil(lambda: store.load_conversation(session.conversation.uid).messages[1].tool_calls != [],
                    timeout=5000)  # a partial save carried the call
    with qtbot.waitSignal(session.turn_finished, timeout=10_000):
        pass
    assert persistence.flush()
    back = store.load_conversation(session.conversation.uid).messages[1]
    assert back == msg and isinstance(back.parts[1], ToolCallPart) and back.tool_calls[0].result.text == "42"
    persistence.close()
    store.close()
