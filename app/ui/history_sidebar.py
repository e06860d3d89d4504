"""The history sidebar: past conversations newest first, search, new chat, rename and delete.

It never touches the database: the window gives it rows with :meth:`HistorySidebar.set_conversations`
and search hits with :meth:`HistorySidebar.set_search_results`, and acts on its signals.

Signals:
    conversation_chosen(str uid)        the user picked a conversation (or a search hit in it)
    new_chat_requested()                the New chat button
    rename_requested(str uid, str title)  an inline rename was committed (title stripped, not empty)
    delete_requested(str uid)           the user confirmed deleting a conversation
    search_changed(str query)           the search text settled (debounced; "" when cleared)
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QLabel, QLineEdit, QListWidget, QListWidgetItem, QMenu,
                               QMessageBox, QPushButton, QToolTip, QVBoxLayout, QWidget)

from app.ui.plain import plain_label, plain_message_box, plain_tooltip

UID_ROLE = Qt.UserRole
TITLE_ROLE = Qt.UserRole + 1
MESSAGE_ROLE = Qt.UserRole + 2
HIGHLIGHT_STYLE = "background-color:#fde68a;color:#111827"

Confirm = Callable[[QWidget, str], bool]


def ask_delete(parent: QWidget, title: str) -> bool:
    """The default delete confirmation (a modal question)."""
    box = plain_message_box(parent, "Delete conversation",
                            f"Delete “{title}” and all its messages? This cannot be undone.",
                            icon=QMessageBox.Question, buttons=QMessageBox.Yes | QMessageBox.Cancel,
                            default=QMessageBox.Cancel)
    return box.exec() == QMessageBox.Yes


def highlight_html(text: str, ranges: Iterable[tuple[int, int]]) -> str:
    """``text`` as escaped rich text with each (start, end) range highlighted."""
    out, pos = [], 0
    for start, end in sorted(ranges):
        if start < pos:
            continue
        out.append(html.escape(text[pos:start]))
        out.append(f'<b style="{HIGHLIGHT_STYLE}">{html.escape(text[start:end])}</b>')
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out)


class HistorySidebar(QWidget):
    """Conversation list with a search box and a New chat button (see the module docstring)."""

    conversation_chosen = Signal(str)
    new_chat_requested = Signal()
    rename_requested = Signal(str, str)
    delete_requested = Signal(str)
    search_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None, *, confirm: Confirm = ask_delete, search_delay_ms: int = 200):
        super().__init__(parent)
        self.setObjectName("historySidebar")
        self.confirm = confirm
        self._conversations: list[tuple[str, str, float]] = []
        self._current: str | None = None
        self._last_chosen: tuple[str, float] = ("", 0.0)
        self._stale = False

        self.new_button = QPushButton("New chat", self)
        self.new_button.setToolTip("Start a new conversation (Ctrl+N)")
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search conversations")
        self.search.setClearButtonEnabled(True)
        self.reasoning_box = QCheckBox("Search reasoning too", self)
        self.list = QListWidget(self)
        self.list.setObjectName("historyList")
        self.list.setEditTriggers(QAbstractItemView.EditKeyPressed)
        self.list.setContextMenuPolicy(Qt.CustomContextMenu)
        self.list.setWordWrap(True)
        self.empty = plain_label("No conversations yet.", self)
        self.empty.setObjectName("historyEmpty")
        self.empty.setAlignment(Qt.AlignCenter)
        self.empty.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.new_button)
        layout.addWidget(self.search)
        layout.addWidget(self.reasoning_box)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(search_delay_ms)
        self._debounce.timeout.connect(self._emit_search)
        self.new_button.clicked.connect(self.new_chat_requested)
        self.search.textChanged.connect(self._on_search_text)
        self.reasoning_box.toggled.connect(lambda _on: self._emit_search() if self.query else None)
        self.list.itemClicked.connect(self._on_item)
        self.list.itemActivated.connect(self._on_item)
        self.list.itemChanged.connect(self._on_item_changed)
        self.list.customContextMenuRequested.connect(self._on_context_menu)
        self.list.itemDelegate().closeEditor.connect(self._after_edit)
        # what a conversation cost, for its tooltip (uid -> text, "" for none); asked on hover only
        self.cost_text: Callable[[str], str] | None = None
        self.list.viewport().installEventFilter(self)
        self._render_conversations()

    # -- API for the window -----------------------------------------------------------------
    @property
    def query(self) -> str:
        return self.search.text().strip()

    @property
    def include_reasoning(self) -> bool:
        return self.reasoning_box.isChecked()

    @property
    def searching(self) -> bool:
        return bool(self.query)

    def set_conversations(self, rows: Iterable[Sequence]) -> None:
        """``(uid, title, updated)`` rows, newest first (e.g. ``Store.list_conversations()``)."""
        self._conversations = [(r[0], r[1], r[2]) for r in rows]
        if self.list.state() == QAbstractItemView.EditingState:
            self._stale = True  # re-rendering now would close the title editor the user is typing in
        elif not self.searching:
            self._render_conversations()

    def set_search_results(self, hits: Iterable) -> None:
        """Search hits (``SearchHit``: conversation_uid, title, message_uid, kind, snippet, ranges)."""
        if not self.searching:
            return
        self.list.blockSignals(True)
        self.list.clear()
        for hit in hits:
            item = QListWidgetItem()
            item.setData(UID_ROLE, hit.conversation_uid)
            item.setData(TITLE_ROLE, hit.title)
            item.setData(MESSAGE_ROLE, hit.message_uid)
            item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable)
            # rich text for the highlights; every piece of the hit is escaped in _hit_html
            label = QLabel(self._hit_html(hit), self.list)
            label.setObjectName("historyHit")
            label.setTextFormat(Qt.RichText)
            label.setWordWrap(True)
            label.setContentsMargins(4, 3, 4, 3)
            label.setAttribute(Qt.WA_TransparentForMouseEvents)
            self.list.addItem(item)
            self.list.setItemWidget(item, label)
            item.setSizeHint(label.sizeHint())
        self.list.blockSignals(False)
        self._show_empty("No matches." if self.list.count() == 0 else None)

    def set_current(self, uid: str | None) -> None:
        """Mark the conversation shown in the window."""
        self._current = uid
        item = self._item(uid) if uid else None
        self.list.blockSignals(True)
        if item is not None:
            self.list.setCurrentItem(item)
        else:
            self.list.clearSelection()
        self.list.blockSignals(False)

    def start_rename(self, uid: str) -> None:
        """Edit the conversation's title in place; committing emits ``rename_requested``."""
        item = self._item(uid)
        if item is not None:
            self.list.setCurrentItem(item)
            self.list.editItem(item)

    def request_delete(self, uid: str) -> None:
        """Ask for confirmation, then emit ``delete_requested``."""
        item = self._item(uid)
        title = item.data(TITLE_ROLE) if item is not None else ""
        if self.confirm(self, title or "Untitled"):
            self.delete_requested.emit(uid)

    def context_menu(self, uid: str) -> QMenu:
        """The menu of a conversation row (Rename, Delete…)."""
        menu = QMenu(self)
        menu.addAction("Rename", lambda: self.start_rename(uid))
        menu.addAction("Delete…", lambda: self.request_delete(uid))
        return menu

    def keyPressEvent(self, event) -> None:  # noqa: N802
        item = self.list.currentItem()
        if event.key() == Qt.Key_Delete and item is not None and not self.searching:
            self.request_delete(item.data(UID_ROLE))
            return
        super().keyPressEvent(event)

    def tooltip_text(self, uid: str) -> str:
        """A conversation row's tooltip: its title, when it was last changed, what it cost."""
        title, updated = next(((t, u) for c, t, u in self._conversations if c == uid), ("", 0.0))
        when = datetime.fromtimestamp(updated).strftime("%Y-%m-%d %H:%M") if updated else ""
        cost = self.cost_text(uid) if self.cost_text is not None else ""
        return "\n".join(line for line in (title or "Untitled", when, f"Cost: {cost}" if cost else "") if line)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.list.viewport() and event.type() == QEvent.ToolTip and not self.searching:
            item = self.list.itemAt(event.pos())
            if item is not None and self.cost_text is not None:
                QToolTip.showText(event.globalPos(), plain_tooltip(self.tooltip_text(item.data(UID_ROLE))),
                                  self.list.viewport())
                return True
        return super().eventFilter(watched, event)

    # -- internals --------------------------------------------------------------------------
    def _render_conversations(self) -> None:
        self._stale = False
        scroll = self.list.verticalScrollBar().value()
        self.list.blockSignals(True)
        self.list.clear()
        for uid, title, updated in self._conversations:
            item = QListWidgetItem(title or "Untitled")
            item.setData(UID_ROLE, uid)
            item.setData(TITLE_ROLE, title)
            item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsEditable)
            when = datetime.fromtimestamp(updated).strftime("%Y-%m-%d %H:%M") if updated else ""
            item.setToolTip(plain_tooltip(f"{title or 'Untitled'}\n{when}".strip()))
            self.list.addItem(item)
            if uid == self._current:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        self.list.verticalScrollBar().setValue(scroll)
        self._show_empty("No conversations yet." if not self._conversations else None)

    def _after_edit(self, *_args) -> None:
        if self._stale and not self.searching:
            QTimer.singleShot(0, self._render_conversations)  # after the delegate let go of the editor

    def _show_empty(self, text: str | None) -> None:
        self.empty.setVisible(text is not None)
        if text is not None:
            self.empty.setText(text)

    @staticmethod
    def _hit_html(hit) -> str:
        title = html.escape(hit.title or "Untitled")
        where = {"user": "You", "answer": "Answer", "reasoning": "Thinking"}.get(hit.kind, hit.kind)
        return f"<b>{title}</b> <small>· {html.escape(where)}</small><br>{highlight_html(hit.snippet, hit.ranges)}"

    def _item(self, uid: str) -> QListWidgetItem | None:
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(UID_ROLE) == uid:
                return item
        return None

    def _on_search_text(self, text: str) -> None:
        if text.strip():
            self._debounce.start()
        else:
            self._debounce.stop()
            self._render_conversations()
            self.search_changed.emit("")

    def _emit_search(self) -> None:
        if self.query:
            self.search_changed.emit(self.query)

    def _on_item(self, item: QListWidgetItem) -> None:
        uid = item.data(UID_ROLE)
        last_uid, last_t = self._last_chosen
        now = time.monotonic()
        if uid == last_uid and now - last_t < 0.5:  # a click followed by an activation
            return
        self._last_chosen = (uid, now)
        self.conversation_chosen.emit(uid)

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        uid, old = item.data(UID_ROLE), item.data(TITLE_ROLE) or ""
        new = item.text().strip()
        if not new or new == old:
            self.list.blockSignals(True)
            item.setText(old or "Untitled")
            self.list.blockSignals(False)
            return
        self.list.blockSignals(True)
        item.setData(TITLE_ROLE, new)
        item.setText(new)
        self.list.blockSignals(False)
        self._conversations = [(u, new if u == uid else t, w) for u, t, w in self._conversations]
        self.rename_requested.emit(uid, new)

    def _on_context_menu(self, pos: QPoint) -> None:
        item = self.list.itemAt(pos)
        if item is None or self.searching:
            return
        menu = self.context_menu(item.data(UID_ROLE))
        menu.exec(self.list.viewport().mapToGlobal(pos))
        menu.deleteLater()
