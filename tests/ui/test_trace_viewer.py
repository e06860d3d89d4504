"""The trace viewer: search, timeline boundary, course-change markers, figures and export."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QFileDialog

from app.domain.messages import AssistantMessage
from app.domain.trace import message_from_trace_json
from app.ui.timeline_widget import TimelineWidget
from app.ui.trace_viewer import TraceViewer, qt_positions
from helpers.turns import think_then_answer

T0 = 50.0
REASONING = (
    "The user asks for the sum of the first five primes.\n"
    "Primes: 2, 3, 5, 7, 11. Thinking 🤔🤔 about it.\n"
    "Wait, is 1 a prime? No.\n"
    "Sum of PRIMES: 2+3+5+7+11 = 28. Hmm, let me add again.\n"
    "- Actually 2+3 = 5, 5+5 = 10, 10+7 = 17, 17+11 = 28.\n"
    "Butter and Waiting are not changes of course. So prime sum is 28."
)


def message(n_reasoning: int = 30, n_answer: int = 10) -> AssistantMessage:
    return think_then_answer(n_reasoning, n_answer, REASONING, "The sum is **28**.", t0=T0)


@pytest.fixture
def viewer(qtbot):
    v = TraceViewer(message())
    qtbot.addWidget(v)
    v.show()
    qtbot.waitExposed(v)
    return v


def _selected(viewer: TraceViewer) -> str:
    return viewer.text_view.textCursor().selectedText()


# -- search ------------------------------------------------------------------------------
def test_search_highlights_every_match(viewer, qtbot):
    qtbot.keyClicks(viewer.search_box, "prime")  # searched once typing pauses
    text = viewer.text_view.toPlainText()
    expected = text.lower().count("prime")
    assert expected == 5  # "primes" ×2, "prime?", "PRIMES", "prime sum"
    qtbot.waitUntil(lambda: len(viewer.matches) == expected, timeout=2000)
    highlighted = [s.cursor.selectedText() for s in viewer.text_view.extraSelections()
                   if s.format.background().color() == QColor("#fff1a8")]
    assert [h.lower() for h in highlighted] == ["prime"] * expected
    starts = sorted(s.cursor.selectionStart() for s in viewer.text_view.extraSelections()
                    if s.format.background().color() == QColor("#fff1a8"))
    assert starts == [a for a, _ in viewer.matches]
    assert viewer.match_label.text() == "1 of 5"
    assert _selected(viewer).lower() == "prime"  # the current match is selected


def test_enter_right_after_typing_searches_first(viewer, qtbot):
    qtbot.keyClicks(viewer.search_box, "prime")
    qtbot.keyClick(viewer.search_box, Qt.Key_Return)
    assert viewer.match_label.text() == "1 of 5"


def test_next_and_previous_wrap_with_buttons_and_keys(viewer, qtbot):
    assert viewer.search("prime") == 5
    assert viewer.search_box.text() == "prime"
    first, last = viewer.matches[0][0], viewer.matches[-1][0]
    assert viewer.text_view.textCursor().selectionStart() == first
    viewer.prev_button.click()  # from the first match back to the last
    assert viewer.current_match == 4 and viewer.match_label.text() == "5 of 5"
    assert viewer.text_view.textCursor().selectionStart() == last
    qtbot.keyClick(viewer.search_box, Qt.Key_Return)  # and forward, wrapping to the first
    assert viewer.current_match == 0 and viewer.text_view.textCursor().selectionStart() == first
    qtbot.keyClick(viewer.search_box, Qt.Key_Return)
    assert viewer.match_label.text() == "2 of 5"
    qtbot.keyClick(viewer.search_box, Qt.Key_Return, Qt.ShiftModifier)
    qtbot.keyClick(viewer.search_box, Qt.Key_Return, Qt.ShiftModifier)
    assert viewer.match_label.text() == "5 of 5"
    assert viewer.isVisible()  # Enter did not press a dialog button


def test_search_without_matches_and_cleared(viewer):
    assert viewer.search("zebra") == 0
    assert viewer.match_label.text() == "No matches" and viewer.current_match == -1
    viewer.search_box.setText("")
    assert viewer.matches == [] and viewer.match_label.text() == ""


# -- timeline ----------------------------------------------------------------------------
def test_timeline_boundary_at_the_first_answer_token(qtbot):
    tl = TimelineWidget()
    qtbot.addWidget(tl)
    tl.resize(600, 160)
    tl.set_message(message(30, 10))
    assert tl.boundary_token_index == 30
    assert tl.token_x(29) < tl.boundary_x < tl.token_x(30)
    # bins of 0.25 s: the last reasoning token (3.4 s) is in bin 13, the first answer (3.6 s) in 14
    assert tl.bin_s == 0.25
    assert tl.points[13].x() < tl.boundary_x < tl.points[14].x()
    assert tl.ttft_x == pytest.approx(tl.x_for_time(0.5))
    assert tl.first_answer_x == pytest.approx(tl.x_for_time(3.6))
    assert sum(r for _, r in tl.series) * tl.bin_s == pytest.approx(40)


def test_timeline_boundary_moves_with_the_token_split(qtbot):
    tl = TimelineWidget()
    qtbot.addWidget(tl)
    tl.resize(600, 160)
    tl.set_message(message(10, 30))
    assert tl.boundary_token_index == 10
    assert tl.token_x(9) < tl.boundary_x < tl.token_x(10)


def test_timeline_paints_thinking_left_and_answer_right(qtbot):
    tl = TimelineWidget()
    qtbot.addWidget(tl)
    tl.resize(600, 160)
    tl.set_message(message(30, 10))
    image = tl.grab().toImage()
    y = int(tl.plot.bottom()) - 3
    left = image.pixelColor(int(tl.boundary_x) - 4, y)
    right = image.pixelColor(int(tl.boundary_x) + 4, y)
    assert left.red() > left.green()  # purple: thinking
    assert right.green() > right.red()  # blue: answer


def test_timeline_without_token_times(qtbot):
    tl = TimelineWidget()
    qtbot.addWidget(tl)
    tl.resize(400, 140)
    tl.set_message(AssistantMessage())
    assert tl.series == [] and tl.boundary_x is None
    tl.grab()  # the empty state paints


# -- markers -----------------------------------------------------------------------------
def test_markers_list_the_changes_of_course(viewer):
    assert [c.phrase for c in viewer.changes] == ["Wait", "Hmm", "Actually"]
    assert viewer.markers.count() == 3
    assert viewer.markers.item(0).text() == "line 3 · Wait, is 1 a prime? No."
    assert viewer.markers_title.text() == "Changes of course (3)"


def test_clicking_a_marker_moves_the_cursor_there(viewer, qtbot):
    for row, phrase in ((2, "Actually"), (0, "Wait"), (1, "Hmm")):
        item = viewer.markers.item(row)
        rect = viewer.markers.visualItemRect(item)
        with qtbot.waitSignal(viewer.marker_activated, timeout=1000) as sig:
            qtbot.mouseClick(viewer.markers.viewport(), Qt.LeftButton, pos=rect.center())
        cursor = viewer.text_view.textCursor()
        assert cursor.selectionStart() == viewer.change_positions[row] == sig.args[0]
        assert _selected(viewer) == phrase
        block = viewer.text_view.document().findBlock(sig.args[0])
        bold = [(r.start + block.position(), r.length) for r in block.layout().formats()
                if r.format.fontWeight() == QFont.Bold]
        assert (sig.args[0], len(phrase)) in bold  # the phrase is marked in the text too
    # the emoji before the markers take two UTF-16 units each in the document
    assert viewer.change_positions[0] == viewer.changes[0].offset + 2


def test_qt_positions_count_astral_characters_twice():
    text = "a🤔b🤔c"
    assert qt_positions(text, [0, 1, 2, 3, 4, 5]) == [0, 1, 3, 4, 6, 7]
    assert qt_positions("plain", [3]) == [3]


# -- figures -----------------------------------------------------------------------------
def test_block_table_and_summary(viewer):
    table = viewer.stats_table
    row = [table.item(0, c).text() for c in range(4)]
    assert row == ["Thinking 1", "30", "2.9", f"{30 / 2.9:.1f}"]
    answer = [table.item(1, c).text() for c in range(4)]
    assert answer == ["Answer", "10", "1.0", "10.0"]  # first answer at 3.6 s, end at 4.6 s
    assert viewer.summary_label.text() == ("Reasoning 30 tokens · answer 10 tokens · 75% spent thinking · "
                                          "reasoning was 3× the answer")
    assert "First token after 0.5 s" in viewer.timings_label.text()


# -- export ------------------------------------------------------------------------------
def test_export_markdown(viewer, tmp_path, qtbot):
    path = tmp_path / "trace.md"
    with qtbot.waitSignal(viewer.exported, timeout=1000) as sig:
        viewer.export_to(path, "markdown")
    assert sig.args == [str(path), "markdown"]
    md = path.read_text(encoding="utf-8")
    head = "<details><summary>Thinking · 30 tokens · 2.9 s</summary>\n\nThe user asks"
    assert head in md and "🤔" in md
    assert md.index("</details>") < md.index("The sum is **28**.")
    assert not list(tmp_path.glob("*.part"))


def test_export_json_round_trips(viewer, tmp_path):
    path = tmp_path / "trace.json"
    viewer.export_to(path, "json")
    back = message_from_trace_json(json.loads(path.read_text(encoding="utf-8")))
    assert back == viewer.message
    assert len(back.stats.token_times) == 40 and back.finish_reason == "stop"
    reopened = TraceViewer(back)
    try:
        assert reopened.text_view.toPlainText() == viewer.text_view.toPlainText()
        assert reopened.timeline.boundary_token_index == 30
        assert reopened.timeline.boundary_t == pytest.approx(viewer.timeline.boundary_t)
        assert reopened.timeline.series == viewer.timeline.series
    finally:
        reopened.deleteLater()


def test_export_errors_are_raised(viewer, tmp_path):
    with pytest.raises(OSError):
        viewer.export_to(tmp_path / "missing-folder" / "t.md", "markdown")
    with pytest.raises(ValueError):
        viewer.export_to(tmp_path / "t.txt", "pdf")


def test_empty_message_opens(qtbot):
    v = TraceViewer(AssistantMessage(model_id="m"))
    qtbot.addWidget(v)
    assert v.text_view.toPlainText() == "(no reasoning in this message)"
    assert v.markers.count() == 0 and v.markers_title.text() == "No changes of course found"
    assert [v.stats_table.item(0, c).text() for c in range(4)] == ["Answer", "0", "–", "–"]
    assert v.windowTitle() == "Trace · m"


def test_export_buttons_save_where_the_dialog_says(viewer, tmp_path, monkeypatch):
    chosen = tmp_path / "picked"  # no suffix: the format's is added
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(chosen), "JSON (*.json)"))
    viewer.export_json_button.click()
    saved = tmp_path / "picked.json"
    assert message_from_trace_json(json.loads(saved.read_text(encoding="utf-8"))) == viewer.message
    assert viewer.status_label.text() == f"Saved picked.json to {tmp_path}"


def test_export_failure_is_reported_in_the_window(viewer, tmp_path, monkeypatch, qtbot):
    target = tmp_path / "no-such-folder" / "t.md"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    with qtbot.waitSignal(viewer.export_failed, timeout=1000) as sig:
        viewer.export_md_button.click()
    assert sig.args[0].startswith(f"Could not write {target}: ")
    assert "Choose a folder you can write to" in viewer.status_label.text()
    assert not target.exists()
