"""Tools: vocabulary, local tool-call parsers, validation, approval policy, the calculator.

Pure domain code (no Qt, no I/O). The turn runner integrates it: ``make_tool_parser`` on
the local token stream, ``check_call`` before running, ``truncate_result`` after,
``round_messages`` to render the round back through the chat template, ``decide`` for
approval.
"""

from app.domain.tools.calculator import CALCULATOR_SPEC, calculate, run_calculator
from app.domain.tools.call_parser import PassThroughToolParser, make_tool_parser
from app.domain.tools.chat_format import (
    assistant_message,
    call_json,
    round_messages,
    tool_json,
    tool_message,
    tools_json,
)
from app.domain.tools.detect import detect_tool_family, resolve_tool_family
from app.domain.tools.families import TOOL_FAMILIES, ToolFamily, tool_family
from app.domain.tools.pieces import (
    CallAbandoned,
    CallMentioned,
    CallOpened,
    CallParsed,
    Markup,
    Piece,
    Text,
    merge_text,
    piece_text,
)
from app.domain.tools.policy import (
    ALLOW_ALWAYS,
    ALLOW_CONVERSATION,
    ASK,
    DEFAULT_MAX_ROUNDS,
    DENIED_BY_USER,
    Approval,
    Decision,
    RoundCounter,
    allows_conversation_after_run,
    decide,
    default_policy,
    round_limit_message,
)
from app.domain.tools.types import ToolCall, ToolResult, ToolSpec
from app.domain.tools.validation import Truncated, check_call, schema_errors, truncate_result

__all__ = [
    "ALLOW_ALWAYS", "ALLOW_CONVERSATION", "ASK", "CALCULATOR_SPEC", "DEFAULT_MAX_ROUNDS",
    "DENIED_BY_USER", "TOOL_FAMILIES", "Approval", "CallAbandoned", "CallMentioned", "CallOpened",
    "CallParsed", "Decision", "Markup", "PassThroughToolParser", "Piece", "RoundCounter", "Text",
    "ToolCall", "ToolFamily", "ToolResult", "ToolSpec", "Truncated", "allows_conversation_after_run",
    "assistant_message", "calculate", "call_json", "check_call", "decide", "default_policy",
    "detect_tool_family", "make_tool_parser", "merge_text", "piece_text", "resolve_tool_family",
    "round_limit_message", "round_messages", "run_calculator", "schema_errors", "tool_family",
    "tool_json", "tool_message", "tools_json", "truncate_result",
]
