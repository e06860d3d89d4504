"""Uncaught exceptions of any thread, shown on the GUI thread in a :class:`CrashDialog`.

app.logs writes the traceback to the log and calls its crash listeners on the thread that
failed; :class:`CrashReporter` is such a listener: a signal carries the crash to the GUI
thread, which opens the dialog (or adds to the one already open).

Signals:
    crashed(object)   a :class:`~app.logs.Crash`, delivered on the GUI thread
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QWidget

from app import logs
from app.ui.crash_dialog import CrashDialog


class CrashReporter(QObject):
    """Shows crashes over ``window``; :meth:`close` stops listening."""

    crashed = Signal(object)

    def __init__(self, window: QWidget):
        super().__init__(window)
        self.window = window
        self.dialog: CrashDialog | None = None
        self.crashed.connect(self._show, Qt.QueuedConnection)  # from any thread to this one
        self._remove = logs.add_crash_listener(self.crashed.emit)

    @Slot(object)
    def _show(self, crash: logs.Crash) -> None:
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.add(crash)
            return
        self.dialog = CrashDialog(crash, self.window)
        self.dialog.open()

    def close(self) -> None:
        self._remove()


def show_crashes_in_dialogs(window: QWidget) -> CrashReporter:
    """Crash hooks for the window's lifetime (app.logs installs the hooks themselves)."""
    reporter = CrashReporter(window)
    window.destroyed.connect(lambda *_: reporter.close())
    return reporter
