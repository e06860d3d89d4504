"""The model manager's "Get models" tab: the catalog, whether each model fits this machine
with room for its thinking, and downloads.

One row per model and quantization: name, quantization, role, download size, the verdict
at the context a typical trace needs (fits / tight / won't fit; the numbers in the
tooltip), the largest context that fits, and the row's download state. Columns sort (the
verdict by how well it fits). Download queues the selected row on the window's
:class:`~app.controllers.download_queue.DownloadQueue`; the bar below shows the running
download with its speed and time left, Cancel stops it (what arrived is kept for a resume).
Gated models say how to accept their license; a Hugging Face token typed here goes to the
system keyring. Offline, the catalog still shows and the note says downloads need a connection.

Signals:
    model_added(object ModelsConfig)   a download finished and its entry is in models.toml
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.controllers.download_queue import CANCELLED, DONE, FAILED, QUEUED, RUNNING, DownloadJob, DownloadQueue
from app.domain.catalog import Catalog
from app.domain.catalog_fit import CatalogFit, catalog_fit
from app.domain.hardware_fit import FITS, TIGHT, format_bytes
from app.errors import PonderError
from app.ui.plain import plain_label, plain_tooltip

SORT_ROLE = Qt.UserRole + 1
KEY_ROLE = Qt.UserRole + 2
COLUMNS = ("Model", "Quant", "Role", "Download", "Fits with thinking", "Largest context", "Status")
VERDICT_COL, MAX_COL, STATUS_COL = 4, 5, 6
VERDICT_RANK = {FITS: 0, TIGHT: 1}
VERDICT_COLOURS = {FITS: "#1e7b34", TIGHT: "#a06000"}
WONT_COLOUR = "#a8261b"
CACHE_CHOICE, FOLDER_CHOICE = "Hugging Face cache", "A folder…"


class _Row(QTreeWidgetItem):
    """A catalog row whose columns sort by their SORT_ROLE value (numbers, verdict rank)."""

    def __lt__(self, other: QTreeWidgetItem) -> bool:
        column = self.treeWidget().sortColumn() if self.treeWidget() else 0
        mine, theirs = self.data(column, SORT_ROLE), other.data(column, SORT_ROLE)
        if mine is not None and theirs is not None:
            return mine < theirs
        return self.text(column).lower() < other.text(column).lower()


def _status_text(job: DownloadJob | None) -> str:
    if job is None:
        return ""
    if job.state == RUNNING and job.progress is not None:
        return job.progress.text()
    return {QUEUED: "queued", RUNNING: "starting…", DONE: "downloaded", FAILED: "failed",
            CANCELLED: "cancelled"}.get(job.state, job.state)


class CatalogPage(QWidget):
    """The catalog with fit verdicts and downloads.

    ``available_bytes`` (default: this machine's available memory) is what verdicts are
    judged against; ``queue`` defaults to the window's shared download queue.

    Signals:
        model_added(object ModelsConfig): a download finished and was added to models.toml.
    """

    model_added = Signal(object)

    def __init__(self, parent: QWidget | None = None, *, catalog: Catalog | None = None,
                 available_bytes: int | None = None, queue: DownloadQueue | None = None,
                 set_token=None) -> None:
        super().__init__(parent)
        from app.domain.hardware_fit import machine_memory

        memory = machine_memory()
        self.available_bytes = available_bytes if available_bytes is not None else memory.available_bytes
        self._set_token = set_token
        self.catalog: Catalog | None = catalog
        self.fits: dict[tuple[str, str], CatalogFit] = {}
        self.items: dict[tuple[str, str], _Row] = {}
        self._folder: Path | None = None

        layout = QVBoxLayout(self)
        self.note = plain_label(parent=self)
        self.note.setObjectName("fieldNote")
        self.note.setWordWrap(True)
        layout.addWidget(self.note)

        self.table = QTreeWidget(self)
        self.table.setHeaderLabels(list(COLUMNS))
        self.table.setRootIsDecorated(False)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setSortingEnabled(True)
        for column, width in enumerate((230, 80, 80, 80, 150, 110)):
            self.table.setColumnWidth(column, width)
        layout.addWidget(self.table, 1)

        self.detail = plain_label(parent=self)
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextSelectableByMouse)
        layout.addWidget(self.detail)

        row = QHBoxLayout()
        row.addWidget(plain_label("Save to:", self))
        self.destination = QComboBox(self)
        self.destination.addItems([CACHE_CHOICE, FOLDER_CHOICE])
        self.destination.setToolTip("The Hugging Face cache is shared with other tools (and found by "
                                    "“Find GGUF files”); or pick a folder of your own.")
        row.addWidget(self.destination)
        row.addStretch(1)
        self.download_button = QPushButton("Download", self)
        self.cancel_button = QPushButton("Cancel download", self)
        row.addWidget(self.download_button)
        row.addWidget(self.cancel_button)
        layout.addLayout(row)

        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.hide()
        layout.addWidget(self.progress)
        self.status = plain_label(parent=self)
        self.status.setObjectName("fieldNote")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)

        token_row = QHBoxLayout()
        token_row.addWidget(plain_label("Hugging Face token:", self))
        self.token_edit = QLineEdit(self)
        self.token_edit.setEchoMode(QLineEdit.Password)
        self.token_edit.setPlaceholderText("only for gated models; kept in the system keyring")
        self.token_button = QPushButton("Save token", self)
        token_row.addWidget(self.token_edit, 1)
        token_row.addWidget(self.token_button)
        layout.addLayout(token_row)

        anchor = parent.window() if parent is not None and parent.window() is not None else None
        anchor = anchor.parent() if anchor is not None and anchor.parent() is not None else anchor
        self.queue = queue or DownloadQueue.attached_to(anchor or self)
        self.queue.job_added.connect(self._on_job)
        self.queue.job_changed.connect(self._on_job)
        self.queue.models_changed.connect(self.model_added)

        self.table.currentItemChanged.connect(lambda *_: self._update_selection())
        self.download_button.clicked.connect(self.download_selected)
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.destination.activated.connect(self._on_destination)
        self.token_button.clicked.connect(self._save_token)
        self._load(memory)

    # -- building ------------------------------------------------------------------------

    def _load(self, memory) -> None:
        from app.backends.hub_download import offline

        if self.catalog is None:
            try:
                from app.domain.catalog import load_catalog
                self.catalog = load_catalog()
            except PonderError as exc:
                self.note.setText(f"The catalog cannot be read: {exc}")
                self._set_buttons()
                return
        where = "available memory" if memory.available_bytes == self.available_bytes else "memory assumed"
        note = (f"Verdicts are for this machine ({format_bytes(self.available_bytes)} of {where}) at the "
                "context each model's typical reasoning needs; hover over a verdict for the numbers.")
        if offline():
            note += " Offline mode is on: the catalog shows, but downloads need a connection."
        self.note.setText(note)
        self.table.setSortingEnabled(False)
        for entry in self.catalog.entries:
            for quant in entry.quants:
                fit = catalog_fit(entry, quant, self.available_bytes)
                key = (entry.id, quant.quant)
                self.fits[key] = fit
                item = _Row([entry.name + (" (gated)" if entry.gated else ""), quant.quant, entry.role,
                             format_bytes(quant.size), f"{fit.status} at {fit.n_ctx // 1024}K",
                             f"{fit.max_fitting_ctx:,}" if fit.max_fitting_ctx else "—", ""])
                item.setData(0, KEY_ROLE, key)
                item.setData(3, SORT_ROLE, quant.size)
                item.setData(VERDICT_COL, SORT_ROLE, (VERDICT_RANK.get(fit.status, 2), fit.estimate.total))
                item.setData(MAX_COL, SORT_ROLE, fit.max_fitting_ctx)
                item.setToolTip(VERDICT_COL, plain_tooltip(fit.tooltip()))
                item.setToolTip(0, plain_tooltip(f"{entry.name}\n{entry.good_for}\n{entry.repo} · {entry.license}"))
                colour = VERDICT_COLOURS.get(fit.status, WONT_COLOUR)
                item.setForeground(VERDICT_COL, QBrush(QColor(colour)))
                for column in (3, MAX_COL):
                    item.setTextAlignment(column, Qt.AlignRight | Qt.AlignVCenter)
                self.items[key] = item
                self.table.addTopLevelItem(item)
                self._show_job(self.queue.latest_job(key))
        self.table.setSortingEnabled(True)
        self.table.sortItems(VERDICT_COL, Qt.AscendingOrder)
        if self.table.topLevelItemCount():
            self.table.setCurrentItem(self.table.topLevelItem(0))
        self._set_buttons()

    # -- selection, downloads ------------------------------------------------------------

    def selected_key(self) -> tuple[str, str] | None:
        """(catalog id, quantization) of the selected row."""
        item = self.table.currentItem()
        return tuple(item.data(0, KEY_ROLE)) if item is not None else None

    def select(self, entry_id: str, quant: str) -> None:
        """Select the row of ``entry_id`` / ``quant``."""
        item = self.items.get((entry_id, quant))
        if item is not None:
            self.table.setCurrentItem(item)

    def _update_selection(self) -> None:
        key = self.selected_key()
        if key is None or self.catalog is None:
            self.detail.clear()
        else:
            entry = self.catalog.get(key[0])
            fit = self.fits[key]
            text = f"{entry.name} — {entry.good_for}\n{fit.verdict.explanation}"
            if entry.gated:
                text += (f"\nGated: accept the license on https://huggingface.co/{entry.repo} first, and save a "
                         "Hugging Face read token below (or set HF_TOKEN).")
            self.detail.setText(text)
        self._set_buttons()

    def _set_buttons(self) -> None:
        key = self.selected_key()
        job = self.queue.active_job(key) if key else None
        self.download_button.setEnabled(key is not None and job is None)
        self.cancel_button.setEnabled(job is not None)

    def _on_destination(self, index: int) -> None:
        if self.destination.itemText(index) != FOLDER_CHOICE:
            self._folder = None
            return
        folder = QFileDialog.getExistingDirectory(self, "Download models into this folder", str(Path.home()))
        if folder:
            self.set_folder(Path(folder))
        else:
            self.destination.setCurrentIndex(0)

    def set_folder(self, folder: Path | None) -> None:
        """Download into ``folder`` (None: the Hugging Face cache)."""
        self._folder = folder
        if folder is None:
            self.destination.setCurrentIndex(0)
            return
        label = f"Folder: {folder}"
        if self.destination.findText(label) < 0:
            self.destination.insertItem(1, label)
        self.destination.setCurrentIndex(self.destination.findText(label))

    def download_selected(self) -> DownloadJob | None:
        """Queue the selected row's download."""
        key = self.selected_key()
        if key is None or self.catalog is None:
            return None
        entry = self.catalog.get(key[0])
        job = self.queue.enqueue(entry, entry.quant(key[1]), self._folder)
        self._show_job(job)
        return job

    def cancel_selected(self) -> None:
        """Cancel the selected row's download."""
        key = self.selected_key()
        job = self.queue.active_job(key) if key else None
        if job is not None:
            self.queue.cancel(job.id)

    def _on_job(self, job: DownloadJob) -> None:
        self._show_job(job)
        self._set_buttons()

    def _show_job(self, job: DownloadJob | None) -> None:
        if job is None:
            return
        item = self.items.get(job.key)
        if item is not None:
            item.setText(STATUS_COL, _status_text(job))
            item.setToolTip(STATUS_COL, plain_tooltip(job.message or _status_text(job)))  # a server's words
        name = f"{job.entry.name} {job.quant.quant}"
        if job.state == RUNNING and job.progress is not None:
            fraction = job.progress.fraction
            self.progress.show()
            self.progress.setValue(round(1000 * fraction) if fraction is not None else 0)
            self.progress.setFormat(f"{name}: {job.progress.text()}")
            self.status.setText("")
        elif job.state == QUEUED:
            self.status.setText(f"{name} is queued.")
        elif job.state in (DONE, FAILED, CANCELLED):
            self.progress.hide()
            if job.state == DONE:
                result = job.result
                profile = getattr(result, "profile", None)
                text = f"{name} is downloaded"
                if profile is not None:
                    text += (f" and in your models as “{profile.label}” (n_ctx {profile.n_ctx:,})"
                             if getattr(result, "added", False) else f"; it was already in your models as “{profile.label}”")
                self.status.setText(text + ".")
            else:
                self.status.setText(job.message)

    def _save_token(self) -> None:
        token = self.token_edit.text().strip()
        if not token:
            self.status.setText("Paste a Hugging Face token first (huggingface.co → Settings → Access Tokens).")
            return
        try:
            if self._set_token is not None:
                self._set_token(token)
            else:
                from app.backends.cloud.keys import set_key
                from app.backends.hub_download import TOKEN_NAME
                set_key(TOKEN_NAME, token, api_key_env="HF_TOKEN")
        except PonderError as exc:
            self.status.setText(str(exc))
            return
        self.token_edit.clear()
        self.status.setText("The Hugging Face token is saved in the system keyring.")
