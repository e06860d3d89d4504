"""What a local model's GGUF file says about itself, shown under the model manager's editor.

Architecture, parameters, quantization, file size, the memory it needs at the chosen
context (with whether it fits this machine), training context, chat template and thinking
support; "unknown" wherever the file, or this build, does not tell.

Slots only; it has no signals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QGroupBox, QLabel, QWidget

from app.domain.profiles import DEFAULT_N_CTX
from app.errors import PonderError
from app.ui.model_proposal import UNKNOWN, human_count, human_size, info_attr
from app.ui.plain import plain_label, plain_tooltip

LABEL_WIDTH = 112  # the label column, the same here and in every group of the profile editor


@dataclass
class Capabilities:
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
        self.note = plain_label(parent=self)
        self.note.setObjectName("fieldNote")
        self.note.setWordWrap(True)
        grid.addWidget(self.note, 0, 0, 1, 4)
        self.values: dict[str, QLabel] = {}
        half = (len(self.ROWS) + 1) // 2
        for index, (key, title) in enumerate(self.ROWS):
            row, column = 1 + index % half, 2 * (index // half)
            name = plain_label(title + ":", self)
            name.setAlignment(Qt.AlignRight | Qt.AlignTop)
            if column == 0:
                name.setMinimumWidth(LABEL_WIDTH)
            value = plain_label(UNKNOWN, self)  # the file's own strings; notes quote chat markers such as <|im_start|>
            value.setTextInteractionFlags(Qt.TextSelectableByMouse)
            value.setWordWrap(True)
            self.values[key] = value
            grid.addWidget(name, row, column)
            grid.addWidget(value, row, column + 1)

    def show_capabilities(self, caps: Capabilities, n_ctx: int | None, *, chat_template: str | None = None) -> None:
        """Fill the rows; "unknown" where the file (or the reader) does not tell. ``chat_template``
        is the profile's setting (a preset or a .jinja file), shown in the template row."""
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

        trained = info_attr(info, "context_length", "training_context", "n_ctx_train")
        template = info_attr(info, "chat_template", "template")
        markers = info_attr(info, "reasoning_markers")
        thinking = yes_no(info_attr(info, "supports_thinking"))
        if thinking == "yes" and markers:
            thinking += f"  ({markers[0].strip()} … {markers[1].strip()})"
        self.values["architecture"].setText(str(info_attr(info, "architecture") or UNKNOWN))
        self.values["parameters"].setText(human_count(info_attr(info, "parameter_count", "n_params")))
        self.values["quantization"].setText(str(info_attr(info, "quantization") or UNKNOWN))
        self.values["file"].setText(human_size(info_attr(info, "file_size")))
        self.values["context"].setText(f"{trained:,} tokens" if trained else UNKNOWN)
        self.values["template"].setText(_template_text(info, template, chat_template))
        self.values["thinking"].setText(thinking)
        self.values["forced"].setText(yes_no(info_attr(info, "forced_open")))
        self.values["switch"].setText(yes_no(info_attr(info, "enable_thinking_switch")))
        memory, explanation = _memory_text(info, n_ctx or DEFAULT_N_CTX)
        self.values["memory"].setText(memory)
        self.values["memory"].setToolTip(plain_tooltip(explanation))


def _template_text(info: Any, template: str | None, setting: str | None) -> str:
    """What the template row says: the file's template, or which preset is used and why."""
    try:
        from app.domain.chat_presets import resolve_chat_template
        markers = info_attr(info, "vocab_markers") or frozenset()
        _, note = resolve_chat_template(setting, template, str(info_attr(info, "architecture") or ""),
                                        lambda marker: marker in markers)
    except (ImportError, PonderError) as exc:
        return f"{'yes' if template else 'none in the file'} ({exc})"
    if not note:
        return f"yes ({len(template or ''):,} characters)"
    return note[0].upper() + note[1:]


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
