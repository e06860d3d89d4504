"""The window's history: the sidebar, opening, searching, versions, export and import.

Built by the main window when a store is open; it connects the sidebar and the chat view to
the store and the persistence controller. No signals of its own.
"""

from __future__ import annotations

from PySide6.QtCore import QObject


class HistoryBinding(QObject):
    """Connects the history sidebar and message versions to the store."""

    def __init__(self, window, store, persistence):
        super().__init__(window)
        self.window = window
        self.store = store
        self.persistence = persistence
        self._wire()

    def _wire(self) -> None:
        w, s, p, bar = self.window, self.window.session, self.persistence, self.window.sidebar
        bar.new_chat_requested.connect(s.new_chat)
        bar.conversation_chosen.connect(self.open_conversation)
        bar.rename_requested.connect(p.rename)
        bar.delete_requested.connect(self.delete_conversation)
        bar.search_changed.connect(self.search)
        p.saved.connect(self.refresh_history)
        p.deleted.connect(self.refresh_history)
        p.error.connect(w.show_error)
        s.chat_reset.connect(self.refresh_history)
        s.conversation_opened.connect(w.chat.show_conversation)
        s.conversation_opened.connect(lambda *_: bar.set_current(s.conversation.uid))
        w.chat.panel_toggled.connect(p.save)
        w.chat.versions_requested.connect(self.show_versions)
        bar.cost_text = self.conversation_cost
        self.refresh_history()

    def refresh_history(self, *_args) -> None:
        if self.window.sidebar is not None and not self.window.sidebar.searching:
            self.window.sidebar.set_conversations(self.store.list_conversations())
            self.window.sidebar.set_current(self.window.session.conversation.uid)

    def conversation_cost(self, uid: str) -> str:
        """What a stored conversation's answers cost (all versions), for the sidebar's tooltip."""
        from app.errors import PonderError
        from app.store.usage import cost_totals, usage_of_conversation

        try:
            totals = cost_totals(usage_of_conversation(self.store, uid), self.window.chat.model_billing)
        except PonderError:
            return ""
        return "" if totals.empty else totals.text() + " (all versions of its answers)"

    def open_conversation(self, uid: str) -> None:
        from app.errors import PonderError

        self.persistence.flush()
        try:
            self.window.session.open_conversation(self.store.load_conversation(uid))
        except PonderError as exc:
            self.window.show_error(str(exc))

    def delete_conversation(self, uid: str) -> None:
        if uid == self.window.session.conversation.uid:
            self.window.session.new_chat()
        self.persistence.delete(uid)

    def search(self, query: str) -> None:
        if query.strip():
            self.window.sidebar.set_search_results(self.store.search(query, include_reasoning=self.window.sidebar.include_reasoning))
        else:
            self.refresh_history()

    def export_conversation(self, path, fmt: str) -> None:
        """Write the open conversation as Markdown (reasoning in <details>) or JSON."""
        import json
        from pathlib import Path

        from app.store.export import conversation_json, conversation_markdown

        conv = self.window.session.conversation
        billing = self.window.chat.model_billing  # what the answers cost, at the prices in models.toml
        text = conversation_markdown(conv, billing) if fmt == "markdown" else \
            json.dumps(conversation_json(conv, billing), ensure_ascii=False, indent=2)
        Path(path).write_text(text, encoding="utf-8")

    def import_conversation(self, path) -> None:
        """Add a conversation exported as JSON to the history and open it."""
        import json
        from pathlib import Path

        from app.store.export import conversation_from_json

        conv = conversation_from_json(json.loads(Path(path).read_text(encoding="utf-8")), new_ids=True)
        self.persistence.flush()
        self.store.save_conversation(conv)
        self.refresh_history()
        self.open_conversation(conv.uid)

    def export_dialog(self, fmt: str) -> None:
        from PySide6.QtWidgets import QFileDialog

        suffix = ".md" if fmt == "markdown" else ".json"
        path, _ = QFileDialog.getSaveFileName(self.window, "Export conversation",
                                              (self.window.session.conversation.title or "conversation") + suffix)
        if path:
            try:
                self.export_conversation(path, fmt)
            except OSError as exc:
                self.window.show_error(f"Could not write {path}: {exc.strerror}. Pick another folder.")

    def import_dialog(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        from app.errors import PonderError

        path, _ = QFileDialog.getOpenFileName(self.window, "Import conversation", "", "Ponder JSON (*.json)")
        if path:
            try:
                self.import_conversation(path)
            except (OSError, ValueError, PonderError) as exc:
                self.window.show_error(f"Could not import {path}: {exc}")

    def versions_menu(self, message):
        """A menu of the message's stored versions; choosing one makes it the active branch."""
        from PySide6.QtWidgets import QMenu

        from app.ui.plain import plain_action_text

        self.persistence.flush()
        menu = QMenu(self.window)
        for v in self.store.versions_of(message.uid):
            action = menu.addAction(plain_action_text(
                f"{'● ' if v.active else '   '}Version {v.version} · {v.model_id} · {v.preview[:60]}"))
            action.triggered.connect(lambda _=False, uid=v.uid: self.switch_version(uid))
        return menu

    def show_versions(self, message) -> None:
        from PySide6.QtGui import QCursor

        self.versions_menu(message).exec(QCursor.pos())

    def switch_version(self, message_uid: str) -> None:
        self.persistence.flush()
        self.store.set_active_version(message_uid)
        self.open_conversation(self.window.session.conversation.uid)
