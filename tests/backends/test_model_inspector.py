"""The switcher's "will it fit" hints, computed on the worker from the GGUF metadata."""



from app.backends.model_inspector import fit_hint
from helpers.models import profile


def test_bundled_model_fits_here():
    hint, verdict = fit_hint(profile())
    assert verdict == "fits" and hint.startswith("bundled · fits (") and "MB)" in hint


def test_a_machine_too_small_says_wont_fit():
    hint, verdict = fit_hint(profile(), available_bytes=200_000_000)
    assert verdict == "won't fit" and "won't fit" in hint


def test_missing_file(tmp_path):
    hint, verdict = fit_hint(profile(path=str(tmp_path / "gone.gguf")))
    assert verdict == "error" and "missing" in hint


def test_hints_reach_the_switcher(qtbot):
    from app.backends.fake import FakeBackend
    from app.controllers.chat_session import ChatSession
    from app.domain.config import load_user_models
    from app.ui.main_window import MainWindow

    session = ChatSession(load_user_models(), factory=lambda p: FakeBackend(p, ["ok"]))
    win = MainWindow(session)
    qtbot.addWidget(win)
    with qtbot.waitSignal(session.model_inspected, timeout=30_000):
        session.inspect_models()
    qtbot.waitUntil(lambda: "fits" in win.switcher.itemText(win.switcher.findData("smollm2-135m", win.switcher.ID_ROLE)),
                    timeout=10_000)
    session.shutdown()
