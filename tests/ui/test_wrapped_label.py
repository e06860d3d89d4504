"""WrappedLabel: a wrapped plain-text label that lays its text out once per width (issue 16)."""

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel

from app.domain.messages import UserMessage
from app.ui.chat_view import ChatView
from app.ui.wrapped_label import WrappedLabel

PASTED = " ".join(f"Line {i} of a pasted text, with <b>tags</b> that must stay text." for i in range(80))


def _reference(text: str) -> QLabel:
    label = QLabel()
    label.setTextFormat(Qt.PlainText)
    label.setWordWrap(True)
    label.setText(text)
    return label


def test_heights_are_qlabels_and_follow_text_and_font(qtbot):
    label = WrappedLabel(PASTED)
    qtbot.addWidget(label)
    reference = _reference(PASTED)
    qtbot.addWidget(reference)
    for width in (80, 300, 559, 842, 300):
        assert label.heightForWidth(width) == reference.heightForWidth(width)
    assert label.textFormat() == Qt.PlainText and label.wordWrap()

    short = "Now a short text."
    label.setText(short)
    reference.setText(short)
    assert label.heightForWidth(300) == reference.heightForWidth(300)

    big = QFont(label.font())
    big.setPointSize(big.pointSize() * 3)
    label.setFont(big)
    reference.setFont(big)
    assert label.heightForWidth(300) == reference.heightForWidth(300) > _reference(short).heightForWidth(300)

    label.setMargin(20)
    reference.setMargin(20)
    assert label.heightForWidth(300) == reference.heightForWidth(300)


def test_the_chat_does_not_lay_out_an_earlier_message_again(qtbot, monkeypatch):
    """Each message added to the chat used to lay every earlier user message's text out again,
    many times over (a cost that grows with the conversation and, during a turn, is taken from
    the prompt's evaluation)."""
    layouts: dict[int, list[int]] = {}
    laid_out = WrappedLabel._laid_out_height

    def counting(self, width):
        layouts.setdefault(id(self), []).append(width)
        return laid_out(self, width)

    monkeypatch.setattr(WrappedLabel, "_laid_out_height", counting)
    view = ChatView()
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    qtbot.waitExposed(view)
    first = view.add_message(UserMessage(PASTED)).label
    qtbot.wait(50)
    before = len(layouts[id(first)])
    for i in range(4):
        view.add_message(UserMessage(f"{PASTED} {i}"))
        qtbot.wait(20)
    widths = layouts[id(first)]
    assert len(widths) == len(set(widths))  # once per width asked
    assert len(widths) - before <= 1  # the chat's width may change once, when its scroll bar appears
    assert first.text() == PASTED
