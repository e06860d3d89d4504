"""Switching models in the window: both bundled entries answer, residents do not reload,
loading shows progress, bad model files give clear errors and leave the chat intact."""

from dataclasses import replace

import pytest

from app.controllers.chat_session import ChatSession
from app.domain.config import load_user_models
from app.ui.main_window import MainWindow

pytestmark = pytest.mark.model


def _window(qtbot, config=None):
    session = ChatSession(config or load_user_models(), max_tokens=24)
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    return win, session


def _choose(win, model_id):
    row = win.switcher.findData(model_id, win.switcher.ID_ROLE)
    win.switcher.setCurrentIndex(row)
    win.switcher.activated.emit(row)


def test_switch_mid_conversation_and_back_without_reload(qtbot):
    win, session = _window(qtbot)
    loads = []
    session.model_loading.connect(loads.append)
    with qtbot.waitSignal(session.turn_finished, timeout=60_000) as first:
        session.send("Hello!")
    assert first.args[0].model_id == "smollm2-135m"

    with qtbot.waitSignal(session.model_ready, timeout=60_000):
        _choose(win, "smollm2-think")
    with qtbot.waitSignal(session.turn_finished, timeout=60_000) as second:
        session.send("What is 2 plus 2?")
    msg = second.args[0]
    assert msg.model_id == "smollm2-think" and msg.stats.reasoning_tokens > 0
    assert len(session.conversation.messages) == 4  # the conversation stayed

    with qtbot.waitSignal(session.model_ready, timeout=5_000) as ready:
        _choose(win, "smollm2-135m")
    assert ready.args[1] == 0.0  # resident: no load
    assert loads == ["smollm2-135m", "smollm2-think"]  # each loaded once, never reloaded
    with qtbot.waitSignal(session.turn_finished, timeout=60_000) as third:
        session.send("Thanks!")
    assert third.args[0].model_id == "smollm2-135m"
    assert [w.origin.text() for w in win.chat.widgets.values() if hasattr(w, "origin")] == [
        "SmolLM2 135M (bundled) · local", "SmolLM2 135M · thinking (demo) · local", "SmolLM2 135M (bundled) · local"]
    session.shutdown()


def test_loading_shows_progress(qtbot):
    win, session = _window(qtbot)
    with qtbot.waitSignal(session.model_loading, timeout=10_000):
        session.preload()
    assert win.model_status.is_loading
    assert win.model_status.text().startswith("Loading SmolLM2 135M (bundled)… ")
    with qtbot.waitSignal(session.model_ready, timeout=60_000):
        pass
    assert "ready" in win.model_status.text()
    session.shutdown()


@pytest.mark.parametrize("content, message", [
    (None, "Model file not found"),
    (b"GGUF\x03\x00\x00\x00" + b"\x00" * 64, "truncated"),
    (b"<html>not a model</html>", "is not a GGUF model file"),
])
def test_bad_model_files_give_clear_errors(qtbot, tmp_path, content, message):
    path = tmp_path / "broken.gguf"
    if content is not None:
        path.write_bytes(content)
    config = load_user_models()
    config = replace(config, models=tuple(replace(m, path=str(path)) if m.id == "smollm2-think" else m
                                          for m in config.models))
    win, session = _window(qtbot, config)
    with qtbot.waitSignal(session.turn_finished, timeout=60_000):
        session.send("first, with the bundled model")
    session.set_model("smollm2-think", preload=False)
    with qtbot.waitSignal(session.turn_finished, timeout=30_000) as failed:
        session.send("now with the broken one")
    msg = failed.args[0]
    assert msg.finish_reason == "error" and message in msg.error
    assert win.errors.isVisibleTo(win) and message in win.errors.text()
    assert "could not load" in win.model_status.text()
    # the app and the conversation stay intact: switch back and go on
    session.set_model("smollm2-135m", preload=False)
    with qtbot.waitSignal(session.turn_finished, timeout=60_000) as ok:
        session.send("still there?")
    assert ok.args[0].finish_reason != "error"
    assert len(session.conversation.messages) == 6
    session.shutdown()
