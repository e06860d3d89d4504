"""The model manager's "Find GGUF files" tab: model files already on disk, to add.

Discover looks in LM Studio's models, Ollama's store, the Hugging Face cache and the
folders added in the tab (kept for this dialog session only); the list shows each file's
name, source, size and path, greyed and marked "added" when models.toml already uses it.

Signals:
    add_requested(list files)   the user asked to add these ``(path, name)`` pairs
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QListWidget,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.errors import PonderError
from app.ui.model_lookups import find_gguf_files
from app.ui.model_proposal import human_size
from app.ui.plain import plain_label, plain_tooltip

PATH_ROLE = Qt.UserRole + 1  # a result's file path
SEARCH_NOTE = ("Discover looks in LM Studio's models, Ollama's store and the Hugging Face cache, "
               "and in the folders below (kept until this window closes).")
SOURCE_NAMES = {"lmstudio": "LM Studio", "ollama": "Ollama", "huggingface": "Hugging Face", "folder": "Folder"}


class DiscoverPanel(QWidget):
    """GGUF files found on disk, with their source, name and size, to add to the models.

    Signals:
        add_requested(list files): the user asked to add these ``(path, name)`` pairs.
    """

    add_requested = Signal(list)
    NAME_ROLE = PATH_ROLE + 1

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.extra_folders: list[Path] = []
        self._configured: set[str] = set()
        layout = QVBoxLayout(self)
        note = plain_label(SEARCH_NOTE, self)
        note.setObjectName("fieldNote")
        note.setWordWrap(True)
        layout.addWidget(note)

        folders = QGridLayout()
        folders.addWidget(plain_label("Also search:", self), 0, 0, Qt.AlignTop)
        self.folder_list = QListWidget(self)
        self.folder_list.setFixedHeight(58)
        self.folder_list.setToolTip("Folders searched as well (with their subfolders), until this window closes")
        folders.addWidget(self.folder_list, 0, 1, 2, 1)
        self.add_folder_button = QPushButton("Add folder…", self)
        self.remove_folder_button = QPushButton("Remove folder", self)
        self.remove_folder_button.setEnabled(False)
        folders.addWidget(self.add_folder_button, 0, 2)
        folders.addWidget(self.remove_folder_button, 1, 2)
        folders.setColumnStretch(1, 1)
        layout.addLayout(folders)

        row = QHBoxLayout()
        self.discover_button = QPushButton("Discover", self)
        self.status = plain_label("Press Discover to look for model files.", self)
        self.status.setObjectName("fieldNote")
        row.addWidget(self.discover_button)
        row.addWidget(self.status, 1)
        layout.addLayout(row)

        self.results = QTreeWidget(self)
        self.results.setHeaderLabels(["Name", "Source", "Size", "File"])
        self.results.setRootIsDecorated(False)
        self.results.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.results.setAlternatingRowColors(True)
        self.results.header().setStretchLastSection(True)
        for column, width in enumerate((280, 130, 70)):
            self.results.setColumnWidth(column, width)
        layout.addWidget(self.results, 1)

        bottom = QHBoxLayout()
        bottom.addStretch(1)
        self.add_button = QPushButton("Add selected", self)
        self.add_button.setEnabled(False)
        bottom.addWidget(self.add_button)
        layout.addLayout(bottom)

        self.discover_button.clicked.connect(self.discover)
        self.add_folder_button.clicked.connect(self._choose_folder)
        self.remove_folder_button.clicked.connect(self._remove_folder)
        self.folder_list.currentRowChanged.connect(lambda row: self.remove_folder_button.setEnabled(row >= 0))
        self.results.itemSelectionChanged.connect(lambda: self.add_button.setEnabled(bool(self.selected())))
        self.add_button.clicked.connect(lambda: self.add_requested.emit(self.selected()))
        self.results.itemDoubleClicked.connect(lambda item, _column: self.add_requested.emit([self._file(item)]))

    def set_configured(self, configured_paths: Iterable[str]) -> None:
        """Paths that models.toml already uses (marked "added" in the list)."""
        self._configured = {str(Path(p).expanduser()) for p in configured_paths}
        for index in range(self.results.topLevelItemCount()):
            self._mark(self.results.topLevelItem(index))

    def add_folder(self, folder: Path) -> None:
        """Also search ``folder`` (for this dialog session) and discover again."""
        folder = Path(folder)
        if folder not in self.extra_folders:
            self.extra_folders.append(folder)
            self.folder_list.addItem(str(folder))
        self.discover()

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder to search for GGUF files", str(Path.home()))
        if folder:
            self.add_folder(Path(folder))

    def _remove_folder(self) -> None:
        row = self.folder_list.currentRow()
        if row >= 0:
            self.folder_list.takeItem(row)
            del self.extra_folders[row]

    def discover(self) -> None:
        """Look for GGUF files and list them."""
        QApplication.setOverrideCursor(Qt.WaitCursor)
        try:
            found = find_gguf_files(self.extra_folders)
        except (OSError, PonderError) as exc:
            self.status.setText(f"Discovery stopped: {exc}")
            return
        finally:
            QApplication.restoreOverrideCursor()
        self.results.clear()
        if found is None:
            self.status.setText("Discovery is not available in this build; add files with “Add GGUF…”.")
            return
        for entry in sorted(found, key=lambda f: (str(f.source), str(f.name).lower())):
            source = SOURCE_NAMES.get(str(entry.source), str(entry.source))
            item = QTreeWidgetItem([str(entry.name), source, human_size(entry.size), str(entry.path)])
            item.setData(0, PATH_ROLE, str(entry.path))
            item.setData(0, self.NAME_ROLE, str(entry.name))
            item.setToolTip(0, plain_tooltip(str(entry.name)))  # names on disk can be anything
            item.setToolTip(3, plain_tooltip(str(entry.path)))
            item.setTextAlignment(2, Qt.AlignRight | Qt.AlignVCenter)
            self._mark(item)
            self.results.addTopLevelItem(item)
        count = len(found)
        self.status.setText(f"Found {count} GGUF file{'s' if count != 1 else ''}." if count
                            else "No GGUF files found. Add a folder above, or use “Add GGUF…” on the Models tab.")

    def _mark(self, item: QTreeWidgetItem) -> None:
        added = item.data(0, PATH_ROLE) in self._configured
        for column in range(item.columnCount()):
            item.setForeground(column, self.palette().placeholderText() if added else self.palette().text())
        item.setText(1, item.text(1).removesuffix(" · added") + (" · added" if added else ""))

    @classmethod
    def _file(cls, item: QTreeWidgetItem) -> tuple[str, str]:
        return item.data(0, PATH_ROLE), item.data(0, cls.NAME_ROLE)

    def selected(self) -> list[tuple[str, str]]:
        """The ``(path, name)`` of the files selected in the list."""
        return [self._file(item) for item in self.results.selectedItems()]
