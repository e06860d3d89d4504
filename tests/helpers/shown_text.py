"""What a label or a tooltip really shows, as plain text, and a hostile rich-text payload.

Qt renders a QLabel (and the label of a tooltip) as rich text when its format is RichText,
or AutoText and ``Qt::mightBeRichText`` says the text may be HTML; the helpers here render
the same way, so a test can compare what the user reads with what a server sent.
"""

from __future__ import annotations

from PySide6 import QtGui
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QHelpEvent, QTextDocument
from PySide6.QtWidgets import QApplication, QLabel, QToolTip, QWidget

# what the issue saw drawn: a fake heading, a link, a local image, coloured text
HOSTILE = ('<h1>Your API key expired</h1><a href="https://evil.example/renew">Renew it here</a>'
           '<img src="file:///etc/passwd"><font color="red">now</font>')


def rendered(text: str, rich: bool) -> str:
    """``text`` as the user reads it: rendered from HTML when ``rich``, else as it is."""
    if not rich:
        return text
    doc = QTextDocument()
    doc.setHtml(text)
    return doc.toPlainText()


def label_shows(label: QLabel) -> str:
    """The text a label draws."""
    fmt = label.textFormat()
    rich = fmt == Qt.RichText or (fmt == Qt.AutoText and QtGui.Qt.mightBeRichText(label.text()))
    return rendered(label.text(), rich)


def tooltip_shows(tip: str) -> str:
    """The text a tooltip string draws (tooltips are AutoText)."""
    return rendered(tip, QtGui.Qt.mightBeRichText(tip))


def hover(widget: QWidget, pos: QPoint | None = None) -> str:
    """Ask ``widget`` for its tooltip as a hovering mouse does; the text the tooltip shows
    ("" when none appeared). ``pos`` is in the widget's coordinates (default: its middle)."""
    QToolTip.hideText()
    pos = pos if pos is not None else widget.rect().center()
    QApplication.sendEvent(widget, QHelpEvent(QEvent.ToolTip, pos, widget.mapToGlobal(pos)))
    tips = [w for w in QApplication.topLevelWidgets() if w.objectName() == "qtooltip_label" and w.isVisible()]
    shown = label_shows(tips[0]) if tips else ""
    QToolTip.hideText()
    return shown
