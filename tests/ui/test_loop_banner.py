"""The loop banner: hidden until an alarm, shows its sentence, buttons emit their signals."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout

from app.domain.runaway import LoopAlarm
from app.ui.loop_banner import LoopBanner

ALARM = LoopAlarm(period=42, repeats=4, start=310, at=454, start_char=1500)


def test_hidden_until_an_alarm(qtbot):
    banner = LoopBanner()
    qtbot.addWidget(banner)
    assert banner.isHidden() and banner.alarm is None
    banner.show_alarm(ALARM)
    assert not banner.isHidden()
    shown = banner.text.text().replace("\u2011", "-")  # the banner keeps "42-token" unbroken
    assert shown == "The model seems to be repeating itself (the same 42-token passage 4 times)."
    assert banner.alarm is ALARM
    banner.dismiss()
    assert banner.isHidden()


def test_answer_now_emits_once_and_disables_both(qtbot):
    banner = LoopBanner()
    qtbot.addWidget(banner)
    banner.show_alarm(ALARM)
    stops = []
    banner.stop_requested.connect(lambda: stops.append(1))
    with qtbot.waitSignal(banner.answer_now_requested, timeout=1000):
        qtbot.mouseClick(banner.answer_button, Qt.LeftButton)
    assert not banner.answer_button.isEnabled() and not banner.stop_button.isEnabled()
    qtbot.mouseClick(banner.stop_button, Qt.LeftButton)  # disabled: nothing happens
    assert stops == []


def test_stop_emits(qtbot):
    banner = LoopBanner()
    qtbot.addWidget(banner)
    banner.show_alarm(ALARM)
    answers = []
    banner.answer_now_requested.connect(lambda: answers.append(1))
    with qtbot.waitSignal(banner.stop_requested, timeout=1000):
        qtbot.mouseClick(banner.stop_button, Qt.LeftButton)
    assert answers == []


def test_a_new_alarm_re_enables_the_buttons(qtbot):
    banner = LoopBanner()
    qtbot.addWidget(banner)
    banner.show_alarm(ALARM)
    qtbot.mouseClick(banner.stop_button, Qt.LeftButton)
    banner.show_alarm(LoopAlarm(period=9, repeats=12, start=0, at=100, start_char=0, unit="word"))
    assert banner.answer_button.isEnabled() and banner.stop_button.isEnabled()
    assert "9\u2011word passage 12 times" in banner.text.text()


def test_renders_inside_a_message(qtbot, tmp_path):
    """Rendered offscreen to a PNG (kept in tmp_path; set PONDER_SHOT_DIR to keep a copy)."""
    import os

    host = QFrame()
    host.setObjectName("assistantMessage")  # styled like a message by the app's style sheet
    host.setStyleSheet((Path(__file__).parents[2] / "resources" / "style.qss").read_text(encoding="utf-8"))
    layout = QVBoxLayout(host)
    origin = QLabel("SmolLM2 135M · thinking (demo) · local")
    origin.setObjectName("messageOrigin")
    layout.addWidget(origin)
    banner = LoopBanner(host)
    layout.addWidget(banner)
    qtbot.addWidget(host)
    banner.show_alarm(ALARM)
    host.resize(620, host.sizeHint().height())
    host.show()
    qtbot.waitExposed(host)
    image = host.grab()
    assert image.width() >= 600 and banner.height() >= banner.answer_button.height()
    assert banner.answer_button.geometry().right() < banner.stop_button.geometry().left()
    out = Path(os.environ.get("PONDER_SHOT_DIR", tmp_path)) / "loop-banner.png"
    assert image.save(str(out))
