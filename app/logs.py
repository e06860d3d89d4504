"""Ponder's log: one rotating file, configured once at start-up, and the crash hooks.

:func:`configure` sends the records of Ponder's loggers to ``<logs folder>/ponder.log``
(``$PONDER_HOME/logs/ponder.log`` when PONDER_HOME is set), rotated at 1 MB with three old
files kept. Ponder's loggers are named ``ponder.<subsystem>`` — ``ponder.cli``, ``ponder.turn``,
``ponder.worker``, ``ponder.store``, ``ponder.crash``, ``ponder.self_test``… (modules that
name theirs after themselves, ``app.…``, are treated the same); their level is
``PONDER_LOG_LEVEL`` (debug, info, warning, error) when set, else the ``log_level`` setting,
else info. Other libraries' records are kept from WARNING up.

What is logged never includes an API key, and from INFO up never the text of a message:
ids, counts, timings, finish reasons and Ponder's own error sentences.

:func:`install_crash_hooks` makes ``sys.excepthook`` and ``threading.excepthook`` write an
uncaught exception's traceback to the log and hand a :class:`Crash` to the listeners (the
window shows a dialog, see app/ui/crash_reporter.py); with no listener, one line goes to
stderr (the command line never prints a traceback).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app import paths
from app.domain.terminal_text import strip_controls
from app.errors import FolderError

LOG_FILE = "ponder.log"
LEVEL_ENV = "PONDER_LOG_LEVEL"
MAX_BYTES = 1_000_000
BACKUPS = 3
OUR_LOGGERS = ("ponder", "app")
FORMAT = "%(asctime)s %(process)d %(threadName)s %(levelname)s %(name)s: %(message)s"

log = logging.getLogger("ponder.logs")
crash_log = logging.getLogger("ponder.crash")


@dataclass(frozen=True)
class Crash:
    """One uncaught exception: ``summary`` is one line, ``details`` the traceback,
    ``log_path`` the file it was written to (None when there is no log), ``thread`` the
    thread's name when it was not the main one."""

    summary: str
    details: str
    log_path: Path | None
    thread: str | None = None


CrashListener = Callable[[Crash], None]


class _State:
    def __init__(self) -> None:
        self.handler: logging.Handler | None = None
        self.path: Path | None = None
        self.problem: str | None = None  # why there is no log file
        self.listeners: list[CrashListener] = []
        self.lock = threading.Lock()


_state = _State()


def configure(setting: str | None = None) -> Path | None:
    """Send Ponder's log to the rotating file; returns its path, or None when the logs folder
    cannot be used (then nothing is written and :func:`problem` says why).

    Called once at start-up; calling again changes only the level, unless the logs folder
    has changed (tests point PONDER_HOME elsewhere), when the file follows it.
    """
    root = logging.getLogger()
    logging.raiseExceptions = False  # a log that cannot be written (disk full) prints no traceback over the output
    try:
        path = paths.logs_dir() / LOG_FILE
    except FolderError as exc:
        _drop_handler()
        _state.problem = str(exc)
        _state.handler = logging.NullHandler()  # and not Python's last-resort handler on stderr
        root.addHandler(_state.handler)
        set_level(setting)
        return None
    if _state.path != path or _state.handler is None:
        _drop_handler()
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS,
                                                       encoding="utf-8", errors="backslashreplace", delay=True)
        handler.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(handler)
        _state.handler, _state.path, _state.problem = handler, path, None
    set_level(setting)
    return path


def shutdown() -> None:
    """Close the log file (tests do, between homes; at exit logging does it by itself)."""
    _drop_handler()
    _state.problem = None


def _drop_handler() -> None:
    if _state.handler is not None:
        logging.getLogger().removeHandler(_state.handler)
        _state.handler.close()
    _state.handler, _state.path = None, None


def set_level(setting: str | None = None) -> int:
    """Set the level of Ponder's loggers: PONDER_LOG_LEVEL when set, else ``setting``, else INFO."""
    wanted = (os.environ.get(LEVEL_ENV, "").strip() or setting or "info").upper()
    level = logging.getLevelName(wanted)
    if not isinstance(level, int):
        level = logging.INFO
        log.warning("%s=%r is not a log level (debug, info, warning, error); using info", LEVEL_ENV, wanted)
    for name in OUR_LOGGERS:
        logging.getLogger(name).setLevel(level)
    return level


def log_path() -> Path | None:
    """The log file, or None when there is none."""
    return _state.path


def problem() -> str | None:
    """Why there is no log file (a sentence), or None."""
    return _state.problem


def where() -> str:
    """Where the details of an error are, for a message: the file, or why there is none."""
    if _state.path is not None:
        return f"the details are in {_state.path}"
    return f"no log was written ({_state.problem or 'logging is not set up'})"


# -- crashes ---------------------------------------------------------------------------------


def add_crash_listener(listener: CrashListener) -> Callable[[], None]:
    """Hand every later :class:`Crash` to ``listener`` (on the thread it happened on);
    returns a function that removes it."""
    with _state.lock:
        _state.listeners.append(listener)

    def remove() -> None:
        with _state.lock:
            if listener in _state.listeners:
                _state.listeners.remove(listener)

    return remove


def report_crash(exc: BaseException, thread: str | None = None) -> Crash:
    """Log ``exc`` with its traceback and hand it to the listeners (one stderr line if none)."""
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip()
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    summary = type(exc).__name__ + (f": {first[:200]}" if first else "")
    crash_log.critical("Unexpected error%s\n%s", f" in thread {thread}" if thread else "", details)
    crash = Crash(summary, details, _state.path, thread)
    with _state.lock:
        listeners = list(_state.listeners)
    for listener in listeners:
        try:
            listener(crash)
        except Exception:  # a broken listener must not hide the crash it was told about
            crash_log.exception("A crash listener failed")
    if not listeners and sys.stderr is not None:  # a windowed app may have no stderr
        print(f"ponder: unexpected error ({strip_controls(summary)}); {where()}.", file=sys.stderr, flush=True)
    return crash


def _excepthook(exc_type, exc, tb) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    report_crash(exc if exc is not None else exc_type())


def _thread_excepthook(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    exc = args.exc_value if args.exc_value is not None else args.exc_type()
    report_crash(exc, thread=args.thread.name if args.thread is not None else "?")


def install_crash_hooks() -> None:
    """Route uncaught exceptions of every thread to :func:`report_crash`."""
    sys.excepthook = _excepthook
    threading.excepthook = _thread_excepthook
