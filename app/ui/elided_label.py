"""A one-line plain-text label that fits the width it is given, eliding its text with "…".

A plain QLabel asks its layout for the width of its whole text, so a long line (a thinking
header, a model's long name) makes the panel, the chat and finally the window wider. This
label asks only for room for its prefix and "…", takes what it gets, and shows the full text
as its tooltip when it had to cut (before any tooltip set with ``setToolTip``). ``text()`` is the full text, ``shown_text()`` what is
drawn (prefix included). Text and tooltip are plain text (model names, a server's error):
never rendered as rich text.

No signals.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from app.ui.plain import plain_tooltip

ELLIPSIS = "…"


class ElidedLabel(QLabel):
    """A label whose text is cut with "…" to its width instead of widening its layout."""

    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setTextFormat(Qt.PlainText)
        self.setWordWrap(False)
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Preferred)
        self._full = ""
        self._prefix = ""
        self._tip = ""
        self.setText(text)

    def text(self) -> str:  # the full text, not the cut one QLabel holds
        return self._full

    def shown_text(self) -> str:
        return QLabel.text(self)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt naming)
        if text != self._full:
            self._full = text
            self._elide()
            self.updateGeometry()

    def set_prefix(self, prefix: str) -> None:
        """Text always shown before the (possibly cut) text, e.g. a chevron."""
        if prefix != self._prefix:
            self._prefix = prefix
            self._elide()
            self.updateGeometry()

    def setToolTip(self, tip: str) -> None:  # noqa: N802 - kept, and shown after the full text when cut
        self._tip = tip
        self._show_tooltip()

    def is_elided(self) -> bool:
        return self.shown_text() != self._prefix + self._full

    # -- sizing ----------------------------------------------------------------------------
    def _extra_width(self) -> int:
        margins = self.contentsMargins()
        return margins.left() + margins.right() + 2 * self.margin() + 2

    def sizeHint(self) -> QSize:  # noqa: N802
        width = self.fontMetrics().horizontalAdvance(self._prefix + self._full) + self._extra_width()
        return QSize(width, super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        width = self.fontMetrics().horizontalAdvance(self._prefix + ELLIPSIS) + self._extra_width()
        return QSize(width, super().minimumSizeHint().height())

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._elide()

    def changeEvent(self, event) -> None:  # noqa: N802 - a style sheet may change the font
        super().changeEvent(event)
        if event.type() in (QEvent.FontChange, QEvent.StyleChange):
            self._elide()

    def _elide(self) -> None:
        metrics = self.fontMetrics()
        room = self.contentsRect().width() - 2 * self.margin() - metrics.horizontalAdvance(self._prefix) - 2
        shown = metrics.elidedText(self._full, Qt.ElideRight, max(0, room))
        if QLabel.text(self) != self._prefix + shown:
            QLabel.setText(self, self._prefix + shown)
        self._show_tooltip()

    def _show_tooltip(self) -> None:
        cut = self.is_elided()
        QLabel.setToolTip(self, plain_tooltip("\n\n".join(t for t in (self._full if cut else "", self._tip) if t)))
