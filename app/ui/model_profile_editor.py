"""The model manager's editor of one models.toml entry: profile, connection, reasoning.

Groups: Profile (label, id, role, shown in the switcher, model file, context, chat
template — the file's own, a preset or a .jinja file —, temperature, system prompt); Connection, for cloud models (base URL, model name, API key, key variable);
Reasoning (markers and forced open for local models, budget, carry); and, for local models,
the :class:`~app.ui.model_capabilities_panel.CapabilitiesPanel`. ``changes()`` says which
keys differ from the loaded profile; a typed API key is kept apart (``api_key()``).

Signals:
    edited()   a field was changed by the user
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.domain.chat_presets import PRESETS
from app.domain.profiles import CARRY_MODES, ModelProfile, ReasoningSettings
from app.ui.model_capabilities_panel import LABEL_WIDTH, CapabilitiesPanel
from app.ui.model_lookups import keyring_note
from app.ui.plain import plain_label
from app.domain.profiles import DEFAULT_N_CTX
from app.ui.model_switcher import ROLE_TITLES, role_icon

FILE_TEMPLATE = "From the file (automatic)"
FORCED_CHOICES = (("Auto — detect from the chat template", None), ("On", True), ("Off", False))
CARRY_TEXT = {"strip": "strip — drop earlier reasoning", "keep-last": "keep-last — keep the last turn's",
              "keep-all": "keep-all — keep all of it"}


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


class ProfileEditor(QWidget):
    """The fields of one model entry. ``changes()`` says what differs from the loaded profile.

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

        self.title = plain_label(parent=self)
        self.title.setObjectName("editorTitle")
        self.subtitle = plain_label(parent=self)
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
        self.template_combo = QComboBox(self)
        self.template_combo.setEditable(True)  # a preset from the list, or the path of a .jinja file
        self.template_combo.addItem(FILE_TEMPLATE, None)
        for name in PRESETS:
            self.template_combo.addItem(name, name)
        self.template_combo.setToolTip("The GGUF's own chat template, or a preset (for files with none or a "
                                       "broken one), or type the path of a .jinja file.")
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
        self._row(form, "Chat template:", self.template_combo)
        self.local_rows.append((form, self.template_combo))
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
        key_note = plain_label(keyring_note(), self)
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
        pair.addWidget(plain_label("…", markers))
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
            "carry": self.carry_combo, "chat_template": self.template_combo,
        }
        for edit in (self.id_edit, self.label_edit, self.path_edit, self.ctx_edit, self.temp_edit, self.url_edit,
                     self.model_edit, self.env_edit, self.key_edit, self.start_edit, self.end_edit):
            edit.textEdited.connect(self._on_edited)
        for combo in (self.role_combo, self.forced_combo, self.carry_combo, self.template_combo):
            combo.activated.connect(self._on_edited)
        self.template_combo.lineEdit().textEdited.connect(self._on_edited)
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
        label = plain_label(text, self)
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
            self.set_chat_template(profile.chat_template)
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

    def set_chat_template(self, setting: str | None) -> None:
        """Show ``setting`` (None: the file's own template) in the chat template field."""
        index = self.template_combo.findData(setting) if setting else 0
        if index >= 0:
            self.template_combo.setCurrentIndex(index)
        else:
            self.template_combo.setEditText(setting or "")

    def chat_template(self) -> str | None:
        """The chat template chosen: None for the file's own, else a preset name or a path."""
        text = self.template_combo.currentText().strip()
        if not text or text == FILE_TEMPLATE:
            return None
        return text

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
            wanted["chat_template"] = self.chat_template()
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
