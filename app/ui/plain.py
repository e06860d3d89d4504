"""Text from outside Ponder shown as text: labels, tooltips, message boxes, menu entries.

Qt draws a QLabel, a QMessageBox or a tooltip as rich text (HTML) as soon as its text looks
like HTML (``Qt::mightBeRichText``). A server's error body, a model's name or reasoning, a file
name or a conversation title could then draw headings, links and local images in Ponder's
window. Everything in app/ui that shows text goes through these helpers instead
(tests/ui/test_plain_text_sources.py fails on a label, tooltip or message box that does not):

- :func:`plain_label` — a QLabel that shows its text literally, whatever it is set to later;
- :func:`plain_tooltip` — a tooltip string that shows the text literally;
- :func:`plain_message_box` — a QMessageBox whose text and informative text are literal;
- :func:`plain_action_text` — a menu entry's or button's text with "&" shown, not a shortcut.

Only the Markdown view (:mod:`app.ui.markdown_view`) renders a model's text as rich text, from
HTML it builds and escapes itself.
"""

from __future__ import annotations

import html

from PySide6 import QtGui
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

TOOLTIP_PARAGRAPH = "<p style='white-space:pre-wrap'>{}</p>"  # keeps line breaks and runs of spaces


def plain_label(text: str = "", parent: QWidget | None = None) -> QLabel:
    """A label that shows ``text`` (and any text set later) as plain text."""
    label = QLabel(parent)
    label.setTextFormat(Qt.PlainText)
    label.setText(text)
    return label


def plain_tooltip(text: str) -> str:
    """``text`` as a tooltip that shows it literally.

    Qt shows a tooltip as rich text exactly when ``Qt::mightBeRichText`` says it may be, so
    other text is returned as it is and keeps the look of a plain tooltip (no wrapping);
    text that looks like rich text is escaped inside a paragraph that keeps its line breaks.
    """
    if not QtGui.Qt.mightBeRichText(text):
        return text
    lines = text.replace("\r\n", "\n").replace("\r", "\n")
    return TOOLTIP_PARAGRAPH.format(html.escape(lines, quote=False))


def plain_message_box(parent: QWidget | None, title: str, text: str, *,
                      icon: QMessageBox.Icon = QMessageBox.Information,
                      buttons: QMessageBox.StandardButton = QMessageBox.Ok,
                      default: QMessageBox.StandardButton | None = None,
                      informative: str = "") -> QMessageBox:
    """A message box (not shown yet: call ``exec()`` or ``open()``) with literal texts."""
    box = QMessageBox(icon, title, text, buttons, parent)
    box.setTextFormat(Qt.PlainText)
    if default is not None:
        box.setDefaultButton(default)
    if informative:
        box.setInformativeText(informative)
        # the informative label is a separate QLabel that does not follow setTextFormat
        for label in box.findChildren(QLabel, "qt_msgbox_informativelabel"):
            label.setTextFormat(Qt.PlainText)
    return box


def plain_action_text(text: str) -> str:
    """``text`` for a menu entry or button: "&" is shown (not a keyboard shortcut) and a tab
    does not move the rest into the shortcut column."""
    return text.replace("&", "&&").replace("\t", " ")
