"""The model manager: edit, add, discover and remove the entries of models.toml.

Left, the configured models grouped by role; right, an editor for the selected one
(profile, cloud connection and API key, reasoning settings) and, for a local model, what
its GGUF file says about itself. The "Find GGUF files" tab lists model files already on
disk (LM Studio, Ollama, the Hugging Face cache and folders added in the tab) to add.

Edits collect in a draft of the file's text (:mod:`app.domain.config_writer` keeps its
comments); each step is validated as it is taken, and Save validates the whole draft again
and writes it atomically, so the file on disk is never left invalid. API keys go to the
system keyring through ``set_key``, never into models.toml. Folders added to the search
are kept for this dialog session only (settings.toml has no key for them).

Reading a GGUF's metadata (about 0.05 s, cached per file) and discovery (a walk of a few
folders, under a wait cursor) run on the GUI thread when the user asks for them.

This module holds the dialog; its parts live beside it (and are importable from here too):
:mod:`app.ui.model_profile_editor` (the editor), :mod:`app.ui.model_capabilities_panel`
(what the file says), :mod:`app.ui.model_discovery_panel` (the "Find GGUF files" tab),
:mod:`app.ui.model_proposal` (a profile proposed for a GGUF file, sizes as text) and
:mod:`app.ui.model_lookups` (the GGUF reader, discovery and the keyring, imported lazily).
The "Get models" tab is :mod:`app.ui.catalog_page` (the catalog, fit verdicts, downloads);
entries its downloads add to models.toml are taken into the draft (:meth:`note_added_on_disk`).

Signals:
    models_changed(object ModelsConfig): after a successful save, with the saved models.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import paths
from app.domain import config_writer
from app.domain.config import ensure_models_file, parse_models, read_config_text
from app.domain.profiles import ModelProfile, ModelsConfig
from app.errors import ConfigError, PonderError
from app.ui.model_capabilities_panel import Capabilities, CapabilitiesPanel
from app.ui.model_discovery_panel import DiscoverPanel
from app.ui.model_lookups import default_set_key, find_gguf_files, keyring_note, read_capabilities
from app.ui.model_profile_editor import ProfileEditor
from app.ui.model_proposal import human_count, human_size, propose_profile, slug, unique_id
from app.ui.model_switcher import ROLE_TITLES, role_icon
from app.ui.plain import plain_label, plain_tooltip

__all__ = [
    "Capabilities", "CapabilitiesPanel", "DiscoverPanel", "ModelManager", "ProfileEditor", "default_set_key",
    "find_gguf_files", "human_count", "human_size", "keyring_note", "propose_profile", "read_capabilities",
    "slug", "unique_id",
]

ID_ROLE = Qt.UserRole + 1  # a list entry's model id
STYLE = """
QLabel#managerMessage { padding: 6px 10px; border-radius: 4px; }
QLabel#managerMessage[kind="error"] { background: #fdecea; color: #8a1c10; border: 1px solid #f5c6c0; }
QLabel#managerMessage[kind="info"] { background: #eef4fb; color: #24476b; border: 1px solid #cfe0f3; }
QLabel#editorTitle { font-size: 15px; font-weight: 600; }
QLabel#editorSubtitle, QLabel#fieldNote { color: #6a737d; }
QLineEdit[invalid="true"], QComboBox[invalid="true"], QPlainTextEdit[invalid="true"] {
    border: 1px solid #c0392b; border-radius: 3px; background: #fff6f5;
}
"""


class ModelManager(QDialog):
    """Edit the models of models.toml: profiles, keys, new GGUF files, discovery.

    ``set_key(model_id, key)`` stores an API key (default: the system keyring);
    ``models_path`` defaults to the user's models.toml (created on first use).

    Signals:
        models_changed(object ModelsConfig): after a successful save.
    """

    models_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None, *, models_path: Path | None = None,
                 set_key: Callable[[str, str], None] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.setObjectName("modelManager")
        self.setStyleSheet(STYLE)
        self.resize(980, 760)
        self._set_key = set_key or default_set_key
        self._caps: dict[str, Capabilities] = {}
        self._pending_keys: dict[str, str] = {}
        self._current_id: str | None = None
        self._quiet = False  # True while the list is rebuilt by code
        self._stale = False  # True when the draft changed since the list was built
        self._build()

        self.path = models_path
        self.config: ModelsConfig | None = None
        self.draft = self._disk_text = ""
        try:
            self.path = models_path or ensure_models_file()
            self._disk_text = read_config_text(self.path)
            self.config = parse_models(self._disk_text, str(self.path), path=self.path)
            self.draft = self._disk_text
        except ConfigError as exc:
            self._set_enabled(False)
            self.show_error(f"{exc} Fix the file by hand (or delete it to start over), then reopen this window.")
            return
        self._refresh_list(self.config.default)
        self._update_discovery_marks()

    # -- layout -------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.tabs = QTabWidget(self)
        layout.addWidget(self.tabs, 1)

        page = QWidget(self)
        splitter = QSplitter(Qt.Horizontal, page)
        left = QWidget(splitter)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        self.tree = QTreeWidget(left)
        self.tree.setHeaderHidden(True)
        self.tree.setColumnCount(2)
        self.tree.setRootIsDecorated(False)
        self.tree.setIndentation(12)
        self.tree.header().setStretchLastSection(False)
        self.tree.header().setSectionResizeMode(0, QHeaderView.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeToContents)
        left_layout.addWidget(self.tree, 1)
        grid = QGridLayout()
        self.add_button = QPushButton("Add GGUF…", left)
        self.find_button = QPushButton("Find on disk…", left)
        self.default_button = QPushButton("Make default", left)
        self.remove_button = QPushButton("Remove", left)
        grid.addWidget(self.add_button, 0, 0)
        grid.addWidget(self.find_button, 0, 1)
        grid.addWidget(self.default_button, 1, 0)
        grid.addWidget(self.remove_button, 1, 1)
        left_layout.addLayout(grid)

        self.editor = ProfileEditor()
        scroll = QScrollArea(splitter)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.NoFrame)
        scroll.setWidget(self.editor)
        splitter.addWidget(left)
        splitter.addWidget(scroll)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([300, 640])
        page_layout = QVBoxLayout(page)
        page_layout.addWidget(splitter)
        self.tabs.addTab(page, "Models")

        self.discovery = DiscoverPanel(self)
        self.tabs.addTab(self.discovery, "Find GGUF files")
        self.catalog_page = self._catalog_page()
        if self.catalog_page is not None:
            self.tabs.addTab(self.catalog_page, "Get models")

        self.message = plain_label(parent=self)  # config and keyring errors: plain text
        self.message.setObjectName("managerMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.message.hide()
        layout.addWidget(self.message)
        buttons = QHBoxLayout()
        self.status = plain_label(parent=self)
        self.status.setObjectName("fieldNote")
        self.save_button = QPushButton("Save", self)
        self.save_button.setDefault(True)
        self.close_button = QPushButton("Close", self)
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)

        self.tree.currentItemChanged.connect(self._on_current_changed)
        self.add_button.clicked.connect(self._choose_gguf)
        self.find_button.clicked.connect(lambda: self.tabs.setCurrentWidget(self.discovery))
        self.default_button.clicked.connect(self.make_default)
        self.remove_button.clicked.connect(self.remove_current)
        self.save_button.clicked.connect(self.save)
        self.close_button.clicked.connect(self.reject)
        self.editor.edited.connect(self._update_status)
        self.discovery.add_requested.connect(self._add_discovered)

    def _catalog_page(self) -> QWidget | None:
        """The "Get models" tab (app.ui.catalog_page), or None in a build without it."""
        try:
            from app.ui.catalog_page import CatalogPage
        except ImportError:
            return None
        page = CatalogPage(self)
        page.model_added.connect(self.note_added_on_disk)
        return page

    def note_added_on_disk(self, config: ModelsConfig) -> None:
        """A download added entries to models.toml on disk: take them into the draft too (keeping
        unsaved edits), and tell the window (``models_changed``)."""
        if self.path is None or self.config is None:
            return
        try:
            disk = read_config_text(self.path)
        except ConfigError as exc:
            self.show_error(str(exc))
            return
        draft = disk
        if self.draft != self._disk_text:  # unsaved edits: add the new entries to them
            draft = self.draft
            for profile in config.models:
                if profile.id not in self.config.ids:
                    try:
                        draft = config_writer.add_model(draft, profile)
                    except ConfigError:
                        continue
        self._disk_text = disk
        new = [m.id for m in config.models if m.id not in self.config.ids]
        if self._apply(draft, new[-1] if new else self._current_id):
            self._update_status()
            self.models_changed.emit(config)

    def _set_enabled(self, enabled: bool) -> None:
        for widget in (self.editor, self.add_button, self.find_button, self.default_button, self.remove_button,
                       self.save_button, self.discovery):
            widget.setEnabled(enabled)

    # -- messages -----------------------------------------------------------------------

    def show_error(self, text: str, key: str | None = None) -> None:
        """Show an error above the buttons (and outline the field of ``key``)."""
        self.message.setProperty("kind", "error")
        self._show_message(text)
        self.editor.mark_invalid(key)

    def show_info(self, text: str) -> None:
        """Show a note above the buttons."""
        self.message.setProperty("kind", "info")
        self._show_message(text)

    def _show_message(self, text: str) -> None:
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)
        self.message.setText(text)
        self.message.show()

    def message_text(self) -> str:
        """The message shown (empty when none)."""
        return "" if self.message.isHidden() else self.message.text()

    def _config_error(self, exc: ConfigError) -> None:
        # Line numbers would point into the unsaved draft, so the detail is shown alone.
        self.show_error(f"Not saved — {exc.detail}", exc.key)

    def _update_status(self) -> None:
        dirty = self.draft != self._disk_text or bool(self._pending_keys) or bool(self.editor.changes()) \
            or bool(self.editor.api_key())
        self.status.setText("Unsaved changes" if dirty else "")

    # -- the list -----------------------------------------------------------------------

    def _refresh_list(self, select: str | None) -> None:
        """Rebuild the grouped list from ``self.config`` and select ``select``."""
        assert self.config is not None
        self._quiet, self._stale = True, False
        try:
            self.tree.clear()
            bold = QFont()
            bold.setBold(True)
            chosen = None
            for role, title in ROLE_TITLES:
                members = [m for m in self.config.models if m.role == role]
                if not members:
                    continue
                group = QTreeWidgetItem([title, ""])
                group.setFlags(Qt.ItemIsEnabled)
                group.setFont(0, bold)
                self.tree.addTopLevelItem(group)
                for profile in members:
                    item = QTreeWidgetItem([profile.label, self._status_of(profile)])
                    item.setIcon(0, role_icon(role))
                    item.setData(0, ID_ROLE, profile.id)
                    item.setToolTip(0, plain_tooltip(f"{profile.label}\n{profile.id} · {profile.backend}"))
                    if not profile.enabled:
                        item.setForeground(0, self.palette().placeholderText())
                    item.setForeground(1, self.palette().placeholderText())
                    group.addChild(item)
                    if profile.id == select:
                        chosen = item
                group.setExpanded(True)
            if chosen is None:
                chosen = self._first_model_item()
            if chosen is not None:
                self.tree.setCurrentItem(chosen)
        finally:
            self._quiet = False
        current = self.tree.currentItem()
        self._show_profile(current.data(0, ID_ROLE) if current else None)

    def _status_of(self, profile: ModelProfile) -> str:
        assert self.config is not None
        parts = []
        if profile.id == self.config.default:
            parts.append("★ default")
        if not profile.enabled:
            parts.append("off")
        return " · ".join(parts)

    def _first_model_item(self) -> QTreeWidgetItem | None:
        for index in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(index)
            if group.childCount():
                return group.child(0)
        return None

    def _item_for(self, model_id: str) -> QTreeWidgetItem | None:
        for index in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(index)
            for row in range(group.childCount()):
                if group.child(row).data(0, ID_ROLE) == model_id:
                    return group.child(row)
        return None

    def select(self, model_id: str) -> None:
        """Select the model ``model_id`` in the list (its edits are kept in the draft)."""
        item = self._item_for(model_id)
        if item is not None:
            self.tree.setCurrentItem(item)

    def current_id(self) -> str | None:
        """The id of the model shown in the editor."""
        return self._current_id

    def _on_current_changed(self, current: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None) -> None:
        if self._quiet:
            return
        target = current.data(0, ID_ROLE) if current is not None else None
        if target is None:  # a group heading
            return
        if not self._commit():
            previous = self._item_for(self._current_id) if self._current_id else None
            if previous is not None:
                self._quiet = True
                self.tree.setCurrentItem(previous)
                self._quiet = False
            return
        if self._stale:
            self._refresh_list(target)
        else:
            self._show_profile(target)

    def _show_profile(self, model_id: str | None) -> None:
        self._current_id = model_id
        if model_id is None or self.config is None:
            self.editor.setEnabled(False)
            return
        self.editor.setEnabled(True)
        profile = self.config.get(model_id)
        self.editor.load(profile, is_default=model_id == self.config.default)
        if profile.is_local:
            self.editor.capabilities.show_capabilities(self._capabilities(profile.path or ""), profile.n_ctx,
                                                       chat_template=profile.chat_template)
        self._update_status()

    def _capabilities(self, spec: str) -> Capabilities:
        if spec not in self._caps:
            try:
                self._caps[spec] = Capabilities(info=read_capabilities(paths.resolve_model_path(spec)))
            except PonderError as exc:
                self._caps[spec] = Capabilities(error=str(exc))
        return self._caps[spec]

    # -- edits --------------------------------------------------------------------------

    def _apply(self, new_text: str, select: str | None) -> bool:
        """Make ``new_text`` the draft if it is a valid models.toml; else show why."""
        try:
            config = parse_models(new_text, str(self.path), path=self.path)
        except ConfigError as exc:
            self._config_error(exc)
            return False
        self.draft, self.config = new_text, config
        self.message.hide()
        self.editor.mark_invalid(None)
        self._refresh_list(select)
        self._update_discovery_marks()
        return True

    def _commit(self) -> bool:
        """Move the editor's changes (and a typed API key) into the draft; False if invalid.

        The list is not rebuilt here (callers do, when they move on)."""
        if self.config is None or self._current_id is None:
            return True
        changes = self.editor.changes()
        new_id = changes.get("id") or self._current_id
        if changes:
            try:
                new_text = config_writer.update_model(self.draft, self._current_id, changes)
                config = parse_models(new_text, str(self.path), path=self.path)
            except ConfigError as exc:
                self._config_error(exc)
                return False
            self.draft, self.config = new_text, config
            self._current_id = new_id
            self._stale = True
            self.message.hide()
            self.editor.mark_invalid(None)
        if self.editor.api_key():
            self._pending_keys[new_id] = self.editor.api_key()
            self.editor.key_edit.clear()
        return True

    def make_default(self) -> None:
        """Make the selected model the default."""
        if not self._commit() or self._current_id is None:
            return
        model_id = self._current_id
        if self._apply(config_writer.set_default(self.draft, model_id), model_id):
            self.show_info(f"“{self.config.get(model_id).label}” will be the default after Save.")

    def remove_current(self) -> None:
        """Remove the selected model from the draft."""
        if not self._commit() or self._current_id is None:
            return
        model_id = self._current_id
        try:
            new_text = config_writer.remove_model(self.draft, model_id)
        except ConfigError as exc:
            self.show_error(exc.detail)
            return
        self._pending_keys.pop(model_id, None)
        if self._apply(new_text, None):
            self.show_info(f"Removed “{model_id}”; Save to make it final.")

    def _choose_gguf(self) -> None:
        file, _ = QFileDialog.getOpenFileName(self, "Add a GGUF model", str(Path.home()),
                                              "GGUF models (*.gguf);;All files (*)")
        if file:
            self.add_gguf(Path(file))

    def add_gguf(self, path: Path, label: str | None = None) -> str | None:
        """Add a profile for the GGUF file ``path`` (proposed from what the file says) to
        the draft and select it; returns its id, or None (with the error shown).
        ``label`` defaults to the file name."""
        if self.config is None or not self._commit():
            return None
        path = Path(path).expanduser()
        if not path.is_file():
            self.show_error(f"Not added — {path} is not a file; pick a .gguf model file.")
            return None
        try:
            info = read_capabilities(path)
        except PonderError as exc:
            self.show_error(f"Not added — {exc}")
            return None
        profile = propose_profile(path, info, self.config.ids, label)
        self._caps[str(path)] = Capabilities(info=info)
        try:
            new_text = config_writer.add_model(self.draft, profile)
        except ConfigError as exc:
            self.show_error(f"Not added — {exc.detail}")
            return None
        if not self._apply(new_text, profile.id):
            return None
        self.tabs.setCurrentIndex(0)
        self.show_info(f"Added “{profile.label}” ({profile.role}); check its settings, then Save.")
        return profile.id

    def _add_discovered(self, files: list[tuple[str, str]]) -> None:
        added = []
        for path, name in files:
            model_id = self.add_gguf(Path(path), name)
            if model_id is None:  # its error stays on screen
                return
            added.append(model_id)
        if len(added) > 1:
            self.show_info(f"Added {len(added)} models; check their settings, then Save.")

    def _update_discovery_marks(self) -> None:
        if self.config is not None:
            self.discovery.set_configured(m.path for m in self.config.models if m.path and not m.is_bundled)

    # -- saving -------------------------------------------------------------------------

    def save(self) -> bool:
        """Validate and write the draft, store typed API keys; emits ``models_changed``."""
        if self.config is None or self.path is None or not self._commit():
            return False
        try:
            on_disk = read_config_text(self.path)
        except ConfigError as exc:
            self.show_error(str(exc))
            return False
        if on_disk != self._disk_text:
            self.show_error(f"{self.path} was changed outside this window after it opened, so your edits "
                            "were not saved over it. Close this window and open it again.")
            return False
        for model_id, key in list(self._pending_keys.items()):
            try:
                self._set_key(model_id, key)
            except PonderError as exc:
                self.show_error(f"Not saved — {exc}")
                return False
            del self._pending_keys[model_id]
        try:
            config = config_writer.save_models_text(self.path, self.draft)
        except ConfigError as exc:  # invalid (named by key) or not writable (names the file)
            self.show_error(f"Not saved — {exc.detail}" if exc.key else str(exc), exc.key)
            return False
        self._disk_text, self.config = self.draft, config
        if self._stale:
            self._refresh_list(self._current_id)
        self.show_info(f"Saved to {self.path}.")
        self._update_status()
        self.models_changed.emit(config)
        return True
