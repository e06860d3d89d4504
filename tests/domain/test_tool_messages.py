"""Tool calls in the message model, in the chat sent back, and in the gauge's tools segment."""

from app.domain import events as ev
from app.domain.context_budget import ContextUsage
from app.domain.conversation import Conversation, chat_messages
from app.domain.messages import AnswerPart, ReasoningBlock, ToolCallPart
from app.domain.tools.history import round_history, template_messages, tool_rounds
from app.domain.tools.types import ToolCall, ToolResult

CALL = ToolCall("c1", "calculator", {"expression": "6*7"}, raw='<tool_call>{"name": "calculator"}</tool_call>')
RESULT = ToolResult("c1", "42", duration_s=0.01)


def tool_turn(conv: Conversation):
    msg = conv.add_assistant("m")
    for e in (ev.TurnStarted(0.0, "m", 100, 4096, tool_tokens=30), ev.BlockStart(0.1, "<think>"),
              ev.ReasoningDelta("I should compute."), ev.TokenCounts(4, 0, 0, 0.2),
              ev.ToolCallOpened(0.3, "c1", "calculator", in_reasoning=True),
              ev.ToolCallParsed(0.4, CALL), ev.TokenCounts(4, 12, 0, 0.4),
              ev.ToolApprovalRequested(0.5, "c1", "exact arithmetic, nothing else"),
              ev.ToolCallRunning(0.6, "c1", {"expression": "6 * 7"}),
              ev.ToolCallFinished(0.7, "c1", RESULT),
              ev.CallStarted(0.8, 100 + 16 + 20, "tool"),
              ev.BlockStart(0.9, "<think>"), ev.ReasoningDelta("So it is 42."), ev.BlockEnd(1.0, "</think>"),
              ev.TokenCounts(8, 12, 0, 1.0), ev.AnswerDelta("It is 42."), ev.TokenCounts(8, 15, 0, 1.1),
              ev.TurnFinished(1.2, "stop")):
        msg.apply(e)
    return msg


def test_the_calls_take_their_place_between_the_parts():
    msg = tool_turn(Conversation())
    kinds = [type(p) for p in msg.parts]
    assert kinds == [ReasoningBlock, ToolCallPart, ReasoningBlock, AnswerPart]
    first, part = msg.blocks[0], msg.tool_calls[0]
    assert first.paused_for_call and first.end == 0.3  # the thinking paused for the call
    assert part.state == "done" and part.approved and part.reach == "exact arithmetic, nothing else"
    assert part.call.arguments == {"expression": "6 * 7"}  # as the user edited it
    assert part.result.text == "42" and part.round == 1


def test_the_tools_segment_counts_schemas_and_what_the_round_added():
    msg = tool_turn(Conversation())
    s = msg.stats
    assert s.tool_schema_tokens == 30
    assert s.tool_result_tokens == 20  # 136 - 100 - the 16 tokens generated before the call
    usage = ContextUsage.from_stats(s)
    assert usage.tools == 50 and usage.history == 70
    assert usage.used == 136 + (8 + 15 - 16)  # the last prompt plus what came after it


def test_a_denied_call_and_a_mention():
    conv = Conversation()
    msg = conv.add_assistant("m")
    for e in (ev.TurnStarted(0.0, "m", 10, 100), ev.BlockStart(0.1, "<think>"), ev.ReasoningDelta("maybe calc"),
              ev.ToolCallMentioned(0.2, ToolCall("", "calculator", in_reasoning=True)),
              ev.BlockEnd(0.3, "</think>"), ev.ToolCallParsed(0.4, CALL),
              ev.ToolCallFinished(0.5, "c1", ToolResult("c1", "The user declined.", True), approved=False)):
        msg.apply(e)
    assert msg.blocks[0].mentions == [(len("maybe calc"), "calculator")]
    assert msg.tool_calls[0].state == "denied" and msg.tool_calls[0].approved is False


def test_an_earlier_tool_turn_goes_back_to_the_model_as_rounds():
    conv = Conversation()
    conv.add_user("What is 6*7?")
    tool_turn(conv)
    conv.add_user("And 7*8?")
    chat = chat_messages(conv.messages)
    assert [m["role"] for m in chat] == ["user", "assistant", "tool", "assistant", "user"]
    assert chat[1]["tool_calls"][0].name == "calculator" and chat[2]["content"] == "42"
    assert chat[3]["content"] == "It is 42." and chat[1]["reasoning"] == "I should compute."
    assert tool_rounds(chat) == [(1, [chat[1]["tool_calls"][0]], [ToolResult("c1", "42")])]


def test_template_messages_shape_the_round_for_the_family():
    chat = [{"role": "user", "content": "q"}, *round_history([CALL], [RESULT], reasoning="r"),
            {"role": "assistant", "content": "42"}]
    hermes = template_messages(chat, "hermes")
    assert hermes[1]["tool_calls"][0]["function"]["arguments"] == {"expression": "6*7"}
    assert hermes[1]["reasoning_content"] == "r" and hermes[2] == {"role": "tool", "tool_call_id": "c1",
                                                                     "name": "calculator", "content": "42"}
    r1 = template_messages(chat, "deepseek-r1")
    assert isinstance(r1[1]["tool_calls"][0]["function"]["arguments"], str) and r1[1]["content"] is None


def test_the_json_report_lists_the_calls():
    from app.domain.report import turn_report

    report = turn_report(tool_turn(Conversation()))
    assert report["stats"]["tool_rounds"] == 1
    (call,) = report["tool_calls"]
    assert call == {"id": "c1", "name": "calculator", "arguments": {"expression": "6 * 7"}, "result": "42",
                    "error": None, "approved": True, "round": 1, "in_reasoning": False, "duration_s": 0.01,
                    "result_tokens": 20}
    assert report["context"]["segments"]["tools"] == 50
