"""The scrolling list of messages of the current chat.

It keeps the view pinned to the bottom while a message streams, unless the user scrolled
up to read; it never re-renders finished messages.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, Qt, Signal
from PySide6.QtWidgets import QFrame, QScrollArea, QVBoxLayout, QWidget

from app.domain.messages import AssistantMessage, UserMessage
from app.ui.discard import discard, is_discarded
from app.ui.message_widget import AssistantMessageWidget, UserMessageWidget

# A streaming text that grows a line resizes its view, and the new size climbs the nesting
# (text view or thinking panel body, panel, message, chat, scroll area) as a LayoutRequest
# posted to each parent in turn. Qt delivers one level per pass of the event loop, after the
# pass's paint: a new line cost two or three paints 50 ms apart, the last of them of the whole
# chat, and showed the line clipped in between. Settling the levels as the message changes
# lets one paint show it. Four hops from a thinking panel's body up to the scroll area.
LAYOUT_DEPTH = 4


def settle_layouts() -> None:
    """Deliver the posted layout requests now, level by level (see :data:`LAYOUT_DEPTH`)."""
    for _ in range(LAYOUT_DEPTH):
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)


class ChatView(QScrollArea):
    """Message widgets stacked vertically inside a scroll area.

    Signals:
        action_requested(object message, str action) — from a message's choice buttons
        trace_requested(object message) — open the trace viewer for this message
        panel_toggled(object message) — a thinking panel of this message was toggled
        regenerate_requested(object message) — a new version of this (last) answer
        edit_requested(object message) — edit this user message and continue from it
        versions_requested(object message) — switch between this message's versions
        answer_now_requested() / stop_requested() — from a message's loop banner (Stop also
            from a running tool's card)
        tool_approved(str call_id, object arguments, str remember) — Run on a tool-call card
        tool_denied(str call_id) — Deny on a tool-call card
    """

    action_requested = Signal(object, str)
    trace_requested = Signal(object)
    panel_toggled = Signal(object)
    regenerate_requested = Signal(object)
    edit_requested = Signal(object)
    versions_requested = Signal(object)
    answer_now_requested = Signal()
    stop_requested = Signal()
    tool_approved = Signal(str, object, str)
    tool_denied = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("chatView")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        inner = QWidget(self)
        inner.setObjectName("chatInner")
        self._layout = QVBoxLayout(inner)
        self._layout.setContentsMargins(12, 12, 12, 12)
        self._layout.setSpacing(10)
        self._layout.addStretch(1)
        self.setWidget(inner)
        self.widgets: dict[str, UserMessageWidget | AssistantMessageWidget] = {}  # by message uid
        self._pinned = True
        bar = self.verticalScrollBar()
        bar.valueChanged.connect(self._on_scrolled)
        bar.rangeChanged.connect(self._on_range)
        self.model_labels: dict[str, str] = {}
        self.model_billing: dict = {}  # model id -> app.domain.cost.Billing (the footers' cost)
        self.panel_default = "auto"
        self._children_seen: dict[int, int] = {}

    def add_message(self, message: UserMessage | AssistantMessage) -> QWidget:
        if isinstance(message, UserMessage):
            widget = UserMessageWidget(message, self.widget())
            widget.edit_requested.connect(lambda m=message: self.edit_requested.emit(m))
        else:
            label = self.model_labels.get(message.model_id, message.model_id)
            widget = AssistantMessageWidget(message, model_label=label, panel_default=self.panel_default,
                                            billing=self.model_billing.get(message.model_id), parent=self.widget())
            widget.action_requested.connect(lambda action, m=message: self.action_requested.emit(m, action))
            widget.trace_requested.connect(lambda m=message: self.trace_requested.emit(m))
            widget.panel_toggled.connect(lambda *_a, m=message: self.panel_toggled.emit(m))
            widget.regenerate_requested.connect(lambda m=message: self.regenerate_requested.emit(m))
            widget.versions_requested.connect(lambda m=message: self.versions_requested.emit(m))
            widget.answer_now_requested.connect(self.answer_now_requested)
            widget.stop_requested.connect(self.stop_requested)
            widget.tool_approved.connect(self.tool_approved)
            widget.tool_denied.connect(self.tool_denied)
        self._layout.addWidget(widget)
        self.widgets[message.uid] = widget
        self._pinned = True
        self._thread_focus()
        return widget

    def update_message(self, message: AssistantMessage) -> None:
        widget = self.widgets.get(message.uid)
        if isinstance(widget, AssistantMessageWidget):
            widget.refresh()
            settle_layouts()
            parts = len(widget.children())
            if self._children_seen.get(id(widget)) != parts:  # a panel or buttons appeared
                self._children_seen[id(widget)] = parts
                self._thread_focus()

    def _thread_focus(self) -> None:
        """Put the messages' focusable parts (panel headers, Trace, choice buttons) right after
        the view in the Tab order, message by message; Qt would put widgets created later last."""
        previous: QWidget = self
        for i in range(self._layout.count()):
            message_widget = self._layout.itemAt(i).widget()
            if message_widget is None:
                continue
            for child in message_widget.findChildren(QWidget):
                if is_discarded(child, message_widget):
                    continue
                if child.focusPolicy() & Qt.TabFocus and not child.isWindow():
                    QWidget.setTabOrder(previous, child)
                    previous = child

    def show_conversation(self, conversation) -> None:
        """Rebuild the view for a stored conversation."""
        self.clear()
        for message in conversation.messages:
            self.add_message(message)
            if isinstance(message, AssistantMessage):
                self.update_message(message)

    def remove_message(self, message) -> None:
        widget = self.widgets.pop(message.uid, None)
        if widget is not None:
            self._children_seen.pop(id(widget), None)
            discard(widget, self._layout)

    def widget_for(self, message) -> QWidget | None:
        return self.widgets.get(message.uid)

    def clear(self) -> None:
        for widget in self.widgets.values():
            discard(widget, self._layout)
        self.widgets.clear()
        self._children_seen.clear()

    def _on_scrolled(self, value: int) -> None:
        bar = self.verticalScrollBar()
        self._pinned = value >= bar.maximum() - 4

    def _on_range(self, _min: int, maximum: int) -> None:
        if self._pinned:
            self.verticalScrollBar().setValue(maximum)
