"""The trace viewer with tool calls: bands on the timeline, rows in the figures, the calls in the text and exports."""

import json

import pytest
from PySide6.QtGui import QColor

from app.domain import trace
from app.domain.messages import AssistantMessage
from app.ui.timeline_widget import DENIED_FILL, TOOL_FILL, TimelineWidget
from app.ui.trace_viewer import TraceViewer
from helpers import tool_turns as tt


def _message() -> AssistantMessage:
    msg = AssistantMessage(model_id="m")
    tt.apply(msg, tt.WHOLE)
    return msg


def test_each_call_is_a_band_where_it_ran_then_its_re_evaluation(qtbot):
    timeline = TimelineWidget()
    qtbot.addWidget(timeline)
    timeline.resize(820, 160)
    timeline.show()
    timeline.set_message(_message())
    assert len(timeline.tool_rects) == 3
    ran, reeval, _span = timeline.tool_rects[0]
    assert ran.left() == pytest.approx(timeline.x_for_time(0.4)) and ran.right() == pytest.approx(timeline.x_for_time(0.5))
    assert reeval.right() == pytest.approx(timeline.x_for_time(0.8))  # until the model's next token
    assert timeline.tool_tip_at(ran.center().x()).startswith("calculator (done): ran 0.10 s, then 0.30 s until")
    assert timeline.tool_tip_at(timeline.tool_rects[1][0].center().x()).startswith("python: denied after 1.0 s")
    image = timeline.grab().toImage()
    y = int(ran.top() + 30)
    band = QColor(image.pixel(int(timeline.tool_rects[2][0].center().x()), y))
    gap = QColor(image.pixel(int(timeline.tool_rects[1][0].center().x()), y))
    assert band.red() > band.blue() + 40  # orange where python ran
    assert abs(gap.red() - gap.blue()) < 40  # grey where it was denied (it never ran)
    assert TOOL_FILL != DENIED_FILL


def test_the_figures_have_a_row_per_call_in_order_with_tool_time_and_tokens(qtbot):
    viewer = TraceViewer(_message())
    qtbot.addWidget(viewer)
    viewer.show()
    table = viewer.stats_table
    rows = [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(table.rowCount())]
    assert [r[0] for r in rows] == ["Thinking 1", "Tool: calculator", "Thinking 2", "Tool: python", "Thinking 3",
                                    "Tool: python", "Thinking 4", "Answer"]
    assert rows[1][1:3] == ["9", "0.1"] and rows[1][4].startswith("done, re-evaluated in 0.30 s")
    assert rows[3][2] == "–" and rows[3][4].startswith("denied after 1.0 s")
    assert rows[0][4] == "paused for a call"
    assert "3 tool calls: 0.6 s, 71 tokens" in viewer.summary_label.text()
    timings = viewer.timings_label.text()
    assert "tools ran 0.6 s" in timings and "tool schemas 30 + results 41 tokens" in timings
    assert '── calculator {"expression": "6*7"} → 42 · 0.10 s ──' in viewer.text_view.toPlainText()


def test_the_exports_include_the_calls(qtbot, tmp_path):
    msg = _message()
    viewer = TraceViewer(msg)
    qtbot.addWidget(viewer)
    viewer.export_to(tmp_path / "t.json", "json")
    viewer.export_to(tmp_path / "t.md", "markdown")
    data = json.loads((tmp_path / "t.json").read_text(encoding="utf-8"))
    assert trace.message_from_trace_json(data).tool_calls == msg.tool_calls
    md = (tmp_path / "t.md").read_text(encoding="utf-8")
    assert "Tool call · python · denied" in md and "```python\nprint(sum(range(11)))\n```" in md
