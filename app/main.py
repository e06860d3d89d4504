"""Entry point: the command line for subcommands, otherwise the window.

Composes QApplication, the qasync event loop, the chat session and the main window;
nothing else happens here.
"""

from __future__ import annotations

import os
import sys
import time

_T0 = time.perf_counter()  # for the start-up figure (process start ≈ this module's import)

CLI_COMMANDS = {"ask", "models", "bench", "pull"}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--version":
        from app.version import __version__

        print(f"Ponder {__version__}")
        return 0
    if argv and (argv[0] in CLI_COMMANDS or argv[0] in ("-h", "--help")):
        return run_cli(argv)
    _start_logging("self-test" if "--self-test" in argv else "window")
    if "--self-test" in argv:  # packaged-app smoke test: window offscreen, bundled model, one turn
        from app.self_test import run_self_test

        return run_self_test()
    return run_gui(argv)


def _start_logging(what: str) -> None:
    """The log file and the crash hooks, first thing (app.logs)."""
    import logging

    from app import logs

    logs.configure()
    logs.install_crash_hooks()
    from app.version import __version__

    logging.getLogger("ponder.main").info("Ponder %s starts: %s", __version__, what)


def run_cli(argv: list[str]) -> int:
    """A command of app.cli: Ctrl-C and SIGTERM at any point end it with one line and 130 / 143."""
    import signal

    from app.cli_signals import Interrupted, guard, signal_name

    try:
        guard.install()  # before anything slow is imported
        _start_logging(argv[0])
        from app import cli

        return cli.main(argv)
    except KeyboardInterrupt as exc:  # before the turn started (imports, config, ...)
        signum = exc.signum if isinstance(exc, Interrupted) else int(signal.SIGINT)
        print(f"ponder: stopped by {signal_name(signum)}", file=sys.stderr, flush=True)
        return 128 + signum


def run_gui(argv: list[str]) -> int:
    from app.display_check import check_display_libraries
    from app.errors import MissingLibraryError

    try:  # before Qt, whose own message about a missing xcb library names the wrong one
        check_display_libraries(argv)
    except MissingLibraryError as exc:
        print(exc, file=sys.stderr)
        return 1
    import asyncio

    import qasync
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app import paths
    from app.controllers.chat_session import ChatSession
    from app.controllers.persistence import Persistence
    from app.controllers.session_log import log_session
    from app.errors import PonderError
    from app.store.conversations import open_store
    from app.ui.app_identity import apply_identity
    from app.ui.crash_reporter import show_crashes_in_dialogs
    from app.ui.main_window import MainWindow
    from app.ui import mcp_binding
    from app.ui.qt_environment import prepare_qt_environment
    from app.ui.status_channel import attach_if_enabled
    from app.ui.warm_up import warm_up_rendering

    prepare_qt_environment()
    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    apply_identity(app)
    style = paths.resources_dir() / "style.qss"
    if style.exists():
        app.setStyleSheet(style.read_text(encoding="utf-8"))
    try:
        config, settings, folder_notice = _load_config()
    except PonderError as exc:
        from PySide6.QtWidgets import QMessageBox

        from app.ui.plain import plain_message_box

        plain_message_box(None, "Ponder", str(exc), icon=QMessageBox.Critical).exec()
        return 2
    from app import logs

    logs.set_level(settings.log_level)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    budget = int(settings.memory_budget_gb * 1e9) if settings.memory_budget_gb else None
    session = ChatSession(config, max_tokens=settings.max_tokens, memory_budget=budget, threads=settings.threads)
    log_session(session)
    store, notice = open_store()
    persistence = Persistence(session, store)
    servers = mcp_binding.McpServers()
    window = MainWindow(session, panel_default=settings.panel_default, store=store, persistence=persistence,
                        mcp_servers=servers.states, count_tool_tokens=mcp_binding.schema_tokens)
    mcp_binding.bind(window, session, servers, loop)
    attach_if_enabled(window)  # PONDER_STATUS_CHANNEL=1 only: JSON state lines for the walkthrough
    show_crashes_in_dialogs(window)
    window.show()
    notice = " ".join(n for n in (folder_notice, notice) if n)
    if notice:
        window.show_error(notice)
    if "--startup-probe" in argv:  # `ponder bench startup`: report when the window is ready, quit
        def probe():
            print(f"window ready after {time.perf_counter() - _T0:.3f} s", flush=True)
            app.quit()

        QTimer.singleShot(0, probe)
    else:
        session.preload()
        session.inspect_models()
        QTimer.singleShot(0, warm_up_rendering)
    closed = asyncio.Event()
    ended: list[bool] = []
    app.aboutToQuit.connect(lambda: ended.append(window.shutdown()))  # closing the window got here first, or not
    app.aboutToQuit.connect(closed.set)
    with loop:
        loop.run_until_complete(closed.wait())
        loop.run_until_complete(mcp_binding.close(servers))
    if ended and not ended[0]:
        # A model load llama.cpp cannot interrupt still holds the worker thread; the history is
        # saved, so leave without waiting for it (a normal exit would wait or abort).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    return 0


def _load_config():
    """models.toml, settings.toml and a notice: with no usable config folder the window still
    starts, on the built-in models and default settings, and says so."""
    from app.domain.config import builtin_models_path, load_models, load_user_models
    from app.domain.settings import Settings, load_settings
    from app.errors import FolderError

    try:
        return load_user_models(), load_settings(), None
    except FolderError as exc:
        return load_models(builtin_models_path()), Settings(), (
            f"{exc} Ponder runs on its built-in models and default settings; changes to them will not be saved.")
