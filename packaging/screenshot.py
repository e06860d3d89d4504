"""Makes the README's screenshots from the real window (run under Xvfb or any display).

    make screenshot     # on a fresh Xvfb with Qt's xcb platform and a fresh PONDER_HOME
    PONDER_HOME=$(mktemp -d) .venv/bin/python packaging/screenshot.py resources/screenshots

It asks the bundled instruct model one question and the `smollm2-think` entry another,
then saves the window with ``QWidget.grab()``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from app import paths
from app.controllers.chat_session import ChatSession
from app.controllers.persistence import Persistence
from app.domain.config import load_user_models
from app.store.conversations import open_store
from app.ui.main_window import MainWindow


def _wait(signal, timeout_s: float = 120) -> None:
    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    signal.disconnect(loop.quit)


def _settle(app: QApplication) -> None:
    """Let layouts that depend on other layouts (wrapped text heights) finish."""
    for _ in range(5):
        app.processEvents()
        loop = QEventLoop()
        QTimer.singleShot(30, loop.quit)
        loop.exec()


def main(out: Path) -> None:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setStyleSheet((paths.resources_dir() / "style.qss").read_text())
    session = ChatSession(load_user_models(), max_tokens=200)
    store, _ = open_store()
    window = MainWindow(session, store=store, persistence=Persistence(session, store))
    window.resize(1100, 760)
    window.show()
    session.preload()
    _wait(session.model_ready)
    session.send("Give me three tips for learning Python, as a short list.")
    _wait(session.turn_finished)
    session.set_model("smollm2-think")
    window.switcher.select("smollm2-think")
    _wait(session.model_ready)
    session.send("Is 17 a prime number?")
    _wait(session.turn_finished)
    _settle(app)
    out.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(out / "window.png"))
    panel = window.chat.widget_for(session.conversation.messages[-1]).panels[0]
    panel.set_expanded(True, by_user=True)
    _settle(app)
    window.grab().save(str(out / "thinking-expanded.png"))
    viewer = window.open_trace(session.conversation.messages[-1])
    viewer.resize(1000, 700)
    _settle(app)
    viewer.grab().save(str(out / "trace-viewer.png"))
    viewer.close()
    window.close()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "resources/screenshots"))
