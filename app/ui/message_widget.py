"""Widgets for one message: the user's bubble and the assistant's (panels + answer).

``AssistantMessageWidget.refresh()`` is called by the chat view at most ~30 times a second
while streaming; it creates a thinking panel, a tool-call card or an answer view per message
part as parts appear (so thinking, calls and answer show in the order they happened), and
appends only what each part gained since the last refresh.

Signals (AssistantMessageWidget):
    panel_toggled(int block_index, bool expanded)
    answer_now_requested()         from the loop banner
    stop_requested()               from the loop banner
    trace_requested()              the user asked for the trace viewer (button or context menu)
    regenerate_requested()         a new version of this answer (context menu)
    versions_requested()           list this message's versions to switch between
    action_requested(str action)   the user chose how to go on after an overflow or a turn
                                   whose thinking used up the budget ("strip", "drop",
                                   "larger", "answer")
    tool_approved(str call_id, object arguments, str remember)  Run on a tool-call card
                                   (remember: "", "conversation" or "always")
    tool_denied(str call_id)       Deny on a tool-call card
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from app.domain.cost import UNKNOWN, Billing, arithmetic_text, footer_text, message_billing, turn_cost
from app.domain.messages import AssistantMessage, ReasoningBlock, ToolCallPart, UserMessage
from app.domain.tools.records import measured_result_tokens
from app.ui import format as fmt
from app.ui.discard import discard
from app.ui.elided_label import ElidedLabel
from app.ui.loop_banner import LoopBanner
from app.ui.markdown_view import MarkdownView
from app.ui.plain import plain_label, plain_tooltip
from app.ui.wrapped_label import WrappedLabel
from app.ui.thinking_panel import ThinkingPanel
from app.ui.tool_call_card import ToolCallCard

FINISH_NOTES = {
    "cancelled": "Stopped.",
    "interrupted": "Interrupted — Ponder closed while this answer was being written.",
    "length": "Reached the length limit.",
    "budget": "",
    "stop": "",
}


class UserMessageWidget(QFrame):
    """The user's message, as plain selectable text.

    Signals:
        edit_requested() — "Edit and continue from here" from the context menu
    """

    edit_requested = Signal()

    def __init__(self, message: UserMessage, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("userMessage")
        self.setContextMenuPolicy(Qt.ActionsContextMenu)
        edit = QAction("Edit and continue from here…", self)
        edit.triggered.connect(self.edit_requested)
        self.addAction(edit)
        label = WrappedLabel(message.text, self)
        label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addWidget(label)
        self.label = label


class AssistantMessageWidget(QFrame):
    """An assistant message: thinking panels and answer runs in order, then a footer."""

    panel_toggled = Signal(int, bool)
    action_requested = Signal(str)
    trace_requested = Signal()
    regenerate_requested = Signal()
    versions_requested = Signal()
    answer_now_requested = Signal()
    stop_requested = Signal()
    tool_approved = Signal(str, object, str)
    tool_denied = Signal(str)

    def __init__(self, message: AssistantMessage, *, model_label: str = "", panel_default: str = "auto",
                 billing: Billing | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("assistantMessage")
        self.message = message
        self.billing = billing  # how the model is charged (None: not configured, known once it ran)
        self.panel_default = panel_default
        self._views: list[ThinkingPanel | ToolCallCard | MarkdownView | None] = []
        self._shown: list[int] = []
        self._parts: list[object] = []  # the part each view shows (a part can be taken back)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(10, 6, 10, 6)
        self._layout.setSpacing(4)
        self.origin = ElidedLabel("", self)
        self.origin.setObjectName("messageOrigin")
        self._model_label = model_label or message.model_id
        self.origin.setText(f"{self._model_label} · {message.where}")
        self.trace_button = QPushButton("Trace", self)
        self.trace_button.setObjectName("traceButton")
        self.trace_button.setFlat(True)
        self.trace_button.setToolTip("Study this message's reasoning: timeline, search, changes of course")
        self.trace_button.clicked.connect(self.trace_requested)
        self.trace_button.hide()
        top = QHBoxLayout()
        top.addWidget(self.origin, 1)
        top.addWidget(self.trace_button)
        self._layout.addLayout(top)
        self.setContextMenuPolicy(Qt.ActionsContextMenu)
        open_trace = QAction("Open trace viewer", self)
        open_trace.triggered.connect(self.trace_requested)
        self.addAction(open_trace)
        regenerate = QAction("Regenerate (keeps this version)", self)
        regenerate.triggered.connect(self.regenerate_requested)
        self.addAction(regenerate)
        versions = QAction("Other versions…", self)
        versions.triggered.connect(self.versions_requested)
        self.addAction(versions)
        self.status = plain_label("Waiting for the model…", self)  # errors and notes: plain text
        self.status.setObjectName("messageStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.loop_banner = LoopBanner(self)
        self.loop_banner.answer_now_requested.connect(self.answer_now_requested)
        self.loop_banner.stop_requested.connect(self.stop_requested)
        self._layout.addWidget(self.loop_banner)
        self._layout.addWidget(self.status)
        self.actions: dict[str, QPushButton] = {}
        # The live header's clock ticks on its own while thinking, even between tokens.
        self._clock = QTimer(self)
        self._clock.setInterval(100)
        self._clock.timeout.connect(self._tick)

    # -- reading (for tests and the trace viewer) ------------------------------------------
    @property
    def panels(self) -> list[ThinkingPanel]:
        return [v for v in self._views if isinstance(v, ThinkingPanel)]

    @property
    def cards(self) -> list[ToolCallCard]:
        return [v for v in self._views if isinstance(v, ToolCallCard)]

    @property
    def answer_views(self) -> list[MarkdownView]:
        return [v for v in self._views if isinstance(v, MarkdownView)]

    def answer_text(self) -> str:
        return "".join(v.plain_text() for v in self.answer_views)

    # -- updating --------------------------------------------------------------------------
    def refresh(self) -> None:
        msg = self.message
        now = time.monotonic()
        origin = f"{self._model_label} · {msg.where}"
        if self.origin.text() != origin:  # where it ran is known once the turn starts
            self.origin.setText(origin)
        self._rebuild_views_from_changed_part()
        for i, part in enumerate(msg.parts):
            if i == len(self._views):
                self._views.append(None)
                self._shown.append(0)
                self._parts.append(part)
            view = self._views[i]
            if isinstance(part, ReasoningBlock):
                if view is None and not part.visible:
                    continue  # whitespace-only so far: no panel (yet)
                if view is None:
                    view = self._add_panel(i, part)
                called, after = self._tools_around(i)
                view.update_from(part, n_ctx=msg.stats.n_ctx, now=now, called=called, continued_after=after)
                if part.end is not None and self.panel_default == "auto":
                    view.set_expanded(False)
            elif isinstance(part, ToolCallPart):
                if view is None:
                    view = self._add_card(i)
                view.update_from(part, turn_over=msg.finished, now=now, result_tokens=measured_result_tokens(msg, part))
            else:
                if view is None:
                    view = MarkdownView(self)
                    self._insert(view)
                    self._views[i] = view
                if part.text_length > self._shown[i]:
                    view.append_text(part.text_since(self._shown[i]))
                    self._shown[i] = part.text_length
                view.flush()
        if msg.loop_alarm is not None and self.loop_banner.isHidden() and not msg.finished:
            self.loop_banner.show_alarm(msg.loop_alarm)
        elif msg.finished and not self.loop_banner.isHidden():
            self.loop_banner.dismiss()
        if (msg.blocks or msg.tool_calls) and self.trace_button.isHidden():
            self.trace_button.show()
        ticking = msg.open_block is not None or self._running_card() is not None
        if ticking and not self._clock.isActive():
            self._clock.start()
        elif not ticking and self._clock.isActive():
            self._clock.stop()
        self._refresh_status()

    def _rebuild_views_from_changed_part(self) -> None:
        """A part taken out (a call the model abandoned) or put in before the ones shown (a
        provider's hidden reasoning count, which arrives with the usage after the answer): the
        views from there on go and are made again for the parts now at their places."""
        parts = self.message.parts
        keep = next((i for i, seen in enumerate(self._parts) if i >= len(parts) or parts[i] is not seen),
                    len(self._parts))
        for view in self._views[keep:]:
            if view is not None:
                discard(view, self._layout)
        del self._views[keep:], self._shown[keep:], self._parts[keep:]

    def _tools_around(self, index: int) -> tuple[str, str]:
        """(the tools the block at ``index`` paused for, the tools the thought it continues
        paused for) — names joined, "" when it did not pause / does not continue one."""
        parts = self.message.parts
        called = ""
        if parts[index].paused_for_call:
            after = self._calls_next_to(parts, index + 1, 1)
            called = fmt.join_names(list(dict.fromkeys(p.call.name or "a tool" for p in after))) or "a tool"
        before = self._calls_next_to(parts, index - 1, -1)
        previous = index - 1 - len(before)
        continued = ""
        if before and previous >= 0 and isinstance(parts[previous], ReasoningBlock) and parts[previous].paused_for_call:
            continued = fmt.join_names(list(dict.fromkeys(p.call.name or "a tool" for p in reversed(before))))
        return called, continued

    @staticmethod
    def _calls_next_to(parts: list, start: int, step: int) -> list[ToolCallPart]:
        """The tool calls in a row from ``start`` going ``step`` (+1 forward, -1 back)."""
        out = []
        i = start
        while 0 <= i < len(parts) and isinstance(parts[i], ToolCallPart):
            out.append(parts[i])
            i += step
        return out

    def _running_card(self) -> ToolCallCard | None:
        return next((v for v in self._views if isinstance(v, ToolCallCard) and v.part is not None
                     and v.part.state == "running"), None)

    def _add_card(self, index: int) -> ToolCallCard:
        card = ToolCallCard(self)
        card.approved.connect(self.tool_approved)
        card.denied.connect(self.tool_denied)
        card.stop_requested.connect(self.stop_requested)
        self._insert(card)
        self._views[index] = card
        return card

    def _add_panel(self, index: int, block: ReasoningBlock) -> ThinkingPanel:
        if block.expanded is not None:  # the user's earlier choice (e.g. a stored message)
            expanded = block.expanded
        else:
            expanded = self.panel_default == "expanded" or (self.panel_default == "auto" and block.end is None)
        panel = ThinkingPanel(expanded=expanded, parent=self)
        panel.user_touched = block.expanded is not None
        panel.toggled.connect(lambda on, b=block: self._on_panel_toggled(b, on))
        self._insert(panel)
        self._views[index] = panel
        return panel

    def _on_panel_toggled(self, block: ReasoningBlock, expanded: bool) -> None:
        block.expanded = expanded  # remembered with the message (and stored with it)
        index = next(i for i, b in enumerate(self.message.blocks) if b is block)
        self.panel_toggled.emit(index, expanded)

    def _tick(self) -> None:
        block = self.message.open_block
        index = len(self.message.parts) - 1
        view = self._views[index] if block is not None and len(self._views) > index else None
        now = time.monotonic()
        card = self._running_card()
        if isinstance(view, ThinkingPanel):
            called, after = self._tools_around(index)
            view.update_from(block, n_ctx=self.message.stats.n_ctx, now=now, called=called, continued_after=after)
        if card is not None:
            card.update_from(card.part, turn_over=self.message.finished, now=now, result_tokens=card.result_tokens)
        if self.message.finished or (block is None and card is None):
            self._clock.stop()

    def _insert(self, widget: QWidget) -> None:
        self._layout.insertWidget(self._layout.count() - 1, widget)  # above the status line

    def _refresh_status(self) -> None:
        msg = self.message
        if not msg.finished:
            if msg.retry_in:
                self.status.setText(f"The provider is busy (rate limited): retrying in {msg.retry_in:.0f} s "
                                    f"(attempt {msg.retry_attempt} of 3)…")
                self.status.show()
            elif msg.parts:
                self.status.setText("")
                self.status.hide()
            return
        for view in self.answer_views:
            view.finish()
        stats = msg.stats
        notes = list(msg.notes)
        if msg.out_of_budget_while_thinking:
            notes.append("Reasoning used up the token budget before an answer could start.")
        if msg.error:
            notes.append(msg.error)
        elif FINISH_NOTES.get(msg.finish_reason or "", ""):
            notes.append(FINISH_NOTES[msg.finish_reason])
        if msg.finish_reason == "budget":
            notes.append("Thinking was cut at the budget; the answer followed.")
        tps = stats.tokens_per_s
        figures = [f"{stats.generated_tokens:,} tokens"]
        if stats.total_s is not None:
            figures.append(f"{stats.total_s:.1f} s")
        if tps:
            figures.append(f"{tps:.0f} tok/s")
        if msg.tool_calls:
            figures.append(self._tools_figure(msg))
        notes.append(" · ".join(figures + self._money()))
        self.status.setText("  ".join(notes))
        self.status.setProperty("finish", msg.finish_reason or "")
        self.status.style().unpolish(self.status)  # a property selector ([finish="cancelled"]) needs a re-polish
        self.status.style().polish(self.status)
        self.status.show()
        self._offer_actions()

    @staticmethod
    def _tools_figure(msg: AssistantMessage) -> str:
        """``3 tool calls (0.4 s, 58 tokens)``: the tools' time and what they put in the context."""
        n = len(msg.tool_calls)
        secs = sum(p.result.duration_s for p in msg.tool_calls if p.result is not None)
        tokens = msg.stats.tool_schema_tokens + msg.stats.tool_result_tokens
        return f"{n} tool call{'' if n == 1 else 's'} ({fmt.seconds(secs)}, {fmt.tokens(tokens)})"
    def _money(self) -> list[str]:
        """The answer's cost for the footer, its arithmetic in the tooltip; nothing for local models."""
        billing = self.billing or message_billing(self.message, {})
        if billing.local:
            return []
        cost = turn_cost(self.message, billing.price)
        self.status.setToolTip(plain_tooltip(
            arithmetic_text(cost, billing.model_id) if cost is not None else
            "This model has no price in models.toml: add a [model.price] table from the provider's price page."))
        return [UNKNOWN if cost is None else footer_text(cost)]

    def _offer_actions(self) -> None:
        """Buttons for the ways on after an overflow or thinking that used up the budget."""
        msg = self.message
        choices: list[tuple[str, str]] = []
        if msg.overflow:
            if msg.overflow.strip_fits:
                choices.append(("strip", "Strip earlier thinking"))
            if msg.overflow.drop_turns:
                n = msg.overflow.drop_turns
                choices.append(("drop", f"Leave out the {n} oldest turn{'s' if n > 1 else ''}"))
            choices.append(("cancel", "Cancel"))
        elif msg.out_of_budget_while_thinking:
            choices = [("larger", "Continue with a larger context"), ("answer", "Stop thinking and answer"),
                       ("cancel", "Cancel")]
        if not choices or self.actions:
            return
        row = QHBoxLayout()
        for action, text in choices:
            button = QPushButton(text, self)
            button.clicked.connect(lambda _=False, a=action: self._on_action(a))
            row.addWidget(button)
            self.actions[action] = button
        row.addStretch(1)
        self._layout.addLayout(row)

    def _on_action(self, action: str) -> None:
        for button in self.actions.values():
            button.setEnabled(False)
        if action != "cancel":
            self.action_requested.emit(action)
