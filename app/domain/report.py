"""The JSON report of one turn (``ponder ask --json``, interfaces.md)."""

from __future__ import annotations

from app.domain.context_budget import ContextUsage
from app.domain.cost import turn_cost
from app.domain.messages import AssistantMessage
from app.domain.profiles import Price


def _round(x: float | None, nd: int = 3) -> float | None:
    return None if x is None else round(x, nd)


def turn_report(msg: AssistantMessage, price: Price | None = None) -> dict:
    """Everything ``ponder ask --json`` prints for one finished assistant message; ``price``
    is the model's (None: a local model or an unknown price, and ``cost`` is null)."""
    s = msg.stats
    report = {
        "model": msg.model_id,
        "where": msg.where,
        "reasoning": msg.reasoning,
        "answer": msg.answer.strip(),
        "finish_reason": msg.finish_reason,
        "reasoning_truncated": msg.reasoning_truncated,
        "stats": {
            "prompt_tokens": s.prompt_tokens,
            "reasoning_tokens": s.reasoning_tokens,
            "answer_tokens": s.answer_tokens,
            "injected_tokens": s.injected_tokens,
            "ttft_s": _round(s.ttft_s),
            "first_answer_s": _round(s.first_answer_s),
            "thinking_s": _round(msg.thinking_s),
            "total_s": _round(s.total_s),
            "tokens_per_s": _round(s.tokens_per_s, 1),
        },
        "context": ContextUsage.from_stats(s).as_dict(),
        "blocks": [
            {"tokens": b.tokens, "seconds": _round(b.seconds), "truncated": b.truncated,
             "budget_cut": b.budget_cut, "chars": len(b.text)}
            for b in msg.blocks
        ],
    }
    cost = turn_cost(msg, price)
    report["cost"] = None if cost is None else cost.report()
    if msg.tool_calls:
        report["tool_calls"] = [_tool_call(p, msg) for p in msg.tool_calls]
        report["stats"]["tool_rounds"] = max(p.round for p in msg.tool_calls)
    if s.estimated:
        report["estimated"] = True
    if msg.error:
        report["error"] = msg.error
    return report


def _tool_call(part, msg: AssistantMessage) -> dict:
    """One entry of ``tool_calls`` (interfaces.md)."""
    result = part.result
    failed = result is not None and result.is_error
    return {
        "id": part.call_id, "name": part.call.name, "arguments": dict(part.call.arguments),
        "result": None if result is None or failed else result.text,
        "error": result.text if failed else None,
        "approved": bool(part.approved) if part.approved is not None else result is not None,
        "round": part.round, "in_reasoning": part.call.in_reasoning,
        "duration_s": _round(result.duration_s) if result is not None else None,
        "result_tokens": msg.result_tokens(part),
    }
