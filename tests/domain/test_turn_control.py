"""Turn controls: thread-safe presses, seen as events and by listeners."""

import threading

from app.domain.turn_control import TurnControl


def test_presses_set_the_events_and_reach_the_listeners():
    control = TurnControl()
    heard = []
    remove = control.listen(heard.append)
    control.answer_now()
    assert control.answer_now_requested and not control.stopped
    threading.Thread(target=control.stop).start()  # from another thread
    control.stop_event.wait(2)
    assert control.stopped and heard[:1] == ["answer-now"]
    remove()
    control.stop()
    assert heard.count("stop") == 1  # removed listeners hear nothing more
