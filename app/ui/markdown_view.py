"""A read-only, self-sizing Markdown view for one message's answer, rendered incrementally."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from PySide6.QtCore import QSize, QSizeF, Qt, QUrl, Signal
from PySide6.QtGui import (
    QPalette,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextDocumentFragment,
)
from PySide6.QtWidgets import QFrame, QSizePolicy, QTextBrowser, QWidget

from app.ui.markdown_html import RenderUpdate, StreamingMarkdown

# The first block of an inserted fragment is merged into the block at the cursor and loses
# its own format (heading, list, <pre>); a throwaway first block absorbs that merge instead.
_PLACEHOLDER = "<p>X</p>"


class MarkdownView(QTextBrowser):
    """Shows one answer as Markdown; the document grows by appending finished blocks.

    Signals:
        linkActivated(QUrl): the user clicked an http, https or mailto link. The view never
            opens anything itself; the window decides.

    `append_text` only accumulates; `flush` (call it from a throttle, ~30 times a second at
    most) inserts newly finished blocks once at the end of the stable region and replaces
    the live tail. Between the two, a list or code fence that is still growing (the open
    block) gains its finished items or lines once; new items join the list already shown
    (one `QTextList`, so numbering goes on) and the margins where they meet are set as the
    whole text would have them. Nothing is ever loaded: `loadResource` refuses every request
    and counts it in `blocked_resource_requests`.
    """

    linkActivated = Signal(QUrl)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.blocked_resource_requests = 0
        self._stream = StreamingMarkdown()
        self._finished = False
        self._stable = _Mark()  # where the open block begins (the end of the finished blocks)
        self._open = _Mark()  # where the live tail begins (the end of the open block)
        self._blank = True  # nothing shown (an hr or empty code block has no text, so ask this)
        self._context_blocks: dict[str, int] = {}  # context HTML -> its block count (last few)
        self._content_height = 0
        self._applying = False
        # Parented to the view so resource requests from parsing HTML reach loadResource below.
        self._scratch = QTextDocument(self)
        self._counter = QTextDocument(self)

        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.anchorClicked.connect(self.linkActivated)
        self.document().setUndoRedoEnabled(False)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setLineWrapMode(QTextBrowser.LineWrapMode.WidgetWidth)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._make_transparent()
        self.document().documentLayout().documentSizeChanged.connect(self._on_document_size_changed)
        self._on_document_size_changed(self.document().size())

    @property
    def stream(self) -> StreamingMarkdown:
        """The streaming renderer (exposes `parsed_chars` for cost checks)."""
        return self._stream

    # --- public API --------------------------------------------------------------------

    def append_text(self, delta: str) -> None:
        """Accumulate `delta`; nothing is rendered until `flush`."""
        if delta:
            self._finished = False
            self._stream.feed(delta)

    def flush(self) -> None:
        """Render what is pending: add newly finished blocks once, replace the live tail."""
        if self._stream.dirty:
            self._apply(self._stream.render())

    def finish(self) -> None:
        """The message is complete: render everything that is left as finished blocks.

        Calling it again without new text does nothing; text appended later starts a new block.
        """
        if not self._finished:
            self._finished = True
            self._apply(self._stream.finish())

    def set_text(self, full: str) -> None:
        """Show a finished message in one go, replacing anything shown (`""` clears)."""
        self._stream = StreamingMarkdown()
        self._clear()
        self._stream.feed(full)
        self._finished = True
        self._apply(self._stream.finish())

    def plain_text(self) -> str:
        """The Markdown source received so far (what "copy" should put on the clipboard)."""
        return self._stream.text

    # --- Qt overrides ------------------------------------------------------------------

    def loadResource(self, type: int, name: QUrl) -> object:  # noqa: A002 - Qt's name
        """Refuse every resource (images, style sheets, sources): model output loads nothing."""
        self.blocked_resource_requests += 1
        return None

    def sizeHint(self) -> QSize:
        return QSize(super().sizeHint().width(), self._content_height)

    def minimumSizeHint(self) -> QSize:
        return QSize(0, self._content_height)

    # --- internals ---------------------------------------------------------------------

    def _make_transparent(self) -> None:
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Base, Qt.GlobalColor.transparent)
        self.setPalette(palette)
        self.viewport().setAutoFillBackground(False)

    def _on_document_size_changed(self, size: QSizeF) -> None:
        if self._applying:  # a flush passes through smaller sizes (it cuts the tail first): size once, at its end
            return
        margins = self.contentsMargins()
        height = math.ceil(size.height()) + margins.top() + margins.bottom()
        if height != self._content_height:
            self._content_height = height
            self.setFixedHeight(height)
            self.updateGeometry()

    def _apply(self, update: RenderUpdate) -> None:
        doc = self.document()
        cursor = QTextCursor(doc)
        self._applying = True
        cursor.beginEditBlock()  # one layout pass and one size change per flush
        try:
            self._edit(cursor, update)
        finally:
            cursor.endEditBlock()
            self._applying = False
        self._on_document_size_changed(doc.size())

    def _edit(self, cursor: QTextCursor, update: RenderUpdate) -> None:
        if update.append_text:  # the tail is a plain paragraph: it grows where it ends
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.insertText(update.append_text)
            return
        if update.replace_all:
            self._clear()
        self._cut(cursor, self._open)  # the old tail
        if update.open_reset:
            self._cut(cursor, self._stable)
            self._open = self._stable
        if update.stable_html and not update.open_closed:
            self._insert_plain(cursor, update.stable_html.strip())
            self._stable = self._open = self._mark(cursor)
        if update.open_html:
            if update.open_context and self._open.position > self._stable.position:
                self._insert_continuing(cursor, update.open_html.strip(), update.open_context.strip())
            else:
                self._insert_plain(cursor, update.open_html.strip())
            self._open = self._mark(cursor)
        if update.open_closed:
            self._stable = self._open
            rest = update.stable_html[update.open_shown:].strip()
            if rest:
                self._insert_plain(cursor, rest)
                self._stable = self._open = self._mark(cursor)
        tail = update.tail_html.strip()
        if tail and update.tail_context and self._open.position > self._stable.position:
            self._insert_continuing(cursor, tail, update.tail_context.strip())
        elif tail:
            self._insert_plain(cursor, tail)

    def _clear(self) -> None:
        self.document().clear()
        self._stable = self._open = _Mark()
        self._blank = True

    def _mark(self, cursor: QTextCursor) -> _Mark:
        cursor.movePosition(QTextCursor.MoveOperation.End)
        return _Mark(cursor.position(), cursor.blockFormat(), cursor.blockCharFormat(), filled=not self._blank)

    def _cut(self, cursor: QTextCursor, mark: _Mark) -> None:
        """Remove everything after ``mark``, giving its block back the formats it had there."""
        if not mark.filled:  # nothing before it (an empty block, e.g. a rule, has no position to cut at)
            self.document().clear()
            self._blank = True
            return
        cursor.movePosition(QTextCursor.MoveOperation.End)
        if cursor.position() == mark.position:
            return
        cursor.setPosition(mark.position, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        # Removing merges the last removed block into the one before, which can take the removed
        # block's format (seen after tables and rules): put the earlier one back.
        if cursor.blockFormat() != mark.block_format:
            cursor.setBlockFormat(mark.block_format)
        if cursor.blockCharFormat() != mark.char_format:
            cursor.setBlockCharFormat(mark.char_format)

    def _insert_plain(self, cursor: QTextCursor, html: str) -> None:
        """Insert block-level HTML at the end as new blocks."""
        if self._blank:  # nothing to go after
            self.document().setHtml(html)
        else:
            cursor.movePosition(QTextCursor.MoveOperation.End)
            self._insert_html(cursor, html)
        self._blank = False

    def _insert_continuing(self, cursor: QTextCursor, html: str, context: str) -> None:
        """Insert ``html``, whose first blocks are ``context`` (shown already at the end), after it.

        The context's blocks are dropped from the fragment. The shown context blocks take the
        bottom margins they have when more follows, and a new block whose list is one of the
        context's lists joins that list as shown (so an ordered list goes on counting).
        """
        doc, scratch = self.document(), self._prepare_scratch()
        scratch.setHtml(html)
        n = self._context_block_count(context)
        shown = [doc.lastBlock()]
        for _ in range(n - 1):
            shown.insert(0, shown[0].previous())
        if scratch.blockCount() <= n or not shown[0].isValid() or shown[0].position() < self._stable.position:
            self._insert_plain(cursor, html)  # never expected: show it rather than lose it
            return
        lists: dict[int, int] = {}  # the context's lists in the fragment -> block number in the context
        margins: list[float] = []
        block = scratch.begin()
        for k in range(n):
            text_list = block.textList()
            if text_list is not None:
                lists.setdefault(text_list.objectIndex(), k)
            margins.append(block.blockFormat().bottomMargin())
            block = block.next()
        joins: list[int | None] = []
        while block.isValid():
            text_list = block.textList()
            joins.append(lists.get(text_list.objectIndex()) if text_list is not None else None)
            block = block.next()
        targets = [b.textList() for b in shown]
        last = scratch.findBlockByNumber(n - 1)
        drop = QTextCursor(scratch)
        drop.setPosition(last.position() + last.length() - 1, QTextCursor.MoveMode.KeepAnchor)
        drop.removeSelectedText()
        for block, margin in zip(shown, margins):
            if block.blockFormat().bottomMargin() != margin:
                fmt = QTextBlockFormat()
                fmt.setBottomMargin(margin)
                QTextCursor(block).mergeBlockFormat(fmt)
        cursor.movePosition(QTextCursor.MoveOperation.End)
        before = cursor.block()
        cursor.insertFragment(QTextDocumentFragment(scratch))
        self._blank = False
        block = before.next()
        for k in joins:
            if not block.isValid():
                break
            if k is not None and targets[k] is not None:
                targets[k].add(block)
            block = block.next()

    def _context_block_count(self, context: str) -> int:
        count = self._context_blocks.get(context)
        if count is None:
            counter = self._counter
            counter.setDefaultFont(self.document().defaultFont())
            counter.setHtml(context)
            count = counter.blockCount()
            if len(self._context_blocks) > 8:
                self._context_blocks.clear()
            self._context_blocks[context] = count
        return count

    def _prepare_scratch(self) -> QTextDocument:
        scratch, doc = self._scratch, self.document()
        # HTML is resolved against the document defaults, so keep the scratch copy in step.
        if scratch.defaultFont() != doc.defaultFont():
            scratch.setDefaultFont(doc.defaultFont())
        if scratch.defaultStyleSheet() != doc.defaultStyleSheet():
            scratch.setDefaultStyleSheet(doc.defaultStyleSheet())
        return scratch

    def _insert_html(self, cursor: QTextCursor, html: str) -> None:
        """Insert block-level HTML at the cursor as new blocks, keeping their formats."""
        if not html:
            return
        scratch = self._prepare_scratch()
        scratch.setHtml(_PLACEHOLDER + html)
        placeholder = QTextCursor(scratch)
        placeholder.setPosition(1, QTextCursor.MoveMode.KeepAnchor)
        placeholder.removeSelectedText()
        cursor.insertFragment(QTextDocumentFragment(scratch))


@dataclass(frozen=True)
class _Mark:
    """A document position and the formats of the block that ends there."""

    position: int = 0
    block_format: QTextBlockFormat = field(default_factory=QTextBlockFormat)
    char_format: QTextCharFormat = field(default_factory=QTextCharFormat)
    filled: bool = False  # something is shown before it
