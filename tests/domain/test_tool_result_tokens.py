"""What each call's result added to the context, and the gauge's legend line for the tools segment."""

from app.domain import events as ev
from app.domain.context_budget import ContextUsage
from app.domain.messages import AssistantMessage
from app.domain.tools.records import measured_result_tokens
from app.domain.tools.types import ToolCall, ToolResult


def test_a_round_of_parallel_calls_shares_its_tokens_by_result_length():
    msg = AssistantMessage(model_id="m")
    for e in (ev.TurnStarted(0.0, "m", 100, 4096, tool_tokens=40), ev.TokenCounts(10, 0, 0, 0.1),
              ev.ToolCallParsed(0.2, ToolCall("a", "calculator", {"expression": "1+1"})),
              ev.ToolCallParsed(0.2, ToolCall("b", "search", {"q": "x"})),
              ev.ToolCallFinished(0.3, "a", ToolResult("a", "2")),
              ev.ToolCallFinished(0.3, "b", ToolResult("b", "x" * 299))):
        msg.apply(e)
    assert [measured_result_tokens(msg, p) for p in msg.tool_calls] == [None, None]  # not before the next call
    msg.apply(ev.CallStarted(0.4, 100 + 10 + 60, "tool"))
    a, b = msg.tool_calls
    assert a.round == b.round == 1
    assert (measured_result_tokens(msg, a), measured_result_tokens(msg, b)) == (0, 60)
    assert msg.stats.tool_result_tokens == 60


def test_the_legend_line_splits_schemas_and_results():
    msg = AssistantMessage(model_id="m")
    for e in (ev.TurnStarted(0.0, "m", 100, 1000, tool_tokens=30), ev.TokenCounts(16, 0, 0, 0.1),
              ev.ToolCallParsed(0.2, ToolCall("a", "calculator")), ev.ToolCallFinished(0.3, "a", ToolResult("a", "2")),
              ev.CallStarted(0.4, 100 + 16 + 20, "tool")):
        msg.apply(e)
    usage = ContextUsage.from_stats(msg.stats)
    assert usage.tools == 50 and usage.tool_schemas == 30
    assert usage.describe("tools") == "tools: their schemas and results: 50 tokens, 5% of 1,000 (schemas 30, results 20)"
    assert usage.describe("answer") == "answer this turn: 0 tokens, 0% of 1,000"
