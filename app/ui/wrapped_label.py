"""A word-wrapped plain-text label that lays its text out once per width.

A wrapped QLabel answers ``heightForWidth`` by laying its whole text out again, and the chat's
layouts ask every label again whenever anything in the chat changes: adding one message asked
the earlier user messages 20–30 times, each a full layout of their text (a pasted 4 kB prompt:
7–20 ms each, on the GUI thread while the prompt is evaluated, so taken from llama.cpp's
threads). This label remembers the height for each width it was asked about until its text,
font, style or margins change.
Its text format stays ``Qt.PlainText``.

No signals.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QLabel, QWidget

_FORGET_ON = (QEvent.FontChange, QEvent.StyleChange, QEvent.ContentsRectChange, QEvent.LayoutDirectionChange)
_WIDTHS_KEPT = 8  # a chat asks at two or three widths; a window being resized at many


class WrappedLabel(QLabel):
    """A plain-text, word-wrapped label whose height for a width is computed once."""

    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self._heights: dict[int, int] = {}
        self.setTextFormat(Qt.PlainText)
        self.setWordWrap(True)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        if text != self.text():
            self._heights.clear()
            QLabel.setText(self, text)

    def setWordWrap(self, on: bool) -> None:  # noqa: N802
        self._heights.clear()
        super().setWordWrap(on)

    def setIndent(self, indent: int) -> None:  # noqa: N802
        self._heights.clear()
        super().setIndent(indent)

    def setMargin(self, margin: int) -> None:  # noqa: N802
        self._heights.clear()
        super().setMargin(margin)

    def setTextInteractionFlags(self, flags) -> None:  # noqa: N802
        self._heights.clear()
        super().setTextInteractionFlags(flags)

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        height = self._heights.get(width)
        if height is None:
            if len(self._heights) >= _WIDTHS_KEPT:
                self._heights.clear()
            height = self._heights[width] = self._laid_out_height(width)
        return height

    def _laid_out_height(self, width: int) -> int:
        """QLabel's answer: the whole text laid out at ``width``."""
        return QLabel.heightForWidth(self, width)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() in _FORGET_ON:
            self._heights.clear()
        super().changeEvent(event)
