"""The trace with tool calls: spans on the timeline, tool time and tokens in the figures, the exports."""

import json

from app.domain import trace
from app.domain.messages import AssistantMessage, ToolCallPart
from app.domain.tools.records import part_from_record, part_record
from helpers import tool_turns as tt


def _message() -> AssistantMessage:
    msg = AssistantMessage(model_id="m")
    tt.apply(msg, tt.WHOLE)
    return msg


def test_each_call_has_its_run_and_its_re_evaluation():
    msg = _message()
    calc, denied, ran = trace.tool_spans(msg)
    assert (calc.name, calc.start, calc.end) == ("calculator", 0.4, 0.5)
    assert calc.resumed == 0.8 and round(calc.reeval_s, 3) == 0.3  # the first token after the result came at 0.8 s
    assert calc.result_tokens == 9 and calc.round == 1
    assert (denied.state, denied.start, denied.end) == ("denied", 1.0, 2.0)  # from the call to the refusal
    assert (ran.start, ran.end, ran.round) == (3.0, 3.5, 3)  # the wait for approval is not running time


def test_the_summary_counts_tool_time_and_tokens_and_says_so():
    summary = trace.message_summary(_message())
    assert summary["tool_calls"] == 3 and summary["tool_rounds"] == 3
    assert round(summary["tool_s"], 3) == 0.6  # calculator 0.1 + python 0.5; the denied call never ran
    assert summary["tool_schema_tokens"] == 30 and summary["tool_result_tokens"] == 9 + 11 + 21
    assert "3 tool calls: 0.6 s, 71 tokens" in trace.summary_line(summary)
    assert "tool call" not in trace.summary_line(trace.message_summary(AssistantMessage()))


def test_the_answer_boundary_ignores_the_calls():
    msg = _message()
    assert trace.boundary_token_index(msg) == sum(b.tokens for b in msg.blocks) == 84


def test_the_trace_text_has_a_line_per_call_where_it_happened():
    doc = trace.reasoning_document(_message())
    order = [doc.text.index(s) for s in ("I need 6*7", '── calculator {"expression": "6*7"} → 42 · 0.10 s ──',
                                         "So it is 42", "── python", "denied by the user", "Declined.",
                                         "→ 55", "55.")]
    assert order == sorted(order)
    assert len(doc.spans) == 4 and doc.text[doc.spans[1][0]:doc.spans[1][1]].startswith("So it is 42")


def test_trace_markdown_and_json_include_the_calls():
    msg = _message()
    md = trace.trace_markdown(msg)
    assert "<summary>Tool call · calculator · done · 0.10 s · 9 result tokens</summary>" in md
    assert md.index("Tool call · calculator") < md.index("So it is 42") < md.index("Tool call · python")
    data = json.loads(json.dumps(trace.trace_json(msg)))
    assert data["version"] == 2 and [c["name"] for c in data["tool_calls"]] == ["calculator", "python", "python"]
    assert data["tool_calls"][0]["reeval_s"] is not None
    back = trace.message_from_trace_json(data)
    assert back.parts == msg.parts and back.stats == msg.stats
    assert trace.trace_json(AssistantMessage())["version"] == 1  # without calls older Ponders read it


def test_a_part_record_rebuilds_the_part():
    for part in _message().tool_calls:
        assert part_from_record(json.loads(json.dumps(part_record(part)))) == part
    assert isinstance(part_from_record({"call": {"id": "x", "name": "y", "arguments": "{\"a\": 1}"}}), ToolCallPart)
