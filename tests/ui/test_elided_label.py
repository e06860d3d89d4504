"""ElidedLabel: cuts its text with "…" to the width it gets instead of widening its layout."""

from PySide6.QtWidgets import QHBoxLayout, QWidget

from app.ui.elided_label import ElidedLabel

LONG = "Thought for 12.3 s · 1,804 tokens · 9% of context · cut at the thinking budget " * 3


def test_it_asks_for_little_and_shows_what_fits(qtbot):
    box = QWidget()
    qtbot.addWidget(box)
    label = ElidedLabel(LONG, box)
    label.set_prefix("▸ ")
    QHBoxLayout(box).addWidget(label)
    assert label.minimumSizeHint().width() < 60 < label.sizeHint().width()
    box.resize(300, 40)
    box.show()
    qtbot.waitExposed(box)
    assert box.width() == 300  # the layout did not grow to the text
    assert label.text() == LONG
    shown = label.shown_text()
    assert shown.startswith("▸ Thought for") and shown.endswith("…") and label.is_elided()
    assert label.fontMetrics().horizontalAdvance(shown) <= label.contentsRect().width()
    assert label.toolTip() == LONG


def test_it_shows_everything_when_there_is_room(qtbot):
    label = ElidedLabel("short")
    qtbot.addWidget(label)
    label.resize(400, 30)
    label.show()
    assert label.shown_text() == "short" and not label.is_elided() and label.toolTip() == ""
    label.setToolTip("details")
    assert label.toolTip() == "details"
    label.setText(LONG)
    assert label.is_elided() and label.toolTip() == LONG + "\n\ndetails"
