"""A read-only, self-sizing Markdown view for one message's answer, rendered incrementally."""

from __future__ import annotations

import math

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
    the live tail. Nothing is ever loaded: `loadResource` refuses every request and counts
    it in `blocked_resource_requests`.
    """

    linkActivated = Signal(QUrl)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.blocked_resource_requests = 0
        self._stream = StreamingMarkdown()
        self._finished = False
        self._has_stable = False
        self._stable_end = 0  # document position where the live tail begins
        self._stable_block_format = QTextBlockFormat()
        self._stable_char_format = QTextCharFormat()
        self._content_height = 0
        # Parented to the view so resource requests from parsing HTML reach loadResource below.
        self._scratch = QTextDocument(self)

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
        self._has_stable = False
        self._stable_end = 0
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
        margins = self.contentsMargins()
        height = math.ceil(size.height()) + margins.top() + margins.bottom()
        if height != self._content_height:
            self._content_height = height
            self.setFixedHeight(height)
            self.updateGeometry()

    def _apply(self, update: RenderUpdate) -> None:
        if update.replace_all or not self._has_stable:
            self._replace_document(update)
            return
        stable, tail = update.stable_html.strip(), update.tail_html.strip()
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()  # one layout pass and one size change per flush
        self._remove_tail(cursor)
        if stable:
            self._insert_html(cursor, stable)
            self._mark_stable_end(cursor)
        self._insert_html(cursor, tail)
        cursor.endEditBlock()

    def _replace_document(self, update: RenderUpdate) -> None:
        """Fill the document from scratch: nothing stable was shown yet, or all is replaced."""
        doc = self.document()
        self._has_stable = False
        self._stable_end = 0
        stable, tail = update.stable_html.strip(), update.tail_html.strip()
        if not stable:
            if tail:
                doc.setHtml(tail)
            else:
                doc.clear()
            return
        doc.setHtml(stable)
        cursor = QTextCursor(doc)
        self._mark_stable_end(cursor)
        self._insert_html(cursor, tail)

    def _mark_stable_end(self, cursor: QTextCursor) -> None:
        cursor.movePosition(QTextCursor.MoveOperation.End)
        self._has_stable = True
        self._stable_end = cursor.position()
        self._stable_block_format = cursor.blockFormat()
        self._stable_char_format = cursor.blockCharFormat()

    def _remove_tail(self, cursor: QTextCursor) -> None:
        cursor.movePosition(QTextCursor.MoveOperation.End)
        if cursor.position() == self._stable_end:
            return
        cursor.setPosition(self._stable_end, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        # Removing the tail merges its last block into the last stable one, which can take
        # the tail's block format (seen after tables and rules): put the stable one back.
        if cursor.blockFormat() != self._stable_block_format:
            cursor.setBlockFormat(self._stable_block_format)
        if cursor.blockCharFormat() != self._stable_char_format:
            cursor.setBlockCharFormat(self._stable_char_format)

    def _insert_html(self, cursor: QTextCursor, html: str) -> None:
        """Insert block-level HTML at the cursor as new blocks, keeping their formats."""
        if not html:
            return
        scratch, doc = self._scratch, self.document()
        # HTML is resolved against the document defaults, so keep the scratch copy in step.
        if scratch.defaultFont() != doc.defaultFont():
            scratch.setDefaultFont(doc.defaultFont())
        if scratch.defaultStyleSheet() != doc.defaultStyleSheet():
            scratch.setDefaultStyleSheet(doc.defaultStyleSheet())
        scratch.setHtml(_PLACEHOLDER + html)
        placeholder = QTextCursor(scratch)
        placeholder.setPosition(1, QTextCursor.MoveMode.KeepAnchor)
        placeholder.removeSelectedText()
        cursor.insertFragment(QTextDocumentFragment(scratch))
