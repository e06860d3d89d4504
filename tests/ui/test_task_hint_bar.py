"""The quiet task hint: suggests, never switches by itself; one click switches."""

from app.backends.fake import FakeBackend
from app.controllers.chat_session import ChatSession
from app.domain.config import load_user_models
from app.ui.main_window import MainWindow


def test_hint_suggests_the_reasoning_model_and_switches_on_click(qtbot):
    session = ChatSession(load_user_models(), factory=lambda p: FakeBackend(p, ["ok"]))
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    win.composer.edit.setPlainText("Prove that the sum of the first n odd numbers is n^2, step by step.")
    qtbot.waitUntil(lambda: not win.task_hint.isHidden(), timeout=3000)
    assert session.profile.id == "smollm2-135m"  # never switches by itself
    assert win.task_hint.target.role == "reasoning"
    win.task_hint.button.click()
    assert session.profile.id == "smollm2-think" and win.switcher.current_id() == "smollm2-think"
    win.composer.edit.setPlainText("thanks!")
    qtbot.waitUntil(lambda: not win.task_hint.isHidden() and win.task_hint.target.role == "instruct", timeout=3000)
    assert "instruct" in win.task_hint.label.text().lower() or win.task_hint.button.text().startswith("Use SmolLM2 135M (bundled)")
    win.composer.edit.setPlainText("")
    qtbot.waitUntil(lambda: win.task_hint.isHidden(), timeout=3000)
    session.shutdown()
