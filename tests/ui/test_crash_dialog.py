"""Uncaught errors in the window (issue 15.15): a crash dialog with the log's path and a Copy
button instead of a silent exit; Help → Open log folder."""

from __future__ import annotations

import sys
import threading

import pytest
from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

from app import logs
from app.ui.crash_dialog import CrashDialog
from app.ui.crash_reporter import show_crashes_in_dialogs


@pytest.fixture
def hooked(ponder_home, monkeypatch):
    """The log and the crash hooks as app.main sets them up; restored afterwards."""
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    path = logs.configure()
    logs.install_crash_hooks()
    yield path
    logs.shutdown()


def window(qtbot):
    win = QWidget()
    qtbot.addWidget(win)
    win.show()
    reporter = show_crashes_in_dialogs(win)
    return win, reporter


def test_an_error_in_another_thread_opens_the_dialog_with_the_log_path(qtbot, hooked):
    win, reporter = window(qtbot)

    def fail():
        raise RuntimeError("<b>bold</b> trouble in the writer")

    threading.Thread(target=fail, name="writer").start()
    qtbot.waitUntil(lambda: reporter.dialog is not None and reporter.dialog.isVisible(), timeout=5000)
    dialog = reporter.dialog
    assert dialog.message.textFormat() == Qt.PlainText  # an exception may quote a server: never rich text
    text = dialog.message.text()
    assert "Ponder hit an unexpected error: RuntimeError: <b>bold</b> trouble in the writer" in text
    assert f"The details are in the log: {hooked}" in text
    assert "In thread writer:\nTraceback (most recent call last)" in dialog.details.toPlainText()
    with qtbot.waitSignal(dialog.copied):
        dialog.copy_button.click()
    copied = QGuiApplication.clipboard().text()
    assert copied.startswith(f"Log: {hooked}\n\n") and "RuntimeError: <b>bold</b> trouble" in copied
    assert "RuntimeError: <b>bold</b> trouble in the writer" in hooked.read_text(encoding="utf-8")
    reporter.close()


@pytest.mark.qt_no_exception_capture
def test_an_error_in_a_slot_opens_the_dialog_and_the_app_goes_on(qtbot, hooked):
    win, reporter = window(qtbot)

    def slot():
        raise ZeroDivisionError("division by zero in a slot")

    QTimer.singleShot(0, slot)
    qtbot.waitUntil(lambda: reporter.dialog is not None and reporter.dialog.isVisible(), timeout=5000)
    assert "ZeroDivisionError: division by zero in a slot" in reporter.dialog.message.text()
    assert win.isVisible()  # no silent exit
    reporter.close()


def test_more_errors_join_the_open_dialog(qtbot, hooked):
    win, reporter = window(qtbot)
    for n in range(3):
        worker = threading.Thread(target=lambda n=n: (_ for _ in ()).throw(OSError(f"error {n}")))
        worker.start()
        worker.join()
    qtbot.waitUntil(lambda: reporter.dialog is not None and len(reporter.dialog.crashes) == 3, timeout=5000)
    assert "(3 errors so far): OSError: error 0" in reporter.dialog.message.text()
    assert "OSError: error 2" in reporter.dialog.report()
    reporter.close()


def test_without_a_log_file_the_dialog_says_so(qtbot):
    crash = logs.Crash("ValueError: x", "Traceback ...\nValueError: x", None)
    dialog = CrashDialog(crash)
    qtbot.addWidget(dialog)
    assert "No log file could be written" in dialog.message.text()
    assert not dialog.folder_button.isEnabled() and dialog.report().startswith("Log: none")


def test_help_open_log_folder_opens_the_logs_folder(qtbot, ponder_home, monkeypatch):
    from app.ui.main_window import MainWindow
    from helpers.fake_session import fake_session

    opened: list[QUrl] = []
    monkeypatch.setattr("app.ui.log_folder.QDesktopServices.openUrl", lambda url: opened.append(url) or True)
    session = fake_session(["Hi", "."])
    win = MainWindow(session)
    qtbot.addWidget(win)
    help_menu = next(a.menu() for a in win.menuBar().actions() if a.text() == "&Help")
    action = next(a for a in help_menu.actions() if a.text() == "Open &log folder")
    action.trigger()
    assert [u.toLocalFile() for u in opened] == [str(ponder_home / "logs")]
    session.shutdown()


def test_open_log_folder_says_when_the_folder_cannot_be_used(qtbot, tmp_path, monkeypatch):
    from app.ui.main_window import MainWindow
    from helpers.fake_session import fake_session

    session = fake_session(["Hi", "."])
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    blocker = tmp_path / "blocked"
    blocker.write_text("")
    monkeypatch.setenv("PONDER_HOME", str(blocker))
    win.open_log_folder()
    assert win.errors.isVisibleTo(win) and f"Ponder cannot use its logs folder {blocker / 'logs'}" in win.errors.text()
    session.shutdown()
