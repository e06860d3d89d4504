"""The plain-text helpers: labels, tooltips, message boxes and menu texts show text literally."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox, QPushButton

from app.ui.plain import plain_action_text, plain_label, plain_message_box, plain_tooltip
from helpers.shown_text import HOSTILE, hover, label_shows, tooltip_shows

PAYLOADS = [
    HOSTILE,
    "<b>bold</b>\n\nsecond paragraph\twith a tab and  two spaces",
    "&lt;not an entity&gt; & <i>x</i>",
    "<!DOCTYPE html><html><body><h1>Page</h1></body></html>",
    "plain text, nothing to escape",
    "1 < 2 and 3 > 2",
    "line one\r\n<u>line two</u>",
]


def test_a_plain_label_shows_any_text_literally_also_set_later(qtbot):
    label = plain_label(HOSTILE)
    qtbot.addWidget(label)
    assert label.textFormat() == Qt.PlainText and label_shows(label) == HOSTILE
    label.setText("<font color=red>later</font>")
    assert label_shows(label) == "<font color=red>later</font>"
    # what the helper prevents: Qt's default renders the payload
    default = QLabel(HOSTILE)
    qtbot.addWidget(default)
    assert "<h1>" not in label_shows(default) and "\ufffc" in label_shows(default)


@pytest.mark.parametrize("text", PAYLOADS)
def test_a_plain_tooltip_shows_exactly_the_text(text):
    shown = tooltip_shows(plain_tooltip(text))
    assert shown.replace("\r\n", "\n") == text.replace("\r\n", "\n")  # (line ends may be normalised)


def test_ordinary_tooltips_stay_as_they_are():
    for text in ("Stop the turn", "System prompt: 120 tokens\nfree: 7,000 tokens", "1 < 2", ""):
        assert plain_tooltip(text) == text


def test_a_real_tooltip_of_a_widget_shows_the_payload(qtbot):
    button = QPushButton("hover me")
    qtbot.addWidget(button)
    button.show()
    button.setToolTip(plain_tooltip(HOSTILE))
    assert hover(button) == HOSTILE
    button.setToolTip(HOSTILE)  # without the helper the tooltip draws the payload
    drawn = hover(button)
    assert "<h1>" not in drawn and "\ufffc" in drawn  # a heading, and the image as an embedded object


def test_a_plain_message_box_shows_its_texts_literally(qtbot):
    seen = {}

    def look():
        box = QApplication.activeModalWidget()
        for label in box.findChildren(QLabel):
            if label.objectName() in ("qt_msgbox_label", "qt_msgbox_informativelabel"):
                seen[label.objectName()] = (label.textFormat(), label_shows(label))
        box.reject()

    box = plain_message_box(None, "Ponder", HOSTILE, icon=QMessageBox.Critical, informative="<b>more</b>",
                            buttons=QMessageBox.Yes | QMessageBox.Cancel, default=QMessageBox.Cancel)
    QTimer.singleShot(0, look)
    assert box.exec() != QMessageBox.Yes
    assert seen == {"qt_msgbox_label": (Qt.PlainText, HOSTILE),
                    "qt_msgbox_informativelabel": (Qt.PlainText, "<b>more</b>")}
    assert box.defaultButton() is box.button(QMessageBox.Cancel)


def test_plain_action_text_keeps_ampersands_and_takes_no_shortcut():
    text = plain_action_text("R&D model\tv2")
    assert text == "R&&D model v2"
    assert QKeySequence.mnemonic(text).isEmpty()
    assert not QKeySequence.mnemonic("R&D model").isEmpty()  # what it prevents
