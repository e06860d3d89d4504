"""The About dialog: Ponder's version, the Qt and llama.cpp versions, and the data folders.

``about_info()`` gathers the facts (plain strings, testable without a dialog); the dialog
shows them with the app icon. Folder paths are links that open the folder.

No signals.
"""

from __future__ import annotations

import html
import sys
from pathlib import Path

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, QUrl, qVersion
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from app import paths
from app.ui.app_identity import app_icon
from app.ui.plain import plain_label, plain_tooltip
from app.version import __version__


def llama_versions() -> str:
    """``llama.cpp <version> · llama-cpp-python <version>``, or why it is unavailable."""
    try:
        import llama_cpp
    except (ImportError, OSError) as exc:  # OSError: the shared library did not load
        return f"llama-cpp-python unavailable ({exc})"
    try:
        core = llama_cpp.llama_cpp.llama_version().decode("utf-8", "replace")
    except (AttributeError, OSError):  # older bindings without llama_version()
        core = "unknown"
    return f"llama.cpp {core} · llama-cpp-python {llama_cpp.__version__}"


def folders() -> dict[str, Path]:
    """Where Ponder keeps its files (PONDER_HOME when set, else the platform's user folders)."""
    return {
        "Config": paths.config_dir(),
        "Data": paths.data_dir(),
        "Cache": paths.cache_dir(),
        "Logs": paths.logs_dir(),
    }


def about_info() -> dict[str, str]:
    """The facts the dialog shows, label -> text."""
    info = {
        "Version": __version__,
        "Qt": f"Qt {qVersion()} · PySide6 {pyside_version}",
        "llama.cpp": llama_versions(),
        "Python": sys.version.split()[0] + (" (packaged)" if getattr(sys, "frozen", False) else ""),
    }
    info.update({name: str(folder) for name, folder in folders().items()})
    return info


class AboutDialog(QDialog):
    """About Ponder: icon, name, versions and folders, one Close button."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle("About Ponder")
        self.setMinimumWidth(480)
        icon = app_icon()
        if not icon.isNull():
            self.setWindowIcon(icon)
        self.info = about_info()

        header = QHBoxLayout()
        logo = plain_label(parent=self)
        if not icon.isNull():
            logo.setPixmap(icon.pixmap(64, 64))
        header.addWidget(logo)
        title = QLabel(  # Ponder's own rich text; the version is escaped
            f"<b style='font-size: 16pt'>Ponder</b><br>"
            f"A desktop chat app for reasoning models<br>Version {html.escape(self.info['Version'])}",
            self,
        )
        title.setObjectName("aboutTitle")
        title.setTextFormat(Qt.RichText)
        header.addWidget(title, 1)

        form = QFormLayout()
        self.value_labels: dict[str, QLabel] = {}
        for name, text in self.info.items():
            if name == "Version":
                continue
            label = plain_label(parent=self)
            label.setObjectName(f"about_{name.lower().replace('.', '')}")
            label.setWordWrap(True)
            if name in ("Config", "Data", "Cache", "Logs"):
                url = QUrl.fromLocalFile(text).toString()
                label.setTextFormat(Qt.RichText)  # a link to the folder; the path is escaped
                label.setText(f"<a href=\"{html.escape(url)}\">{html.escape(text, quote=False)}</a>")
                label.setOpenExternalLinks(True)
                label.setToolTip(plain_tooltip(f"Open {text}"))
            else:
                label.setText(text)
            label.setTextInteractionFlags(Qt.TextSelectableByMouse | Qt.LinksAccessibleByMouse)
            form.addRow(plain_label(f"{name}:", self), label)
            self.value_labels[name] = label

        buttons = QDialogButtonBox(QDialogButtonBox.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def text(self) -> str:
        """Everything the dialog shows, as plain text (for tests and copying)."""
        lines = [f"Ponder {self.info['Version']}"]
        lines += [f"{name}: {self.info[name]}" for name in self.value_labels]
        return "\n".join(lines)
