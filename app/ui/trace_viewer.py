"""A window for studying one assistant message's trace.

It shows the full reasoning (all blocks) with search — every match highlighted, next and
previous with wrap-around (buttons, Enter / Shift+Enter, F3 / Shift+F3), "n of m" — the
token-rate timeline, a clickable list of the places where the model changes course, the
per-block figures with the message summary ("reasoning was 14× the answer"), and export of
the trace as Markdown or JSON. Tool calls are in all of it: a line in the text where each
happened, a band on the timeline, a row in the figures (the tool's time, its result tokens,
the re-evaluation after it) and the tools' totals in the summary; the exports include them.

Open it with ``TraceViewer.open_for(message, parent)`` (non-modal, deleted on close); a cloud
message's cost split shows under the timings (``billing=``, ``question=``, ``earlier_turns=``:
app.ui.cost_split).

Signals:
    marker_activated(int position) — the text cursor moved to a change of course
        (position in the document, in Qt's UTF-16 units)
    exported(str path, str fmt) — a trace was written ("markdown" or "json")
    export_failed(str message) — writing failed; the message says what to do
"""

from __future__ import annotations

import json
import os
import re
from bisect import bisect_left
from pathlib import Path

from PySide6.QtCore import QStandardPaths, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QKeyEvent,
    QKeySequence,
    QPalette,
    QShortcut,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.domain import trace
from app.domain.messages import AssistantMessage, ReasoningBlock, ToolCallPart
from app.ui import format as ui_format
from app.ui.cost_split import CostSplit
from app.ui.plain import plain_label, plain_tooltip
from app.ui.timeline_widget import TimelineWidget

REASONING_COLOUR = QColor("#5f5a73")
MATCH_COLOUR = QColor("#fff1a8")
CURRENT_MATCH_COLOUR = QColor("#ffb938")
MARKER_COLOUR = QColor("#8a3ffc")
STATUS_COLOUR, ERROR_COLOUR = QColor("#6a737d"), QColor("#b0441c")
SEARCH_DELAY_MS = 120  # typing pauses this long before a search over a long trace runs
FORMATS = {"markdown": ".md", "md": ".md", "json": ".json"}
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def qt_positions(text: str, offsets: list[int]) -> list[int]:
    """Python string offsets as QTextDocument positions (UTF-16: astral characters count 2)."""
    astral = [m.start() for m in _ASTRAL.finditer(text)]
    return [off + bisect_left(astral, off) for off in offsets] if astral else list(offsets)


class CourseChangeHighlighter(QSyntaxHighlighter):
    """Shows the course-change phrases in the text (matches never span lines, so per-line
    matching finds exactly what :func:`trace.course_changes` finds in the whole text)."""

    def __init__(self, document) -> None:
        super().__init__(document)
        self.format = QTextCharFormat()
        self.format.setForeground(MARKER_COLOUR)
        self.format.setFontWeight(QFont.Bold)

    def highlightBlock(self, text: str) -> None:  # noqa: N802 (Qt naming)
        changes = trace.course_changes(text)
        if changes:
            starts = qt_positions(text, [c.offset for c in changes])
            for change, start in zip(changes, starts):
                self.setFormat(start, change.length, self.format)


class SearchBox(QLineEdit):
    """The search field: Enter asks for the next match, Shift+Enter for the previous one."""

    next_requested = Signal()
    previous_requested = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt naming)
        if event.key() in (Qt.Key_Return, Qt.Key_Enter):
            if event.modifiers() & Qt.ShiftModifier:
                self.previous_requested.emit()
            else:
                self.next_requested.emit()
            event.accept()  # not the dialog's default button
            return
        super().keyPressEvent(event)


class TraceViewer(QDialog):
    """The trace of one assistant message: reasoning, search, timeline, markers, figures."""

    marker_activated = Signal(int)
    exported = Signal(str, str)
    export_failed = Signal(str)

    def __init__(self, message: AssistantMessage, parent: QWidget | None = None, *, billing=None, question: str = "",
                 earlier_turns: bool = True):
        super().__init__(parent)
        self.setObjectName("traceViewer")
        self.billing, self.turn = billing, (question, earlier_turns)  # for the cost line (app.ui.cost_split)
        self.setModal(False)
        self.setWindowFlags(Qt.Window | Qt.WindowMinMaxButtonsHint | Qt.WindowCloseButtonHint)
        self.resize(1040, 720)
        self.message = message
        self.matches: list[tuple[int, int]] = []  # (start, end) document positions
        self.current_match = -1
        self.query = ""
        self.changes: list[trace.CourseChange] = []
        self.change_positions: list[int] = []
        self._build()
        self.set_message(message)

    @classmethod
    def open_for(cls, message: AssistantMessage, parent: QWidget | None = None, **kw) -> TraceViewer:
        """Create, show and return a viewer that deletes itself when closed."""
        viewer = cls(message, parent, **kw)
        viewer.setAttribute(Qt.WA_DeleteOnClose, True)
        viewer.show()
        viewer.raise_()
        viewer.activateWindow()  # keyboard focus (Esc closes it) also without a window manager
        return viewer

    # -- building --------------------------------------------------------------------------
    def _build(self) -> None:
        self.summary_label = plain_label(parent=self)
        self.summary_label.setObjectName("traceSummary")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        bold = self.summary_label.font()
        bold.setBold(True)
        self.summary_label.setFont(bold)
        self.timings_label = plain_label(parent=self)
        self.timings_label.setObjectName("traceTimings")
        self.timeline = TimelineWidget(self)
        self.cost_split = CostSplit(self)
        splitter = QSplitter(Qt.Horizontal, self)
        splitter.addWidget(self._build_text_pane())
        splitter.addWidget(self._build_side_pane())
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([620, 400])

        self.status_label = plain_label(parent=self)
        self.status_label.setObjectName("traceStatus")
        self.status_label.setWordWrap(True)
        self.export_md_button = self._button("Export Markdown…", lambda: self._export_dialog("markdown"))
        self.export_json_button = self._button("Export JSON…", lambda: self._export_dialog("json"))
        close_button = self._button("Close", self.close)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status_label, 1)
        bottom.addWidget(self.export_md_button)
        bottom.addWidget(self.export_json_button)
        bottom.addWidget(close_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(6)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.timings_label)
        layout.addWidget(self.cost_split)
        layout.addWidget(self.timeline)
        layout.addWidget(splitter, 1)
        layout.addLayout(bottom)

        QShortcut(QKeySequence.Find, self, self._focus_search)
        QShortcut(QKeySequence.FindNext, self, self.find_next)
        QShortcut(QKeySequence.FindPrevious, self, self.find_previous)

    def _build_text_pane(self) -> QWidget:
        """The search row over the reasoning text."""
        self.search_box = SearchBox(self)
        self.search_box.setObjectName("traceSearch")
        self.search_box.setPlaceholderText("Search the reasoning")
        self.search_box.setClearButtonEnabled(True)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(lambda: self.search(self.search_box.text()))
        self.search_box.textChanged.connect(self._on_search_text)
        self.search_box.next_requested.connect(self._on_search_next)
        self.search_box.previous_requested.connect(self._on_search_previous)
        self.prev_button = self._button("Previous", self.find_previous)
        self.next_button = self._button("Next", self.find_next)
        self.match_label = plain_label(parent=self)
        self.match_label.setObjectName("traceMatchCount")
        self.match_label.setMinimumWidth(80)
        search_row = QHBoxLayout()
        search_row.setSpacing(4)
        search_row.addWidget(self.search_box, 1)
        search_row.addWidget(self.prev_button)
        search_row.addWidget(self.next_button)
        search_row.addWidget(self.match_label)

        self.text_view = QPlainTextEdit(self)
        self.text_view.setObjectName("traceText")
        self.text_view.setReadOnly(True)
        self.text_view.setTextInteractionFlags(Qt.TextSelectableByMouse | Qt.TextSelectableByKeyboard)
        mono = QFontDatabase.systemFont(QFontDatabase.FixedFont)
        mono.setPointSizeF(max(7.0, mono.pointSizeF() * 0.95))
        self.text_view.setFont(mono)
        palette = self.text_view.palette()
        palette.setColor(QPalette.Text, REASONING_COLOUR)
        palette.setColor(QPalette.Highlight, CURRENT_MATCH_COLOUR)  # the current match or marker
        palette.setColor(QPalette.HighlightedText, QColor("#1f1d29"))
        self.text_view.setPalette(palette)
        self.highlighter = CourseChangeHighlighter(self.text_view.document())
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(search_row)
        left_layout.addWidget(self.text_view, 1)
        return left

    def _build_side_pane(self) -> QWidget:
        """The changes of course over the block figures."""
        self.markers_title = plain_label(parent=self)
        self.markers_title.setObjectName("traceSectionTitle")
        self.markers = QListWidget(self)
        self.markers.setObjectName("traceMarkers")
        self.markers.setToolTip("Where the model changes course; click to jump there")
        self.markers.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.markers.setTextElideMode(Qt.ElideRight)
        self.markers.itemClicked.connect(lambda item: self.jump_to_marker(self.markers.row(item)))
        self.markers.currentRowChanged.connect(self._on_marker_row)
        self.blocks_title = plain_label("Blocks", self)
        self.blocks_title.setObjectName("traceSectionTitle")
        self.stats_table = QTableWidget(0, 5, self)
        self.stats_table.setObjectName("traceStats")
        self.stats_table.setHorizontalHeaderLabels(["Part", "Tokens", "Seconds", "Tokens/s", "Notes"])
        self.stats_table.verticalHeader().setVisible(False)
        self.stats_table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.stats_table.setSelectionMode(QAbstractItemView.NoSelection)
        self.stats_table.setFocusPolicy(Qt.NoFocus)
        self.stats_table.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.stats_table.setWordWrap(False)
        rows = self.stats_table.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.stats_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        header.setStretchLastSection(True)
        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.markers_title)
        right_layout.addWidget(self.markers, 3)
        right_layout.addWidget(self.blocks_title)
        right_layout.addWidget(self.stats_table)
        return right

    def _button(self, text: str, slot) -> QPushButton:
        button = QPushButton(text, self)
        button.setAutoDefault(False)  # Enter belongs to the search box
        button.clicked.connect(slot)
        return button

    def _focus_search(self) -> None:
        self.search_box.setFocus(Qt.ShortcutFocusReason)
        self.search_box.selectAll()

    # -- content ---------------------------------------------------------------------------
    def set_message(self, message: AssistantMessage) -> None:
        """Show ``message`` (call again to refresh a message that was still streaming)."""
        self.message = message
        self.setWindowTitle(f"Trace · {message.model_id or 'assistant'}")
        doc = trace.reasoning_document(message)
        self.text_view.setPlainText(doc.text or "(no reasoning in this message)")
        self.changes = trace.course_changes(doc.text)
        self.change_positions = qt_positions(doc.text, [c.offset for c in self.changes])
        self._fill_markers()
        summary = trace.message_summary(message)
        self.summary_label.setText(trace.summary_line(summary))
        self.timings_label.setText(self._timings_text(summary))
        self._fill_stats(summary)
        self.cost_split.show_cost(message, self.billing, *self.turn)
        self.timeline.set_message(message)
        self.search(self.query)

    @staticmethod
    def _timings_text(summary: dict) -> str:
        parts = []
        for key, label in (("ttft_s", "first token after"), ("first_answer_s", "first answer token after"),
                           ("total_s", "total")):
            if summary[key] is not None:
                parts.append(f"{label} {ui_format.seconds(summary[key])}")
        if summary["tokens_per_s"]:
            parts.append(f"{summary['tokens_per_s']:.0f} tok/s")
        if summary.get("tool_calls"):
            parts.append(f"tools ran {ui_format.seconds(summary['tool_s'])}")
            if summary["reeval_s"] is not None:
                parts.append(f"re-evaluating their results {ui_format.seconds(summary['reeval_s'])}")
            parts.append(f"tool schemas {summary['tool_schema_tokens']:,} + results "
                         f"{summary['tool_result_tokens']:,} tokens")
        text = " · ".join(parts)
        return text[:1].upper() + text[1:]

    def _fill_markers(self) -> None:
        self.markers.blockSignals(True)
        self.markers.clear()
        for change in self.changes:
            item = QListWidgetItem(f"line {change.line_no} · {change.snippet}")
            item.setToolTip(plain_tooltip(change.snippet))  # the model's own words
            self.markers.addItem(item)
        self.markers.blockSignals(False)
        n = len(self.changes)
        self.markers_title.setText(f"Changes of course ({n})" if n else "No changes of course found")

    def _fill_stats(self, summary: dict) -> None:
        """One row per reasoning block and tool call, in the order they happened, then the answer."""
        rows = []
        blocks = iter(trace.block_stats(self.message))
        spans = {span.index: span for span in trace.tool_spans(self.message)}
        call_index = 0
        for part in self.message.parts:
            if isinstance(part, ToolCallPart):
                rows.append(self._tool_row(part, spans.get(call_index)))
                call_index += 1
                continue
            if not isinstance(part, ReasoningBlock):
                continue
            b = next(blocks)
            notes = []
            if b.hidden_tokens:
                notes.append(f"{b.hidden_tokens:,} hidden by the provider")
            if b.budget_cut:
                notes.append("budget cut")  # short: the column is narrow; the header says it in full
            elif b.truncated:
                notes.append("truncated")
            if part.paused_for_call:
                notes.append("paused for a call")
            rows.append((f"Thinking {b.index + 1}", b.tokens, b.seconds, b.tokens_per_s, ", ".join(notes)))
        answer_s = summary["answer_s"]
        answer_tps = summary["answer_tokens"] / answer_s if answer_s else None
        rows.append(("Answer", summary["answer_tokens"], answer_s, answer_tps, ""))
        self.stats_table.setRowCount(len(rows))
        shown = min(len(rows), 6)  # more blocks scroll
        self.stats_table.setFixedHeight(self.stats_table.horizontalHeader().sizeHint().height()
                                        + shown * self.stats_table.verticalHeader().defaultSectionSize()
                                        + 2 * self.stats_table.frameWidth())
        for r, (name, tokens, secs, tps, notes) in enumerate(rows):
            cells = [name, "–" if tokens is None else f"{tokens:,}", "–" if secs is None else f"{secs:.1f}",
                     "–" if tps is None else f"{tps:.1f}", notes]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c in (1, 2, 3):
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                item.setToolTip(plain_tooltip(notes))
                self.stats_table.setItem(r, c, item)
        self.stats_table.setColumnHidden(4, not any(row[4] for row in rows))

    @staticmethod
    def _tool_row(part: ToolCallPart, span: trace.ToolSpan | None) -> tuple:
        """A tool call's row: its result tokens, how long it ran, and what came after."""
        notes = [part.state]
        secs = span.seconds if span is not None else None
        if part.state == "denied" and secs is not None:
            notes, secs = [f"denied after {secs:.1f} s"], None  # it never ran: the span is the wait
        if span is not None and span.reeval_s is not None:
            notes.append(f"re-evaluated in {span.reeval_s:.2f} s")
        return (f"Tool: {part.call.name or 'tool'}", span.result_tokens if span is not None else None, secs, None,
                ", ".join(notes))

    def _cursor(self, start: int, end: int) -> QTextCursor:
        cursor = QTextCursor(self.text_view.document())
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.KeepAnchor)
        return cursor

    # -- search ----------------------------------------------------------------------------
    def search(self, query: str) -> int:
        """Highlight every (case-insensitive) match of ``query``; select the first. Returns the count."""
        self._search_timer.stop()
        doc = self.text_view.document()
        self.query = query
        if self.search_box.text() != query:  # called directly, not from typing
            self.search_box.blockSignals(True)
            self.search_box.setText(query)
            self.search_box.blockSignals(False)
        self.matches = []
        selections = []
        if query:
            found = QTextCharFormat()
            found.setBackground(MATCH_COLOUR)
            cursor = doc.find(query, 0)
            while not cursor.isNull():
                self.matches.append((cursor.selectionStart(), cursor.selectionEnd()))
                sel = QTextEdit.ExtraSelection()
                sel.cursor = cursor
                sel.format = found
                selections.append(sel)
                cursor = doc.find(query, cursor.selectionEnd())
        # set once per query: the current match is the text cursor's selection, so stepping
        # through matches does not re-submit thousands of selections
        self.text_view.setExtraSelections(selections)
        self.current_match = 0 if self.matches else -1
        self._show_current()
        return len(self.matches)

    def _on_search_text(self, text: str) -> None:
        if text:
            self._search_timer.start()
        else:
            self.search("")  # clearing is instant

    def _on_search_next(self) -> None:
        if self._search_timer.isActive():  # typed and pressed Enter at once: search first
            self.search(self.search_box.text())
        else:
            self.find_next()

    def _on_search_previous(self) -> None:
        if self._search_timer.isActive():
            self.search(self.search_box.text())
        self.find_previous()

    def find_next(self) -> None:
        if self.matches:
            self.current_match = (self.current_match + 1) % len(self.matches)
            self._show_current()

    def find_previous(self) -> None:
        if self.matches:
            self.current_match = (self.current_match - 1) % len(self.matches)
            self._show_current()

    def _show_current(self) -> None:
        if self.current_match >= 0:
            start, end = self.matches[self.current_match]
            self.text_view.setTextCursor(self._cursor(start, end))
            self.text_view.centerCursor()
            self.match_label.setText(f"{self.current_match + 1} of {len(self.matches)}")
        else:
            self.match_label.setText("No matches" if self.query else "")
        self.prev_button.setEnabled(len(self.matches) > 1)
        self.next_button.setEnabled(len(self.matches) > 1)

    # -- markers ---------------------------------------------------------------------------
    def _on_marker_row(self, row: int) -> None:
        if row >= 0:
            self.jump_to_marker(row)

    def jump_to_marker(self, row: int) -> None:
        """Select change of course ``row`` in the text and scroll it into the middle."""
        if not 0 <= row < len(self.changes):
            return
        pos = self.change_positions[row]
        if self.markers.currentRow() != row:
            self.markers.blockSignals(True)
            self.markers.setCurrentRow(row)
            self.markers.blockSignals(False)
        self.text_view.setTextCursor(self._cursor(pos, pos + self.changes[row].length))
        self.text_view.centerCursor()
        self.marker_activated.emit(pos)

    # -- export ----------------------------------------------------------------------------
    def export_to(self, path: Path, fmt: str) -> Path:
        """Write the trace to ``path`` ("markdown" or "json"), atomically. Raises OSError."""
        if fmt not in FORMATS:
            raise ValueError(f"Unknown export format {fmt!r}; use markdown or json.")
        path = Path(path)
        if fmt == "json":
            text = json.dumps(trace.trace_json(self.message), ensure_ascii=False, indent=1)
        else:
            text = trace.trace_markdown(self.message)
        tmp = path.with_name(path.name + ".part")
        try:
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        self.exported.emit(str(path), "json" if fmt == "json" else "markdown")
        return path

    def _export_dialog(self, fmt_name: str) -> None:
        ext = FORMATS[fmt_name]
        folder = QStandardPaths.writableLocation(QStandardPaths.DocumentsLocation)
        name = f"ponder-trace-{self.message.uid[:8]}{ext}"
        filters = "Markdown (*.md)" if ext == ".md" else "JSON (*.json)"
        chosen, _ = QFileDialog.getSaveFileName(self, "Export trace", str(Path(folder) / name), filters)
        if not chosen:
            return
        path = Path(chosen)
        if not path.suffix:
            path = path.with_suffix(ext)
        try:
            self.export_to(path, fmt_name)
        except OSError as e:
            text = (f"Could not write {path}: {e.strerror or e}. "
                    "Choose a folder you can write to, or free some disk space.")
            self._set_status(text, error=True)
            self.export_failed.emit(text)
            return
        self._set_status(f"Saved {path.name} to {path.parent}")

    def _set_status(self, text: str, *, error: bool = False) -> None:
        palette = self.status_label.palette()
        palette.setColor(QPalette.WindowText, ERROR_COLOUR if error else STATUS_COLOUR)
        self.status_label.setPalette(palette)
        self.status_label.setText(text)
