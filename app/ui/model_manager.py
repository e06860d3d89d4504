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

Signals:
    models_changed(object ModelsConfig): after a successful save, with the saved models.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
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
from app.domain.profiles import CARRY_MODES, ModelProfile, ModelsConfig, ReasoningSettings
from app.domain.reasoning.detect import detect_reasoning
from app.errors import ConfigError, PonderError
from app.ui.model_switcher import ROLE_TITLES, role_icon

ID_ROLE = Qt.UserRole + 1
DEFAULT_N_CTX = 8192  # what the llama backend allocates when n_ctx is not set
PROPOSED_CTX = {"instruct": 8192, "reasoning": 16384}  # reasoning needs room to think
UNKNOWN = "unknown"
LABEL_WIDTH = 112  # the editor's label column, the same in every group
FORCED_CHOICES = (("Auto — detect from the chat template", None), ("On", True), ("Off", False))
CARRY_TEXT = {"strip": "strip — drop earlier reasoning", "keep-last": "keep-last — keep the last turn's",
              "keep-all": "keep-all — keep all of it"}
SEARCH_NOTE = ("Discover looks in LM Studio's models, Ollama's store and the Hugging Face cache, "
               "and in the folders below (kept until this window closes).")
SOURCE_NAMES = {"lmstudio": "LM Studio", "ollama": "Ollama", "huggingface": "Hugging Face", "folder": "Folder"}
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


# ---------------------------------------------------------------------------------------
# Lookups of the sibling modules (imported lazily; the dialog works without them)


def read_capabilities(path: Path) -> Any | None:
    """``read_gguf_info(path)``, or None when the reader is not available in this build.

    Raises :class:`PonderError` (``ModelFileError``) for a missing or damaged file.
    """
    try:
        from app.backends.gguf_info import read_gguf_info
    except ImportError:
        return None
    return read_gguf_info(path)


def find_gguf_files(extra_folders: Iterable[Path]) -> list[Any] | None:
    """``Found`` GGUF files in the usual places and ``extra_folders`` (``discover_gguf``);
    None when discovery is not available in this build."""
    try:
        from app.domain.discovery import DiscoveryRoots, discover_gguf
    except ImportError:
        return None
    return list(discover_gguf(DiscoveryRoots.default(extra=tuple(Path(f) for f in extra_folders))))


def keyring_note() -> str:
    """Where a typed key goes; says so plainly when this system has no keyring."""
    try:
        from app.backends.cloud.keys import keyring_problem
    except ImportError:
        return "Keys cannot be stored in this build; use the key variable below."
    problem = keyring_problem()
    if problem:
        return (f"Keys cannot be stored here: {problem}. Set the key in the environment variable "
                "named below (Key variable) instead.")
    return "Kept in the system keyring, never in models.toml."


def default_set_key(model_id: str, key: str) -> None:
    """Keep ``key`` in the system keyring (``app.backends.cloud.keys.set_key``)."""
    try:
        from app.backends.cloud.keys import set_key
    except ImportError as exc:
        raise PonderError("API keys cannot be stored in this build of Ponder; set the key in the "
                          "environment variable named by api_key_env instead.") from exc
    set_key(model_id, key)


# ---------------------------------------------------------------------------------------
# Pure helpers


def human_size(n: int | None) -> str:
    """Bytes as download pages quote them: "98 MB", "4.7 GB"."""
    if not n:
        return UNKNOWN
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}" if unit == "GB" else f"{n / scale:.0f} {unit}"
    return f"{n} B"


def human_count(n: int | None) -> str:
    """A parameter count: "135 M", "7.6 B"."""
    if not n:
        return UNKNOWN
    if n >= 1e9:
        return f"{n / 1e9:.1f} B"
    return f"{n / 1e6:.0f} M" if n >= 1e6 else f"{n:,}"


def slug(text: str) -> str:
    """An id made from a file name: lower case, letters, digits, "-" and "_"."""
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9_-]+", "-", text.lower())).strip("-_") or "model"


def unique_id(base: str, taken: Iterable[str]) -> str:
    """``base``, or ``base-2``, ``base-3``... whichever is not taken."""
    taken = set(taken)
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def _attr(info: Any, *names: str) -> Any:
    for name in names:
        value = getattr(info, name, None)
        if value is not None:
            return value
    return None


def propose_profile(path: Path, info: Any | None, taken: Iterable[str], label: str | None = None) -> ModelProfile:
    """A profile for a GGUF file: id and label from the file name (or ``label``), role and
    reasoning settings from what the file's chat template shows."""
    quant = _attr(info, "quantization") if info is not None else None
    if info is not None:
        thinks = bool(_attr(info, "supports_thinking"))
        markers = _attr(info, "reasoning_markers")
        forced = _attr(info, "forced_open")
    else:  # no reader: the file name is the only witness
        detection = detect_reasoning(None, path.name)
        thinks = detection.supports_thinking
        markers = (detection.spec.start, detection.spec.end) if detection.spec else None
        forced = None
    role = "reasoning" if thinks else "instruct"
    trained = _attr(info, "context_length", "training_context", "n_ctx_train") if info is not None else None
    reasoning = None
    if thinks:
        start, end = markers if markers else (None, None)
        reasoning = ReasoningSettings(start=start, end=end, forced_open=forced)
    # The file name is what users recognise (general.name is often a training run's name);
    # of a discovered "org/repo/file.gguf" only the file part.
    base = (label or path.stem).rsplit("/", 1)[-1]
    base = base[:-5] if base.lower().endswith(".gguf") else base
    label = base + (f" · {quant}" if quant and quant != UNKNOWN and quant.lower() not in base.lower() else "")
    return ModelProfile(
        id=unique_id(slug(base), taken), label=label, role=role, backend="llama", path=str(path),
        n_ctx=min(int(trained), PROPOSED_CTX[role]) if trained else None, reasoning=reasoning,
    )


def _number(text: str) -> int | float | str | None:
    """An edit field's number: None when empty; the text itself when it is not a number
    (validation then names the key and what it must be)."""
    text = text.strip()
    if not text:
        return None
    for kind in (int, float):
        try:
            return kind(text.replace(",", ""))
        except ValueError:
            pass
    return text


def _optional_text(text: str) -> str | None:
    return text.strip() or None


# ---------------------------------------------------------------------------------------
# Widgets


@dataclass
class _Capabilities:
    """What the capabilities panel shows for one file (an error, or the reader's info)."""

    info: Any | None = None
    error: str | None = None


class CapabilitiesPanel(QGroupBox):
    """What a local model's GGUF file says: architecture, size, context, thinking support."""

    ROWS = (("architecture", "Architecture"), ("parameters", "Parameters"), ("quantization", "Quantization"),
            ("file", "File size"), ("memory", "Memory"), ("context", "Training context"),
            ("template", "Chat template"), ("thinking", "Thinks"), ("forced", "Forced open"),
            ("switch", "enable_thinking"))

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("What the file says", parent)
        grid = QGridLayout(self)
        grid.setHorizontalSpacing(10)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        self.note = QLabel(self)
        self.note.setObjectName("fieldNote")
        self.note.setWordWrap(True)
        grid.addWidget(self.note, 0, 0, 1, 4)
        self.values: dict[str, QLabel] = {}
        half = (len(self.ROWS) + 1) // 2
        for index, (key, title) in enumerate(self.ROWS):
            row, column = 1 + index % half, 2 * (index // half)
            name = QLabel(title + ":", self)
            name.setAlignment(Qt.AlignRight | Qt.AlignTop)
            if column == 0:
                name.setMinimumWidth(LABEL_WIDTH)
            value = QLabel(UNKNOWN, self)
            value.setTextInteractionFlags(Qt.TextSelectableByMouse)
            value.setWordWrap(True)
            self.values[key] = value
            grid.addWidget(name, row, column)
            grid.addWidget(value, row, column + 1)

    def show_capabilities(self, caps: _Capabilities, n_ctx: int | None) -> None:
        """Fill the rows; "unknown" where the file (or the reader) does not tell."""
        info = caps.info
        for label in self.values.values():
            label.setText(UNKNOWN)
        self.note.setVisible(bool(caps.error) or info is None)
        if caps.error:
            self.note.setText(caps.error)
            return
        if info is None:
            self.note.setText("The GGUF reader is not available in this build, so the file's details are unknown.")
            return

        def yes_no(value: Any) -> str:
            return UNKNOWN if value is None else ("yes" if value else "no")

        trained = _attr(info, "context_length", "training_context", "n_ctx_train")
        template = _attr(info, "chat_template", "template")
        markers = _attr(info, "reasoning_markers")
        thinking = yes_no(_attr(info, "supports_thinking"))
        if thinking == "yes" and markers:
            thinking += f"  ({markers[0].strip()} … {markers[1].strip()})"
        self.values["architecture"].setText(str(_attr(info, "architecture") or UNKNOWN))
        self.values["parameters"].setText(human_count(_attr(info, "parameter_count", "n_params")))
        self.values["quantization"].setText(str(_attr(info, "quantization") or UNKNOWN))
        self.values["file"].setText(human_size(_attr(info, "file_size")))
        self.values["context"].setText(f"{trained:,} tokens" if trained else UNKNOWN)
        self.values["template"].setText(f"yes ({len(template):,} characters)" if template else "none in the file")
        self.values["thinking"].setText(thinking)
        self.values["forced"].setText(yes_no(_attr(info, "forced_open")))
        self.values["switch"].setText(yes_no(_attr(info, "enable_thinking_switch")))
        memory, explanation = _memory_text(info, n_ctx or DEFAULT_N_CTX)
        self.values["memory"].setText(memory)
        self.values["memory"].setToolTip(explanation)


def _memory_text(info: Any, n_ctx: int) -> tuple[str, str]:
    """("≈ 753 MB · fits", the verdict's explanation) when the fit estimate is available."""
    shape = getattr(info, "shape", None)
    if shape is None:
        return UNKNOWN, ""
    try:
        from app.domain.hardware_fit import estimate_memory, fit_verdict, format_bytes, machine_memory
        estimate = estimate_memory(shape(), n_ctx)
        verdict = fit_verdict(estimate, machine_memory().available_bytes)
    except (ImportError, ValueError, ArithmeticError):
        return UNKNOWN, ""
    return f"≈ {format_bytes(estimate.total)} · {verdict.status}", verdict.explanation


class ProfileEditor(QWidget):
    """The fields of one model entry. ``changes(profile)`` says what differs from it.

    Signals:
        edited(): a field was changed by the user.
    """

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._profile: ModelProfile | None = None
        self._loading = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

        self.title = QLabel(self)
        self.title.setObjectName("editorTitle")
        self.subtitle = QLabel(self)
        self.subtitle.setObjectName("editorSubtitle")
        self.subtitle.setTextInteractionFlags(Qt.TextSelectableByMouse)
        for label in (self.title, self.subtitle):  # long names and paths wrap, never widen the editor
            label.setWordWrap(True)
            label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)

        self.profile_box = QGroupBox("Profile", self)
        form = self._form(self.profile_box)
        self.id_edit = QLineEdit(self)
        self.label_edit = QLineEdit(self)
        self.role_combo = QComboBox(self)
        for role, title in ROLE_TITLES:
            self.role_combo.addItem(role_icon(role), title, role)
        self.enabled_check = QCheckBox("Show in the model switcher", self)
        self.path_edit = QLineEdit(self)
        self.path_edit.setPlaceholderText('a .gguf file, or "bundled:smollm2"')
        self.ctx_edit = QLineEdit(self)
        self.temp_edit = QLineEdit(self)
        self.temp_edit.setPlaceholderText("model default (0 – 2)")
        self.prompt_edit = QPlainTextEdit(self)
        self.prompt_edit.setPlaceholderText("none")
        self.prompt_edit.setFixedHeight(56)
        self._row(form, "Label:", self.label_edit)
        self._row(form, "ID:", self.id_edit)
        role_row = QWidget(self)
        pair = QHBoxLayout(role_row)
        pair.setContentsMargins(0, 0, 0, 0)
        pair.addWidget(self.role_combo)
        pair.addSpacing(16)
        pair.addWidget(self.enabled_check)
        pair.addStretch(1)
        self._row(form, "Role:", role_row)
        self._row(form, "Model file:", self.path_edit)
        self.local_rows: list[tuple[QFormLayout, QWidget]] = [(form, self.path_edit)]  # shown for local models
        self.ctx_label = self._row(form, "Context (n_ctx):", self.ctx_edit)
        self._row(form, "Temperature:", self.temp_edit)
        self._row(form, "System prompt:", self.prompt_edit)
        layout.addWidget(self.profile_box)

        self.cloud_box = QGroupBox("Connection", self)
        form = self._form(self.cloud_box)
        self.url_edit = QLineEdit(self)
        self.url_edit.setPlaceholderText("https://…/v1")
        self.model_edit = QLineEdit(self)
        self.model_edit.setPlaceholderText("the provider's model name")
        self.env_edit = QLineEdit(self)
        self.env_edit.setPlaceholderText("optional, e.g. OPENAI_API_KEY")
        self.key_edit = QLineEdit(self)
        self.key_edit.setEchoMode(QLineEdit.Password)
        self.key_edit.setPlaceholderText("paste a key to store it")
        key_note = QLabel(keyring_note(), self)
        key_note.setObjectName("fieldNote")
        key_note.setWordWrap(True)
        self._row(form, "Base URL:", self.url_edit)
        self._row(form, "Model name:", self.model_edit)
        self._row(form, "API key:", self.key_edit)
        self._row(form, "", key_note)
        self._row(form, "Key variable:", self.env_edit)
        layout.addWidget(self.cloud_box)

        self.reasoning_box = QGroupBox("Reasoning", self)
        form = self._form(self.reasoning_box)
        self.start_edit = QLineEdit(self)
        self.end_edit = QLineEdit(self)
        for edit, what in ((self.start_edit, "start"), (self.end_edit, "end")):
            edit.setPlaceholderText(f"{what}: detected")
        markers = QWidget(self)
        pair = QHBoxLayout(markers)
        pair.setContentsMargins(0, 0, 0, 0)
        pair.addWidget(self.start_edit)
        pair.addWidget(QLabel("…", markers))
        pair.addWidget(self.end_edit)
        self.forced_combo = QComboBox(self)
        for text, value in FORCED_CHOICES:
            self.forced_combo.addItem(text, value)
        self.budget_spin = QSpinBox(self)
        self.budget_spin.setRange(0, 10_000_000)
        self.budget_spin.setSingleStep(256)
        self.budget_spin.setSpecialValueText("no limit")
        self.budget_spin.setSuffix(" tokens")
        self.carry_combo = QComboBox(self)
        for mode in CARRY_MODES:
            self.carry_combo.addItem(CARRY_TEXT.get(mode, mode), mode)
        self._row(form, "Markers:", markers)
        self._row(form, "Forced open:", self.forced_combo)
        self.local_rows += [(form, markers), (form, self.forced_combo)]  # cloud providers mark reasoning
        self._row(form, "Budget:", self.budget_spin)
        self._row(form, "Carry:", self.carry_combo)
        layout.addWidget(self.reasoning_box)

        self.capabilities = CapabilitiesPanel(self)
        layout.addWidget(self.capabilities)
        layout.addStretch(1)

        self.fields: dict[str, QWidget] = {
            "id": self.id_edit, "label": self.label_edit, "role": self.role_combo, "enabled": self.enabled_check,
            "path": self.path_edit, "n_ctx": self.ctx_edit, "context_window": self.ctx_edit,
            "temperature": self.temp_edit, "system_prompt": self.prompt_edit, "base_url": self.url_edit,
            "model": self.model_edit, "api_key_env": self.env_edit, "start": self.start_edit,
            "end": self.end_edit, "forced_open": self.forced_combo, "budget": self.budget_spin,
            "carry": self.carry_combo,
        }
        for edit in (self.id_edit, self.label_edit, self.path_edit, self.ctx_edit, self.temp_edit, self.url_edit,
                     self.model_edit, self.env_edit, self.key_edit, self.start_edit, self.end_edit):
            edit.textEdited.connect(self._on_edited)
        for combo in (self.role_combo, self.forced_combo, self.carry_combo):
            combo.activated.connect(self._on_edited)
        self.enabled_check.clicked.connect(self._on_edited)
        self.budget_spin.valueChanged.connect(self._on_edited)
        self.prompt_edit.textChanged.connect(self._on_edited)
        self.key_edit.textEdited.connect(self._on_key_edited)

    @staticmethod
    def _form(box: QGroupBox) -> QFormLayout:
        form = QFormLayout(box)
        form.setLabelAlignment(Qt.AlignRight)
        form.setFieldGrowthPolicy(QFormLayout.ExpandingFieldsGrow)
        return form

    def _row(self, form: QFormLayout, text: str, field: QWidget) -> QLabel:
        label = QLabel(text, self)
        label.setMinimumWidth(LABEL_WIDTH)
        label.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        form.addRow(label, field)
        return label

    def _on_edited(self, *_: Any) -> None:
        if not self._loading:
            self.edited.emit()

    def _on_key_edited(self, text: str) -> None:
        # giving a key is what a disabled cloud entry waits for
        if text.strip() and self._profile is not None and not self._profile.enabled:
            self.enabled_check.setChecked(True)

    @property
    def profile(self) -> ModelProfile | None:
        """The profile shown (as it was loaded)."""
        return self._profile

    def load(self, profile: ModelProfile, *, is_default: bool = False) -> None:
        """Show ``profile`` in the fields (clearing the API key field)."""
        self._loading = True
        try:
            self._profile = profile
            self.mark_invalid(None)
            self.title.setText(profile.label + ("   ★ default" if is_default else ""))
            where = profile.path if profile.is_local else (profile.base_url or "")
            self.subtitle.setText(f"{profile.id} · backend {profile.backend} · {where}")
            self.id_edit.setText(profile.id)
            self.label_edit.setText(profile.label)
            self.role_combo.setCurrentIndex(max(0, self.role_combo.findData(profile.role)))
            self.enabled_check.setChecked(profile.enabled)
            local = profile.is_local
            for form, field in self.local_rows:
                form.setRowVisible(field, local)
            self.path_edit.setText(profile.path or "")
            self.ctx_label.setText("Context (n_ctx):" if local else "Context window:")
            self.ctx_edit.setPlaceholderText(f"default ({DEFAULT_N_CTX:,})" if local else "unknown")
            ctx = profile.n_ctx if local else profile.context_window
            self.ctx_edit.setText("" if ctx is None else str(ctx))
            self.temp_edit.setText("" if profile.temperature is None else f"{profile.temperature:g}")
            self.prompt_edit.setPlainText(profile.system_prompt or "")
            self.cloud_box.setVisible(not local)
            self.url_edit.setText(profile.base_url or "")
            self.model_edit.setText(profile.model or "")
            self.env_edit.setText(profile.api_key_env or "")
            self.key_edit.clear()
            reasoning = profile.reasoning or ReasoningSettings()
            self.start_edit.setText(reasoning.start or "")
            self.end_edit.setText(reasoning.end or "")
            self.forced_combo.setCurrentIndex(max(0, self.forced_combo.findData(reasoning.forced_open)))
            self.budget_spin.setValue(reasoning.budget)
            self.carry_combo.setCurrentIndex(max(0, self.carry_combo.findData(reasoning.carry)))
            self.capabilities.setVisible(local)
        finally:
            self._loading = False

    def api_key(self) -> str:
        """The key typed into the API key field (stripped; empty when none)."""
        return self.key_edit.text().strip()

    def changes(self) -> dict[str, Any]:
        """The keys whose values differ from the loaded profile (``None`` = remove the key)."""
        p = self._profile
        if p is None:
            return {}
        local = p.is_local
        ctx_key = "n_ctx" if local else "context_window"
        wanted: dict[str, Any] = {
            "id": self.id_edit.text().strip(),
            "label": self.label_edit.text().strip() or None,
            "role": self.role_combo.currentData(),
            "enabled": self.enabled_check.isChecked(),
            ctx_key: _number(self.ctx_edit.text()),
            "temperature": _number(self.temp_edit.text()),
            "system_prompt": self.prompt_edit.toPlainText() or None,
        }
        if local:
            wanted["path"] = self.path_edit.text().strip()
        else:
            wanted.update(base_url=_optional_text(self.url_edit.text()), model=_optional_text(self.model_edit.text()),
                          api_key_env=_optional_text(self.env_edit.text()))
        current = {key: getattr(p, key) for key in wanted}
        if wanted["label"] is None and p.label == p.id:
            current["label"] = None  # no label key: the id is shown
        if wanted["system_prompt"] is None and p.system_prompt == "":
            current["system_prompt"] = None
        changes = {key: value for key, value in wanted.items() if value != current[key]}
        old = p.reasoning or ReasoningSettings()
        new = ReasoningSettings(
            start=_optional_text(self.start_edit.text()), end=_optional_text(self.end_edit.text()),
            forced_open=self.forced_combo.currentData(), budget=self.budget_spin.value(),
            carry=self.carry_combo.currentData(),
        )
        reasoning = {key: getattr(new, key) for key in ("start", "end", "forced_open", "budget", "carry")
                     if getattr(new, key) != getattr(old, key)}
        if reasoning:
            changes["reasoning"] = reasoning
        return changes

    def mark_invalid(self, key: str | None) -> None:
        """Outline the field of ``key`` in red (``None`` clears every outline)."""
        target = self.fields.get(key) if key else None
        for widget in set(self.fields.values()):
            bad = widget is target
            if bool(widget.property("invalid")) != bad:
                widget.setProperty("invalid", bad)
                widget.style().unpolish(widget)
                widget.style().polish(widget)
        if target is not None:
            target.setFocus()


class DiscoverPanel(QWidget):
    """GGUF files found on disk, with their source, name and size, to add to the models.

    Signals:
        add_requested(list files): the user asked to add these ``(path, name)`` pairs.
    """

    add_requested = Signal(list)
    NAME_ROLE = ID_ROLE + 1

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.extra_folders: list[Path] = []
        self._configured: set[str] = set()
        layout = QVBoxLayout(self)
        note = QLabel(SEARCH_NOTE, self)
        note.setObjectName("fieldNote")
        note.setWordWrap(True)
        layout.addWidget(note)

        folders = QGridLayout()
        folders.addWidget(QLabel("Also search:", self), 0, 0, Qt.AlignTop)
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
        self.status = QLabel("Press Discover to look for model files.", self)
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
            item.setData(0, ID_ROLE, str(entry.path))
            item.setData(0, self.NAME_ROLE, str(entry.name))
            item.setToolTip(0, str(entry.name))
            item.setToolTip(3, str(entry.path))
            item.setTextAlignment(2, Qt.AlignRight | Qt.AlignVCenter)
            self._mark(item)
            self.results.addTopLevelItem(item)
        count = len(found)
        self.status.setText(f"Found {count} GGUF file{'s' if count != 1 else ''}." if count
                            else "No GGUF files found. Add a folder above, or use “Add GGUF…” on the Models tab.")

    def _mark(self, item: QTreeWidgetItem) -> None:
        added = item.data(0, ID_ROLE) in self._configured
        for column in range(item.columnCount()):
            item.setForeground(column, self.palette().placeholderText() if added else self.palette().text())
        item.setText(1, item.text(1).removesuffix(" · added") + (" · added" if added else ""))

    @classmethod
    def _file(cls, item: QTreeWidgetItem) -> tuple[str, str]:
        return item.data(0, ID_ROLE), item.data(0, cls.NAME_ROLE)

    def selected(self) -> list[tuple[str, str]]:
        """The ``(path, name)`` of the files selected in the list."""
        return [self._file(item) for item in self.results.selectedItems()]


# ---------------------------------------------------------------------------------------
# The dialog


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
        self._caps: dict[str, _Capabilities] = {}
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

        self.message = QLabel(self)
        self.message.setObjectName("managerMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.message.hide()
        layout.addWidget(self.message)
        buttons = QHBoxLayout()
        self.status = QLabel(self)
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
                    item.setToolTip(0, f"{profile.label}\n{profile.id} · {profile.backend}")
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
            self.editor.capabilities.show_capabilities(self._capabilities(profile.path or ""), profile.n_ctx)
        self._update_status()

    def _capabilities(self, spec: str) -> _Capabilities:
        if spec not in self._caps:
            try:
                self._caps[spec] = _Capabilities(info=read_capabilities(paths.resolve_model_path(spec)))
            except PonderError as exc:
                self._caps[spec] = _Capabilities(error=str(exc))
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
        self._caps[str(path)] = _Capabilities(info=info)
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

