"""A collapsible panel that shows one reasoning block, live while the model thinks.

The header reads ``▸ Thinking… 4.2 s · 812 tokens`` while streaming and ``▸ Thought for
12.3 s · 1,804 tokens · 9% of context`` afterwards (▾ when open; cut with "…" when the
panel is narrower than the text, never widening the window). Collapsed while streaming, it shows the
last line or two of the live reasoning. The body appends text incrementally (never
re-renders the whole trace).

With tools: a thought that paused for a call says so (``Thought for 2.0 s, then called
calculator``) and the block after the call says it goes on (``Continuing after calculator…``);
a call the model only wrote inside its reasoning (never run) is marked where it stands in the
text and named under the header ("calculator mentioned while thinking, not called").

Signals:
    toggled(bool expanded) — the user expanded or collapsed the panel
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontDatabase, QKeyEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QFrame, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from app.domain.messages import ReasoningBlock
from app.ui import format as fmt
from app.ui.collapsible import StickyExpansion, fit_to_lines
from app.ui.elided_label import ElidedLabel
from app.ui.plain import plain_label

PREVIEW_CHARS = 400
EXTENSION_MARK = " ⟲"  # before a continuation Ponder fed ("Think longer")
BUDGET_MARK = "\n✂ the thinking budget ended the reasoning here"
MENTION_MARK = " ⚑ {tool}: mentioned while thinking, not called "
BODY_MAX_PX = 360  # longer traces scroll inside the panel
# While a block is live its header (seconds, tokens) and preview change with every frame, and
# every new label text relayouts the whole chat: they change at most this often, then at once
# when the block ends.
LIVE_TEXT_S = 0.2
CHEVRON_CLOSED, CHEVRON_OPEN = "▸ ", "▾ "


class ThinkingHeader(ElidedLabel):
    """The clickable, focusable header of a thinking panel.

    A chevron says whether the panel is open (▾) or closed (▸); the status text is elided
    to the panel's width (the full text is the tooltip), so a long header never widens the
    window. The style sheet highlights it on hover and focus.

    Signals:
        activated() — clicked, or Space/Enter while focused
    """

    activated = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__("", parent)
        self.setObjectName("thinkingHeader")
        self.setFocusPolicy(Qt.StrongFocus)
        self.setCursor(Qt.PointingHandCursor)
        self.setAttribute(Qt.WA_Hover, True)
        self.set_expanded(False)

    def set_expanded(self, expanded: bool) -> None:
        self.set_prefix(CHEVRON_OPEN if expanded else CHEVRON_CLOSED)
        self.setProperty("expanded", expanded)
        self._update_accessible_name()
        self.style().unpolish(self)
        self.style().polish(self)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt naming)
        super().setText(text)
        self._update_accessible_name()

    def _update_accessible_name(self) -> None:
        state = "expanded" if self.property("expanded") else "collapsed"
        self.setAccessibleName(f"{self.text()} ({state}; Space or Enter to toggle)")

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        if event.button() == Qt.LeftButton:
            self.activated.emit()
        super().mousePressEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() in (Qt.Key_Space, Qt.Key_Return, Qt.Key_Enter):
            self.activated.emit()
            return
        super().keyPressEvent(event)


class ThinkingPanel(StickyExpansion, QFrame):
    """One reasoning block: header, live preview when collapsed, full text when expanded."""

    toggled = Signal(bool)

    def __init__(self, expanded: bool = False, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("thinkingPanel")
        self.user_touched = False
        self._consumed = 0  # characters of the block's text already taken (shown or trimmed)
        self._shown = 0  # characters put into the body
        self._cut_marked = False
        self._live = True
        self._mentions_marked = 0  # of the block's mentions, how many are marked in the body
        self._texts_at = float("-inf")  # when the header and preview were last set (monotonic)

        self.header = ThinkingHeader(self)
        self.header.activated.connect(self._on_header)
        self.preview = plain_label(parent=self)
        self.preview.setObjectName("thinkingPreview")
        self.preview.setWordWrap(True)
        self.mentions_note = plain_label(parent=self)
        self.mentions_note.setObjectName("thinkingMentions")
        self.mentions_note.setWordWrap(True)
        self.mentions_note.hide()
        self.body = QPlainTextEdit(self)
        self.body.setObjectName("thinkingBody")
        self.body.setReadOnly(True)
        self.body.setTextInteractionFlags(Qt.TextSelectableByMouse | Qt.TextSelectableByKeyboard)
        self.body.setFrameShape(QFrame.NoFrame)
        self.body.setVerticalScrollBarPolicy(Qt.ScrollBarAsNeeded)
        self.body.document().documentLayout().documentSizeChanged.connect(self._fit_body)
        mono = QFontDatabase.systemFont(QFontDatabase.FixedFont)
        mono.setPointSizeF(max(7.0, mono.pointSizeF() * 0.9))
        self.body.setFont(mono)
        self._fit_body()
        self.collapse_button = QPushButton("Collapse thinking", self)
        self.collapse_button.setFlat(True)
        self.collapse_button.clicked.connect(lambda: self.set_expanded(False, by_user=True))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setSpacing(2)
        layout.addWidget(self.header)
        layout.addWidget(self.mentions_note)
        layout.addWidget(self.preview)
        layout.addWidget(self.body)
        layout.addWidget(self.collapse_button, 0, Qt.AlignLeft)
        self._expanded = expanded
        self._apply_expanded()

    # -- state -----------------------------------------------------------------------------
    def _fit_body(self, *_args) -> None:
        fit_to_lines(self.body, BODY_MAX_PX, 0.5)

    def resizeEvent(self, event) -> None:  # noqa: N802 - a new width re-wraps the text
        super().resizeEvent(event)
        self._fit_body()

    def _apply_expanded(self) -> None:
        self.header.set_expanded(self._expanded)
        self.body.setVisible(self._expanded)
        self.preview.setVisible(not self._expanded and self._live)
        long_trace = self.body.blockCount() > 20
        self.collapse_button.setVisible(self._expanded and long_trace)

    # -- content ---------------------------------------------------------------------------
    def update_from(self, block: ReasoningBlock, *, n_ctx: int = 0, now: float | None = None,
                    called: str = "", continued_after: str = "") -> None:
        """Show the block's current state; appends only the text not shown yet.

        ``called`` names the tools this thought paused for, ``continued_after`` the ones the
        thought it continues paused for (see :func:`app.ui.format.thinking_header`).
        """
        if block.text_length > self._consumed or len(block.mentions) > self._mentions_marked:
            start = self._consumed
            delta = block.text_since(start) if block.text_length > start else ""
            self._consumed = block.text_length
            # Marked where they happened: each "Think longer" extension gets a sign before the
            # continuation it fed, each call only mentioned a sign after the call's text.
            marks = [(o, EXTENSION_MARK) for o in block.extensions if start <= o < self._consumed]
            for offset, tool in block.mentions[self._mentions_marked:]:
                if offset > self._consumed:
                    break
                marks.append((max(offset, start), MENTION_MARK.format(tool=tool)))
                self._mentions_marked += 1
            marks.sort(key=lambda m: m[0])
            at = start
            for offset, mark in [*marks, (self._consumed, None)]:
                piece = delta[at - start:offset - start]
                if not self._shown:
                    piece = piece.lstrip()  # whitespace after the marker is not shown
                if piece:
                    self._insert(piece)
                if mark is not None:
                    self._mark(mark)
                at = offset
        self._show_mentions(block)
        if block.budget_cut and block.end is not None and not self._cut_marked:
            self._cut_marked = True
            self._mark(BUDGET_MARK)
        live = block.end is None
        if live and now is not None and now - self._texts_at < LIVE_TEXT_S:
            pass  # the clock or the next frame brings the header and preview up to date
        else:
            self._texts_at = now if now is not None else float("-inf")
            secs = (now - block.start) if (live and now is not None) else block.seconds
            self.header.setText(fmt.thinking_header(
                live=live, secs=max(0.0, secs), n_tokens=block.tokens, n_ctx=n_ctx,
                hidden_tokens=block.hidden_tokens, redacted=block.redacted,
                truncated=block.truncated, budget_cut=block.budget_cut, called=called,
                continued_after=continued_after))
            if live:
                tail = block.text_tail(PREVIEW_CHARS).rstrip().splitlines()
                self.preview.setText("\n".join(tail[-2:]))
        if live != self._live:
            self._live = live
            self._apply_expanded()
        elif self._expanded and self.collapse_button.isHidden() and self.body.blockCount() > 20:
            self.collapse_button.setVisible(True)

    def _show_mentions(self, block: ReasoningBlock) -> None:
        names = list(dict.fromkeys(tool for _, tool in block.mentions))
        if not names:
            return
        text = f"{fmt.join_names(names)} mentioned while thinking, not called"
        if self.mentions_note.text() != text:
            self.mentions_note.setText(text)
            self.mentions_note.show()

    def _insert(self, text: str, fmt: QTextCharFormat | None = None) -> None:
        cursor = self.body.textCursor()
        cursor.movePosition(QTextCursor.End)
        cursor.insertText(text, fmt or QTextCharFormat())
        self._shown += len(text)

    def _mark(self, text: str) -> None:
        """A sign of Ponder's own intervention, set apart from the model's text."""
        fmt = QTextCharFormat()
        fmt.setForeground(QColor("#b06000"))
        fmt.setFontWeight(QFont.Bold)
        self._insert(text, fmt)

    def plain_text(self) -> str:
        return self.body.toPlainText()
