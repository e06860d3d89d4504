"""``ponder --self-test``: prove that this installation (or packaged app) starts and answers.

Starts the real window offscreen (``QT_QPA_PLATFORM=offscreen`` unless already set), loads
the default local model (the bundled one unless models.toml says otherwise), answers one
prompt through the full pipeline (chat session, model worker thread, reasoning parser,
message view, and the conversation store: the turn is saved to a temporary database and read
back) and prints one line::

    Ponder 0.1.0 (packaged) self-test OK: model smollm2-135m, 7 tokens, 29.6 tokens/s, 0.82 s (load 0.74 s, total 1.99 s)

(model, tokens generated, decode rate, seconds of the turn; then the model load and the
whole self-test; "(packaged)" only in the PyInstaller build) and returns 0. On failure it
prints ``Ponder <version> self-test FAILED: <reason>`` on stderr and returns non-zero:
1 unexpected error (with its traceback), 2 setup (models.toml, settings.toml, resources, no
local model), 3 model load, 4 turn failed or empty answer, 5 timeout, 6 the conversation
store (it cannot be opened, or the answered turn was not saved). ``PONDER_HOME`` is honoured
like everywhere else (the store's database is a temporary one, removed afterwards).
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

PROMPT = "What is the capital of France? Answer in one short sentence."
MAX_TOKENS = 128  # room for a reasoning model's thinking before its answer
LOAD_TIMEOUT_S = float(os.environ.get("PONDER_SELF_TEST_LOAD_TIMEOUT", 120))
TURN_TIMEOUT_S = float(os.environ.get("PONDER_SELF_TEST_TURN_TIMEOUT", 120))
log = logging.getLogger("ponder.self_test")
EXIT_ERROR, EXIT_SETUP, EXIT_LOAD, EXIT_TURN, EXIT_TIMEOUT, EXIT_STORE = 1, 2, 3, 4, 5, 6


class SelfTestFailure(Exception):
    def __init__(self, code: int, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason


def run_self_test() -> int:
    """Run the self-test; 0 on success, non-zero (with the reason on stderr) on failure."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    t0 = time.perf_counter()
    from app.version import __version__

    name = f"Ponder {__version__}" + (" (packaged)" if getattr(sys, "frozen", False) else "")
    pipe = None
    try:
        _check_libraries()
        pipe = _start(_scratch_folder())
        line = _answer_one(pipe, t0)
        _check_saved(pipe)
    except SelfTestFailure as failure:
        log.warning("self-test FAILED (%d): %s", failure.code, failure.reason)
        print(f"{name} self-test FAILED: {failure.reason}", file=sys.stderr, flush=True)
        _close(pipe, stuck=failure.code == EXIT_TIMEOUT, code=failure.code)
        return failure.code
    except Exception as exc:  # a broken package (missing module or library) lands here: report it
        log.exception("self-test FAILED")
        traceback.print_exc()
        print(f"{name} self-test FAILED: unexpected {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        _close(pipe, stuck=True, code=EXIT_ERROR)
        return EXIT_ERROR
    log.info("self-test OK: %s", line)
    print(f"{name} self-test OK: {line}", flush=True)
    _close(pipe)
    return 0


def _check_libraries() -> None:
    from app.display_check import check_display_libraries
    from app.errors import MissingLibraryError

    try:
        check_display_libraries(sys.argv[1:])
    except MissingLibraryError as exc:
        raise SelfTestFailure(EXIT_SETUP, str(exc)) from exc


def _scratch_folder() -> Path:
    """A temporary folder for the self-test's database (removed when the process ends)."""
    try:
        scratch = tempfile.TemporaryDirectory(prefix="ponder-self-test-", ignore_cleanup_errors=True)
    except OSError as exc:
        raise SelfTestFailure(EXIT_STORE, f"no temporary folder for the test database ({exc.strerror or exc}); "
                              "check TMPDIR") from exc
    _keep.append(scratch)
    return Path(scratch.name)


_keep: list = []  # the TemporaryDirectory objects: their folders live until the process ends


def _start(scratch: Path):
    """QApplication with Ponder's identity and style, then the window on the default local
    model, with the user's settings and a store in ``scratch``."""
    from app import paths
    from app.bench.harness import Pipeline, qt_app
    from app.domain.config import load_user_models
    from app.domain.settings import load_settings
    from app.errors import PonderError
    from app.store.conversations import open_store
    from app.ui.app_identity import apply_identity

    app = qt_app()
    if apply_identity(app).isNull():
        raise SelfTestFailure(EXIT_SETUP, f"the app icon is missing from {paths.resources_dir() / 'icons'}")
    style = paths.resources_dir() / "style.qss"
    if not style.is_file():
        raise SelfTestFailure(EXIT_SETUP, f"the style sheet {style} is missing")
    app.setStyleSheet(style.read_text(encoding="utf-8"))
    try:
        config = load_user_models()
        settings = load_settings()
    except PonderError as exc:
        raise SelfTestFailure(EXIT_SETUP, str(exc)) from exc
    local = [m for m in config.models if m.is_local]
    chosen = config.get(config.default) if config.get(config.default).is_local else (local[0] if local else None)
    if chosen is None:
        raise SelfTestFailure(EXIT_SETUP, f"no local model in {paths.models_toml()} to test with")
    try:
        store, notice = open_store(scratch / "self-test.sqlite3")
    except Exception as exc:  # open_store never raises for a bad file: this is a broken store module or SQLite
        raise SelfTestFailure(EXIT_STORE, f"the conversation store does not open ({type(exc).__name__}: {exc})") from exc
    if notice:
        raise SelfTestFailure(EXIT_STORE, f"the conversation store does not work: {notice}")
    budget = int(settings.memory_budget_gb * 1e9) if settings.memory_budget_gb else None
    try:
        return Pipeline(chosen.id, temperature=0.0, memory_budget=budget, store=store)
    except PonderError as exc:
        raise SelfTestFailure(EXIT_SETUP, str(exc)) from exc


def _answer_one(pipe, t0: float) -> str:
    session = pipe.session
    failed: list[str] = []
    ready: list[float] = []
    session.model_failed.connect(lambda _mid, message: failed.append(message))
    session.model_ready.connect(lambda _mid, seconds: ready.append(seconds))
    waited = pipe.load(timeout_s=LOAD_TIMEOUT_S)
    if failed:
        raise SelfTestFailure(EXIT_LOAD, f"model {session.profile.id} did not load: {failed[0]}")
    if not ready:
        raise SelfTestFailure(EXIT_TIMEOUT, f"model {session.profile.id} did not load within {waited:.0f} s")
    msg, timing = pipe.turn(PROMPT, max_tokens=MAX_TOKENS, timeout_s=TURN_TIMEOUT_S)
    if timing["t_done"] is None:
        raise SelfTestFailure(EXIT_TIMEOUT, f"no answer within {TURN_TIMEOUT_S:.0f} s")
    if msg.finish_reason == "error" or msg.error:
        raise SelfTestFailure(EXIT_TURN, f"the turn failed: {msg.error or 'finish reason error'}")
    if not msg.answer.strip():
        raise SelfTestFailure(EXIT_TURN, f"the model gave an empty answer (finish reason {msg.finish_reason})")
    widget = pipe.window.chat.widget_for(msg)
    if widget is None or not widget.answer_text().strip():
        raise SelfTestFailure(EXIT_TURN, "the answer did not reach the window's message view")
    stats = msg.stats
    rate = "n/a" if stats.tokens_per_s is None else f"{stats.tokens_per_s:.1f}"
    return (f"model {msg.model_id}, {stats.generated_tokens} tokens, {rate} tokens/s, {stats.total_s:.2f} s "
            f"(load {ready[0]:.2f} s, total {time.perf_counter() - t0:.2f} s)")


def _check_saved(pipe) -> None:
    """The answered turn is in the store, as the window saved it while it streamed."""
    from PySide6.QtCore import QCoreApplication

    from app.errors import PonderError

    errors: list[str] = []
    pipe.persistence.error.connect(errors.append)
    if not pipe.persistence.flush():
        raise SelfTestFailure(EXIT_STORE, "saving the conversation did not finish within 30 s")
    QCoreApplication.processEvents()  # the writer's errors arrive as queued signals
    if errors:
        raise SelfTestFailure(EXIT_STORE, f"the answered turn was not saved: {errors[0]}")
    session = pipe.session
    answer = session.conversation.messages[-1].answer
    try:
        saved = pipe.window.store.load_conversation(session.conversation.uid).messages
    except PonderError as exc:
        raise SelfTestFailure(EXIT_STORE, f"the saved conversation cannot be read back: {exc}") from exc
    if len(saved) != 2 or saved[-1].answer != answer:
        raise SelfTestFailure(EXIT_STORE, f"the answered turn was not saved as answered ({len(saved)} messages "
                              "read back)")


def _close(pipe, *, stuck: bool = False, code: int = 0) -> None:
    """Stop the worker and close the window; if the worker hangs, exit hard after 15 s."""
    if pipe is None:
        return
    if stuck:
        # A model call that never returns would block the worker thread's join forever.
        watchdog = threading.Timer(15.0, lambda: os._exit(code))
        watchdog.daemon = True
        watchdog.start()
    pipe.session.shutdown()
    pipe.close()
