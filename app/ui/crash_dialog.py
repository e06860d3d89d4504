"""The crash dialog: Ponder hit an unexpected error; where its details are, and a Copy button.

Shown by app/ui/crash_reporter.py instead of a silent exit. Everything in it is plain text
(an exception's message may quote a server or a file). Further crashes while it is open are
added to it (:meth:`CrashDialog.add`) rather than opening one dialog each.

Signals:
    copied()   the report (log path and tracebacks) was put on the clipboard
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from app.logs import Crash
from app.ui.plain import plain_label


class CrashDialog(QDialog):
    """One or more crashes: a sentence, the log's path, the tracebacks, Copy / Open log folder / Close."""

    copied = Signal()

    def __init__(self, crash: Crash, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Ponder: unexpected error")
        self.setWindowModality(Qt.WindowModal)
        self.crashes: list[Crash] = []
        self.message = plain_label("", self)
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.details = QPlainTextEdit(self)
        self.details.setReadOnly(True)
        self.details.setLineWrapMode(QPlainTextEdit.NoWrap)
        self.details.setMinimumSize(560, 200)
        buttons = QDialogButtonBox(QDialogButtonBox.Close, self)
        self.copy_button = QPushButton("&Copy", self)
        self.copy_button.setToolTip("Copy the log's path and the error details, for a bug report")
        self.folder_button = QPushButton("Open &log folder", self)
        buttons.addButton(self.copy_button, QDialogButtonBox.ActionRole)
        buttons.addButton(self.folder_button, QDialogButtonBox.ActionRole)
        self.copy_button.clicked.connect(self.copy_report)
        self.folder_button.clicked.connect(self._open_folder)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.details, 1)
        layout.addWidget(buttons)
        self.add(crash)

    def add(self, crash: Crash) -> None:
        """Show one more crash in this dialog."""
        self.crashes.append(crash)
        first = self.crashes[0]
        where = (f"The details are in the log: {first.log_path}" if first.log_path
                 else "No log file could be written; copy the details below.")
        more = f" ({len(self.crashes)} errors so far)" if len(self.crashes) > 1 else ""
        self.message.setText(
            f"Ponder hit an unexpected error{more}: {first.summary}\n\n"
            "What you were doing may not have finished; your conversations are saved as they stream. "
            f"You can keep working, or quit and start Ponder again.\n\n{where}"
        )
        self.details.setPlainText(self.report())
        self.folder_button.setEnabled(first.log_path is not None)

    def report(self) -> str:
        """The text Copy puts on the clipboard."""
        head = f"Log: {self.crashes[0].log_path or 'none'}"
        bodies = [(f"In thread {c.thread}:\n" if c.thread else "") + c.details for c in self.crashes]
        return "\n\n".join([head, *bodies])

    def copy_report(self) -> None:
        """Put :meth:`report` (what the details box shows) on the clipboard, as plain text."""
        cursor = self.details.textCursor()
        self.details.selectAll()
        self.details.copy()
        self.details.setTextCursor(cursor)
        self.copied.emit()

    def _open_folder(self) -> None:
        from app.ui.log_folder import open_log_folder

        open_log_folder()
