"""The main window: builds the widgets and wires them to the chat session. Nothing else."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QMainWindow, QVBoxLayout, QWidget

from app.controllers.chat_session import ChatSession
from app.domain.cost import billings, turn_context
from app.domain.messages import AssistantMessage
from app.domain.task_hint import suggest_model
from app.ui.chat_view import ChatView
from app.ui.composer import Composer
from app.ui.context_gauge import ContextGauge
from app.ui.cost_ceiling import CostCeiling
from app.ui.model_switcher import ModelSwitcher
from app.ui.plain import plain_label, plain_message_box
from app.ui.status_line import ModelStatus
from app.ui.task_hint_bar import TaskHintBar
from app.ui.thinking_controls import ThinkingControls
from app.ui.tools_menu import ToolsMenu
from app.ui.tools_picker import ToolsPicker


class MainWindow(QMainWindow):
    """Ponder's window: model switcher on top, the chat, the composer, a status bar."""

    def __init__(self, session: ChatSession, *, panel_default: str = "auto", store=None, persistence=None,
                 mcp_servers=None, count_tool_tokens=None):
        """``mcp_servers``: a callable giving the MCP servers' states (``McpManager.states``);
        ``count_tool_tokens(specs)``: the schema cost of tools in tokens (the Tools menu)."""
        super().__init__()
        self.session = session
        self.store = store  # app.store Store, or None (no history: tests, benchmarks)
        self.persistence = persistence
        self.setWindowTitle("Ponder")
        # An explicit minimum: the layout's own one grows with what is shown (thinking
        # controls, hints) and Qt would then widen the window by itself.
        self.setMinimumSize(720, 480)
        self.resize(920, 760)

        config = session.config
        self.switcher = ModelSwitcher(config, self)
        self.chat = ChatView(self)
        self.chat.panel_default = panel_default
        self.chat.model_labels = {m.id: m.label for m in config.models}
        self.chat.model_billing = billings(config.models)
        self.composer = Composer(self)
        self.gauge = ContextGauge(self)
        self.thinking_controls = ThinkingControls(self)
        self.tools_picker = ToolsPicker(self, servers=mcp_servers)
        self.tools_menu = ToolsMenu(self, servers=mcp_servers, count_tokens=count_tool_tokens)
        self.cost_ceiling = CostCeiling(self)
        self.task_hint = TaskHintBar(self)
        self._measure_debounce = QTimer(self)
        self._measure_debounce.setSingleShot(True)
        self._measure_debounce.setInterval(300)
        self.model_status = ModelStatus(self)
        self.errors = plain_label(parent=self)  # server and model text: never rich text
        self.errors.setObjectName("errorBanner")
        self.errors.setWordWrap(True)
        self.errors.hide()

        # the model row is a bar of its own, so the chat visibly ends at its edge when scrolled
        self.model_row = QWidget(self)
        self.model_row.setObjectName("modelRow")
        self.model_row.setAttribute(Qt.WA_StyledBackground, True)
        top = QHBoxLayout(self.model_row)
        top.setContentsMargins(12, 6, 12, 6)
        model_label = plain_label("M&odel:", self.model_row)
        model_label.setBuddy(self.switcher)
        top.addWidget(model_label)
        top.addWidget(self.switcher)
        top.addStretch(1)
        chat_area = QWidget(self)
        layout = QVBoxLayout(chat_area)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.model_row)
        layout.addWidget(self.chat, 1)
        layout.addWidget(self.errors)
        layout.addWidget(self.gauge)
        layout.addWidget(self.task_hint)
        self.controls_row = QWidget(self)  # the thinking controls and the tools control, over the composer
        self.controls_row.setObjectName("composerControls")
        self.controls_row.setAttribute(Qt.WA_StyledBackground, True)
        controls = QHBoxLayout(self.controls_row)
        controls.setContentsMargins(0, 0, 12, 0)
        controls.setSpacing(0)
        controls.addWidget(self.thinking_controls, 1)
        controls.addWidget(self.tools_picker)
        layout.addWidget(self.controls_row)
        layout.addWidget(self.cost_ceiling)
        layout.addWidget(self.composer)
        self.sidebar = None
        if store is not None:
            from PySide6.QtWidgets import QSplitter

            from app.ui.history_sidebar import HistorySidebar

            self.sidebar = HistorySidebar(self)
            splitter = QSplitter(self)
            splitter.addWidget(self.sidebar)
            splitter.addWidget(chat_area)
            splitter.setStretchFactor(1, 1)
            splitter.setSizes([230, 700])
            self.setCentralWidget(splitter)
        else:
            self.setCentralWidget(chat_area)
        self.statusBar().addWidget(self.model_status, 1)
        self.switcher.select(session.profile.id)

        session.set_cloud_confirmation(self._confirm_cloud)
        self.history = None
        if store is not None:
            from app.ui.history_binding import HistoryBinding

            self.history = HistoryBinding(self, store, persistence)
        self._build_menus()
        self._tab_order()
        self._wire()
        self._sync_carry()
        self._sync_thinking_controls()
        self.composer.edit.setFocus()

    def _wire(self) -> None:
        s = self.session
        self.composer.send_requested.connect(s.send)
        self.composer.stop_requested.connect(s.stop)
        self.composer.answer_now_requested.connect(s.answer_now)
        self.thinking_controls.changed.connect(self._apply_thinking_controls)
        s.model_ready.connect(lambda *_: self._sync_thinking_controls())
        s.message_changed.connect(lambda m: self.composer.set_thinking(m.open_block is not None and not m.finished))
        s.usage.usage_changed.connect(self.gauge.set_usage)
        QShortcut(QKeySequence(Qt.Key_Escape), self, activated=s.stop)
        self.switcher.model_chosen.connect(s.set_model)
        self.switcher.model_chosen.connect(lambda _id: (self._sync_carry(), self._sync_thinking_controls(),
                                                        self._measure_debounce.start()))
        s.message_added.connect(self.chat.add_message)
        s.message_changed.connect(self.chat.update_message)
        s.prompt_measured.connect(self._show_prompt_usage)
        s.model_ready.connect(lambda *_: self._measure_debounce.start())
        self.composer.edit.textChanged.connect(self._measure_debounce.start)
        self._measure_debounce.timeout.connect(self._measure_draft)
        self.gauge.carry_changed.connect(self._on_carry_changed)
        self.task_hint.switch_requested.connect(self.choose_model)
        s.chat_reset.connect(self.chat.clear)
        s.message_removed.connect(self.chat.remove_message)
        self.chat.action_requested.connect(s.choose)
        self.chat.trace_requested.connect(self.open_trace)
        self.chat.answer_now_requested.connect(s.answer_now)
        self.chat.stop_requested.connect(s.stop)
        self.chat.tool_approved.connect(s.approve_tool)  # remember "" is None there
        self.chat.tool_denied.connect(s.deny_tool)
        self.tools_picker.changed.connect(s.set_tools)
        s.chat_reset.connect(lambda: self.tools_picker.set_keys(()))  # a conversation starts without tools
        s.conversation_opened.connect(lambda *_: self.tools_picker.set_keys(()))
        self.chat.regenerate_requested.connect(lambda _m: s.regenerate())
        self.chat.edit_requested.connect(self._edit_user_message)
        s.chat_reset.connect(lambda: (self._sync_carry(), self._measure_debounce.start()))
        s.conversation_opened.connect(lambda *_: (self._sync_carry(), self._measure_debounce.start()))
        s.busy_changed.connect(self.composer.set_busy)
        s.turn_finished.connect(self._on_turn_finished)
        s.model_loading.connect(lambda mid: self.model_status.loading(self._label(mid)))
        s.model_ready.connect(lambda mid, secs: self.model_status.ready(self._label(mid), secs))
        s.model_failed.connect(self._on_model_failed)
        s.model_inspected.connect(lambda mid, hint, _verdict: self.switcher.set_hint(mid, hint))

    def _tab_order(self) -> None:
        """Tab follows the reading order: model row, chat (the view threads its messages' panel
        headers and buttons in after itself), gauge, thinking controls, hint, composer, sidebar."""
        c, t = self.composer, self.thinking_controls
        chain = [self.switcher, self.chat, self.gauge.carry, t.thinking_box, t.budget_box, t.custom, t.minimum,
                 self.tools_picker, self.task_hint.button, c.edit, c.send_button, c.answer_now_button, c.stop_button]
        if self.sidebar is not None:
            chain += [self.sidebar.new_button, self.sidebar.search, self.sidebar.reasoning_box, self.sidebar.list]
        for first, second in zip(chain, chain[1:]):
            QWidget.setTabOrder(first, second)

    def _edit_user_message(self, message) -> None:
        from PySide6.QtWidgets import QInputDialog

        text, ok = QInputDialog.getMultiLineText(self, "Edit message", "Continue the chat from:", message.text)
        if ok:
            self.session.edit_user_message(message, text)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        chat = bar.addMenu("&Chat")
        chat.addAction("&New chat", QKeySequence.New, self.session.new_chat)
        chat.addSeparator()
        if self.history is not None:
            chat.addAction("Export as &Markdown…", lambda: self.history.export_dialog("markdown"))
            chat.addAction("Export as &JSON…", lambda: self.history.export_dialog("json"))
            chat.addAction("&Import JSON…", self.history.import_dialog)
        chat.addSeparator()
        chat.addAction("&Quit", QKeySequence.Quit, self.close)
        models = bar.addMenu("&Models")
        models.addAction("&Manage models…", QKeySequence("Ctrl+M"), self.open_model_manager)
        bar.addMenu(self.tools_menu)
        if self.store is not None:
            models.addAction("&Usage and cost…", self.open_usage)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction("Open &log folder", self.open_log_folder)
        help_menu.addAction("&About Ponder", self.open_about)

    def open_model_manager(self):
        from app.ui.model_manager import ModelManager

        dialog = ModelManager(self)
        dialog.models_changed.connect(self._on_models_changed)
        dialog.open()
        return dialog

    def open_usage(self):
        """Tokens and cost per model over a period, from the history."""
        from app.ui.usage_view import UsageView

        if self.persistence is not None:
            self.persistence.flush()
        dialog = UsageView(self.store, self.chat.model_billing, self.chat.model_labels, self)
        dialog.open()
        return dialog

    def open_log_folder(self) -> None:
        from app.ui.log_folder import open_log_folder

        problem = open_log_folder()
        if problem:
            self.show_error(problem)

    def open_about(self):
        try:
            from app.ui.about_dialog import AboutDialog
        except ImportError:  # built without it
            return None
        dialog = AboutDialog(self)
        dialog.open()
        return dialog  # shown window-modal; the caller may keep it for tests

    def _on_models_changed(self, config) -> None:
        self.session.set_config(config)
        self.chat.model_labels = {m.id: m.label for m in config.models}
        self.chat.model_billing = billings(config.models)
        self.switcher.set_config(config)
        self.switcher.select(self.session.profile.id)
        self._sync_thinking_controls()
        self.session.inspect_models()

    def _confirm_cloud(self, profile) -> bool:
        """Asked once per conversation before its local turns go to a cloud model."""
        from PySide6.QtWidgets import QMessageBox

        box = plain_message_box(self, "Send this conversation to the cloud?",
                                f"This conversation has turns that ran locally. Sending the next message to "
                                f"{profile.label} shares the conversation (answers, not earlier reasoning) with "
                                f"{profile.host}.\n\nContinue?", icon=QMessageBox.Question,
                                buttons=QMessageBox.Yes | QMessageBox.No)
        answer = box.exec()
        return answer == QMessageBox.Yes

    def choose_model(self, model_id: str) -> None:
        """Switch as if the user picked ``model_id`` in the dropdown."""
        self.switcher.select(model_id)
        self.switcher.model_chosen.emit(model_id)

    def _sync_thinking_controls(self) -> None:
        switchable, reasons = self.session.thinking_capabilities()
        self.thinking_controls.set_model(self.session.profile, switchable=switchable, reasons=reasons)
        self._apply_thinking_controls()

    def _apply_thinking_controls(self) -> None:
        c = self.thinking_controls
        self.session.set_options(replace(self.session.options, thinking_budget=c.budget(), thinking=c.thinking(),
                                         min_thinking=c.min_thinking()))
        self.cost_ceiling.set_turn(self.session.profile, c.budget(), self.session.max_tokens)

    def _sync_carry(self) -> None:
        self.gauge.set_carry(self.session.effective_carry)

    def _measure_draft(self) -> None:
        draft = self.composer.edit.toPlainText()
        self.task_hint.suggest(*suggest_model(draft, self.session.profile, self.session.config.models))
        if not self.session.busy:
            self.session.measure_next_prompt(draft)

    def _show_prompt_usage(self, usage) -> None:
        if self.session.busy:
            return
        note = (f"dropping earlier thinking saves {usage.carried_reasoning:,} tokens"
                if usage.carried_reasoning else "")
        self.gauge.set_saving_note(note)
        self.gauge.set_usage(usage, preview=True)
        self.cost_ceiling.set_prompt(usage.used)

    def _on_carry_changed(self, policy: str) -> None:
        self.session.set_options(replace(self.session.options, carry=policy))
        self._measure_draft()

    def open_trace(self, message: AssistantMessage):
        from app.ui.trace_viewer import TraceViewer

        question, earlier = turn_context(self.session.conversation.messages, message)
        return TraceViewer.open_for(message, self, billing=self.chat.model_billing.get(message.model_id),
                                    question=question, earlier_turns=earlier)

    def _label(self, model_id: str) -> str:
        return self.chat.model_labels.get(model_id, model_id)

    def _on_model_failed(self, model_id: str, message: str) -> None:
        self.model_status.failed(self._label(model_id), message)
        self.show_error(message)

    def _on_turn_finished(self, message: AssistantMessage) -> None:
        if message.error:
            self.show_error(message.error)
        else:
            self.errors.hide()

    def show_error(self, message: str) -> None:
        """The one place non-UI errors are shown to the user."""
        self.errors.setText(message)
        self.errors.show()

    def shutdown(self) -> bool:
        """The one way Ponder stops: the turn, the model worker (a bounded wait), the store.
        False when a model load could not be interrupted (the process should exit at once)."""
        ended = self.session.shutdown()
        if self.persistence is not None:
            self.persistence.close()
        return ended

    def closeEvent(self, event) -> None:  # noqa: N802
        self.shutdown()
        super().closeEvent(event)
