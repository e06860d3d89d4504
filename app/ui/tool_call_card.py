"""A tool call inline in an assistant message, where it happened in the trace.

The card shows the tool's name, its FULL arguments (pretty JSON; for the python tool the
code, in a fixed-width font), its state, and once finished its result (a preview that expands
to the whole text), duration, result tokens and any error. Everything from the model or the
tool is plain text.

While a call waits for approval the card is open and its arguments are editable: Run (or
"Allow for this conversation" / "Always allow", which run it too) sends the arguments as
edited — JSON that does not parse, or is not an object, is refused on the card with the
reason and nothing is sent —; Deny declines it. What the tool can reach on this machine (the
approval event's ``reach``) is said above the buttons. A running call has a Stop button.
A finished call folds to one line (``▸ calculator {"expression": "6*7"} → 42 · 0.01 s ·
9 tokens``): click it, or Space/Enter on it, to open it again.

Signals:
    approved(str call_id, object arguments, str remember) — Run; ``remember`` is "",
        "conversation" or "always"
    denied(str call_id) — Deny
    stop_requested() — Stop while the tool runs (stops the turn)
    toggled(bool expanded) — the user opened or folded the card
"""

from __future__ import annotations

import json

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from app.domain.messages import ToolCallPart
from app.domain.tools.records import arguments_text
from app.ui import format as fmt
from app.ui.collapsible import StickyExpansion, fit_to_lines
from app.ui.plain import plain_label
from app.ui.thinking_panel import ThinkingHeader

PREVIEW_LINES, PREVIEW_CHARS = 3, 300
ARGS_MAX_PX, RESULT_MAX_PX = 260, 300
HEADER_ARGS_CHARS, HEADER_RESULT_CHARS = 60, 60
REMEMBER = ("", "conversation", "always")
UNFINISHED_NOTE = "Not run: the turn ended before this call finished."
DENIED_NOTE = "Denied: the model was told you declined this call."


def _one_line(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def code_of(part: ToolCallPart) -> str | None:
    """The code of a python call (what its card edits), else None."""
    code = part.call.arguments.get("code")
    return code if part.call.name == "python" and isinstance(code, str) else None


def _preview(text: str) -> str:
    lines = text.strip("\n").splitlines()
    out = "\n".join(lines[:PREVIEW_LINES])
    if len(out) > PREVIEW_CHARS:
        out = out[: PREVIEW_CHARS - 1].rstrip() + "…"
    elif len(lines) > PREVIEW_LINES:
        out += "\n…"
    return out


class _FittedText(QPlainTextEdit):
    """A fixed-width text box as tall as its text, up to ``max_px`` (then it scrolls)."""

    def __init__(self, max_px: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.max_px = max_px
        mono = QFontDatabase.systemFont(QFontDatabase.FixedFont)
        mono.setPointSizeF(max(7.0, mono.pointSizeF() * 0.9))
        self.setFont(mono)
        self.setLineWrapMode(QPlainTextEdit.WidgetWidth)
        self.setTabChangesFocus(True)
        self.document().documentLayout().documentSizeChanged.connect(self._fit)
        self._fit()

    def _fit(self, *_args) -> None:
        fit_to_lines(self, self.max_px, 0.3)

    def resizeEvent(self, event) -> None:  # noqa: N802 - a new width re-wraps the text
        super().resizeEvent(event)
        self._fit()


class ToolCallCard(StickyExpansion, QFrame):
    """One tool call: header, arguments, approval controls, result (see the module docstring)."""

    approved = Signal(str, object, str)
    denied = Signal(str)
    stop_requested = Signal()
    toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("toolCallCard")
        self.part: ToolCallPart | None = None
        self.result_tokens: int | None = None
        self.user_touched = False
        self._expanded = True
        self._seen: tuple | None = None  # what the card last showed (see _signature)
        self._editing = False  # the arguments box holds the user's edits
        self._sent = False  # Run or Deny was pressed for the current approval
        self._turn_over = False

        self.header = ThinkingHeader(self)
        self.header.setObjectName("toolCardHeader")
        self.header.activated.connect(self._on_header)
        self.status = plain_label(parent=self)
        self.status.setObjectName("toolCardStatus")
        self.status.setWordWrap(True)
        self.reach = plain_label(parent=self)
        self.reach.setObjectName("toolCardReach")
        self.reach.setWordWrap(True)
        self.args_title = plain_label("Arguments", self)
        self.args_title.setObjectName("toolCardTitle")
        self.args_edit = _FittedText(ARGS_MAX_PX, self)
        self.args_edit.setObjectName("toolCardArguments")
        self.args_edit.setReadOnly(True)
        self.args_error = plain_label(parent=self)
        self.args_error.setObjectName("toolCardError")
        self.args_error.setWordWrap(True)
        self.args_error.hide()

        self.run_button = QPushButton("Run", self)
        self.run_button.setToolTip("Run this call with the arguments shown (edited or not)")
        self.allow_conversation_button = QPushButton("Allow for this conversation", self)
        self.allow_conversation_button.setToolTip("Run it, and run this tool without asking for the rest of "
                                                  "this conversation")
        self.allow_always_button = QPushButton("Always allow", self)
        self.allow_always_button.setToolTip("Run it, and never ask again for this tool")
        self.deny_button = QPushButton("Deny", self)
        self.deny_button.setToolTip("Do not run it; the model is told you declined")
        self.run_button.clicked.connect(lambda: self._approve(""))
        self.allow_conversation_button.clicked.connect(lambda: self._approve("conversation"))
        self.allow_always_button.clicked.connect(lambda: self._approve("always"))
        self.deny_button.clicked.connect(self._deny)
        self.approval_row = QWidget(self)
        row = QHBoxLayout(self.approval_row)
        row.setContentsMargins(0, 0, 0, 0)
        for button in (self.run_button, self.allow_conversation_button, self.allow_always_button):
            row.addWidget(button)
        row.addStretch(1)
        row.addWidget(self.deny_button)
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setToolTip("Stop the tool and the turn (Esc)")
        self.stop_button.clicked.connect(self.stop_requested)

        self.result_title = plain_label("Result", self)
        self.result_title.setObjectName("toolCardTitle")
        self.result_preview = plain_label(parent=self)
        self.result_preview.setObjectName("toolCardResultPreview")
        self.result_preview.setWordWrap(True)
        self.result_preview.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.result_view = _FittedText(RESULT_MAX_PX, self)
        self.result_view.setObjectName("toolCardResult")
        self.result_view.setReadOnly(True)
        self.result_view.hide()
        self.result_toggle = QPushButton("Show the whole result", self)
        self.result_toggle.setFlat(True)
        self.result_toggle.clicked.connect(lambda: self.show_full_result(self.result_view.isHidden()))
        self.result_note = plain_label(parent=self)
        self.result_note.setObjectName("toolCardNote")
        self.result_note.setWordWrap(True)

        self.details = QWidget(self)
        details = QVBoxLayout(self.details)
        details.setContentsMargins(14, 0, 0, 0)
        details.setSpacing(3)
        for widget in (self.reach, self.args_title, self.args_edit, self.args_error, self.approval_row,
                       self.stop_button, self.result_title, self.result_preview, self.result_view,
                       self.result_toggle, self.result_note):
            details.addWidget(widget)
        for button in (self.stop_button, self.result_toggle):
            details.setAlignment(button, Qt.AlignLeft)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setSpacing(2)
        layout.addWidget(self.header)
        layout.addWidget(self.status)
        layout.addWidget(self.details)
        self._apply_expanded()

    # -- state -----------------------------------------------------------------------------
    @property
    def awaiting_approval(self) -> bool:
        return self.part is not None and self.part.state == "awaiting-approval" and not self._turn_over

    def _must_stay_open(self) -> bool:
        return self.awaiting_approval  # what is approved must be seen

    def _apply_expanded(self) -> None:
        self.header.set_expanded(self._expanded)
        self.details.setVisible(self._expanded)

    def show_full_result(self, full: bool) -> None:
        """Show the whole result (a scrolling box) or its first lines."""
        has_more = self.part is not None and self.part.result is not None and \
            _preview(self.part.result.text) != self.part.result.text.strip("\n")
        self.result_view.setVisible(full and has_more)
        self.result_preview.setVisible(not (full and has_more))
        self.result_toggle.setText("Show less" if full and has_more else "Show the whole result")

    # -- content ---------------------------------------------------------------------------
    @staticmethod
    def _signature(part: ToolCallPart, turn_over: bool, result_tokens: int | None) -> tuple:
        return (id(part.call), id(part.result), part.state, part.reach, part.approved, part.t_start, part.t_end,
                result_tokens, turn_over)

    def update_from(self, part: ToolCallPart, *, turn_over: bool = False, now: float | None = None,
                    result_tokens: int | None = None) -> None:
        """Show ``part`` as it is now; ``turn_over``: the message finished (an unfinished call
        will never run); ``result_tokens``: what its result added to the context (None: not
        measured yet). Cheap when nothing changed (a running call's clock still ticks)."""
        self.part = part
        self.result_tokens = result_tokens
        signature = self._signature(part, turn_over, result_tokens)
        if signature != self._seen:
            self._seen = signature
            self._turn_over = turn_over
            self._show(part, turn_over)
        if part.state == "running" and not turn_over and now is not None and part.t_start is not None:
            self.header.setText(self._header_text(part, running_s=max(0.0, now - part.t_start)))

    def _show(self, part: ToolCallPart, turn_over: bool) -> None:
        call = part.call
        waiting = part.state == "awaiting-approval" and not turn_over
        code = code_of(part)
        self.args_title.setText("Code" if code is not None else "Arguments")
        if waiting and not self._editing:
            self._editing, self._sent = True, False
            self.args_edit.setPlainText(code if code is not None else arguments_text(call))
            self.args_edit.setReadOnly(False)  # not focused: the user may be typing the next message
        elif not waiting:
            self._editing = False
            self.args_edit.setReadOnly(True)
            self.args_error.hide()
            text = self._arguments_shown(part)
            if self.args_edit.toPlainText() != text:
                self.args_edit.setPlainText(text)
        has_arguments = bool(call.arguments) or bool(call.raw) or waiting
        self.args_title.setVisible(has_arguments)
        self.args_edit.setVisible(has_arguments)
        self.approval_row.setVisible(waiting)
        for button in (self.run_button, self.allow_conversation_button, self.allow_always_button, self.deny_button):
            button.setEnabled(waiting and not self._sent)
        self.stop_button.setVisible(part.state == "running" and not turn_over)
        self.reach.setText(f"What it can reach: {part.reach}" if part.reach else "")
        self.reach.setVisible(bool(part.reach))
        self._show_result(part)
        self.status.setText(self._status_text(part, turn_over))
        self.status.setVisible(bool(self.status.text()))
        self.status.setProperty("state", "unfinished" if turn_over and not part.finished else part.state)
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)
        self.setProperty("state", part.state)
        self.style().unpolish(self)
        self.style().polish(self)
        self.header.setText(self._header_text(part))
        if waiting:
            self.set_expanded(True)
        elif part.finished or turn_over:
            self.set_expanded(False)  # a finished call folds to one line (unless the user opened it)
        else:
            self.set_expanded(True)

    @staticmethod
    def _arguments_shown(part: ToolCallPart) -> str:
        code = code_of(part)
        if code is None:
            return arguments_text(part.call) if (part.call.arguments or not part.call.raw) else part.call.raw
        rest = {k: v for k, v in part.call.arguments.items() if k != "code"}
        return code if not rest else f"{code}\n\n# other arguments: {json.dumps(rest, ensure_ascii=False)}"

    def _show_result(self, part: ToolCallPart) -> None:
        result = part.result
        shown = result is not None and part.state != "denied"
        self.result_title.setVisible(shown)
        self.result_toggle.setVisible(False)
        if not shown:
            self.result_preview.hide()
            self.result_view.hide()
            self.result_note.setVisible(bool(part.call.error))
            self.result_note.setText(f"The call as the model wrote it is unusable: {part.call.error}"
                                     if part.call.error else "")
            return
        self.result_title.setText("Error" if result.is_error else "Result")
        self.result_preview.setText(_preview(result.text) or "(empty)")
        if self.result_view.toPlainText() != result.text:
            self.result_view.setPlainText(result.text)
        more = _preview(result.text) != result.text.strip("\n")
        self.result_toggle.setVisible(more)
        self.show_full_result(not self.result_view.isHidden() and more)
        notes = []
        if result.truncated_from:
            notes.append(f"The result was cut to {len(result.text):,} of {result.truncated_from:,} characters "
                         "before the model read it.")
        if part.call.error:
            notes.append(f"The call as the model wrote it is unusable: {part.call.error}")
        self.result_note.setText(" ".join(notes))
        self.result_note.setVisible(bool(notes))

    @staticmethod
    def _status_text(part: ToolCallPart, turn_over: bool) -> str:
        if turn_over and not part.finished:
            return UNFINISHED_NOTE
        return {"awaiting-approval": "Waiting for you: check the arguments, then Run or Deny.",
                "denied": DENIED_NOTE}.get(part.state, "")

    @staticmethod
    def _duration(part: ToolCallPart) -> float | None:
        if part.result is not None and part.result.duration_s:
            return part.result.duration_s
        if part.t_start is not None and part.t_end is not None:
            return max(0.0, part.t_end - part.t_start)
        return None

    def _header_text(self, part: ToolCallPart, running_s: float | None = None) -> str:
        call, result = part.call, part.result
        name = call.name or "tool"
        code = code_of(part)
        args = code.strip().splitlines()[0] if code and code.strip() else call.arguments_json if call.arguments else ""
        head = f"{name} {_one_line(args, HEADER_ARGS_CHARS)}".rstrip()
        if self._turn_over and not part.finished:
            return f"{head} · not run"
        if part.state == "writing":
            return f"{name} · the model is writing the call…"
        if part.state == "requested":
            return f"{head} · about to run"
        if part.state == "awaiting-approval":
            return f"{head} · waiting for your approval"
        if part.state == "running":
            return f"{head} · running… {fmt.seconds(running_s or 0.0)}"
        if part.state == "denied":
            return f"{head} · denied"
        bits = [head]
        if result is not None:
            outcome = _one_line(result.text, HEADER_RESULT_CHARS) or "(empty)"
            bits = [f"{head} → {'failed: ' if result.is_error else ''}{outcome}"]
        duration = self._duration(part)
        if duration is not None:
            bits.append(f"{duration:.2f} s" if duration < 10 else fmt.seconds(duration))
        if self.result_tokens is not None:
            bits.append(fmt.tokens(self.result_tokens))
        return " · ".join(bits)

    # -- approval --------------------------------------------------------------------------
    def edited_arguments(self) -> dict:
        """The arguments as the box holds them; ValueError with a reason when they are not usable."""
        text = self.args_edit.toPlainText()
        part = self.part
        if part is not None and code_of(part) is not None:
            return {**part.call.arguments, "code": text}
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"These arguments are not valid JSON (line {exc.lineno}, column {exc.colno}: "
                             f"{exc.msg}). Fix them, or Deny.") from exc
        if not isinstance(value, dict):
            raise ValueError("The arguments must be a JSON object ({\"name\": value, …}). Fix them, or Deny.")
        return value

    def _approve(self, remember: str) -> None:
        if not self.awaiting_approval or self._sent:
            return
        try:
            arguments = self.edited_arguments()
        except ValueError as exc:
            self.args_error.setText(str(exc))
            self.args_error.show()
            return
        self.args_error.hide()
        self._answered("Starting…")
        self.approved.emit(self.part.call_id, arguments, remember)

    def _deny(self) -> None:
        if not self.awaiting_approval or self._sent:
            return
        self._answered("Declining…")
        self.denied.emit(self.part.call_id)

    def _answered(self, note: str) -> None:
        self._sent = True
        self.args_edit.setReadOnly(True)
        for button in (self.run_button, self.allow_conversation_button, self.allow_always_button, self.deny_button):
            button.setEnabled(False)
        self.status.setText(note)
        self.status.show()
