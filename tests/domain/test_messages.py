"""AssistantMessage folds turn events into blocks, answer, raw text and stats."""

from app.domain import events as ev
from app.domain.context_budget import ContextUsage
from app.domain.messages import AnswerPart, AssistantMessage, ReasoningBlock
from app.domain.report import turn_report


def _turn():
    m = AssistantMessage()
    m.apply(ev.TurnStarted(10.0, "think-model", 40, 1000, system_tokens=12))
    m.apply(ev.BlockStart(10.5, "<think>"))
    m.apply(ev.TokenCounts(1, 0, 0, 10.5))
    m.apply(ev.ReasoningDelta("\nLet me see."))
    m.apply(ev.TokenCounts(5, 0, 0, 11.0))
    m.apply(ev.BlockEnd(12.0, "</think>"))
    m.apply(ev.TokenCounts(6, 0, 0, 12.0))
    m.apply(ev.AnswerDelta("\n\nIt is 4."))
    m.apply(ev.TokenCounts(6, 4, 0, 12.5))
    m.apply(ev.TurnFinished(13.0, "stop"))
    return m


def test_parts_raw_and_block_tokens():
    m = _turn()
    assert isinstance(m.parts[0], ReasoningBlock) and isinstance(m.parts[1], AnswerPart)
    assert m.raw == "<think>\nLet me see.</think>\n\nIt is 4."
    assert m.reasoning == "Let me see."
    assert m.answer == "\n\nIt is 4."
    block = m.blocks[0]
    assert block.tokens == 6  # start marker token .. end marker token
    assert block.seconds == 1.5
    assert not m.reasoning_truncated


def test_stats_and_report():
    m = _turn()
    s = m.stats
    assert (s.ttft_s, s.first_answer_s, s.total_s) == (0.5, 2.5, 3.0)
    assert s.tokens_per_s == (10 - 1) / 2.5
    report = turn_report(m)
    assert report["answer"] == "It is 4."
    assert report["stats"]["reasoning_tokens"] == 6 and report["stats"]["answer_tokens"] == 4
    assert report["stats"]["thinking_s"] == 1.5
    assert report["context"] == {
        "n_ctx": 1000, "used": 50,
        "segments": {"system": 12, "history": 28, "carried_reasoning": 0, "tools": 0, "reasoning": 6, "answer": 4,
                     "free": 950},
    }


def test_stream_ending_inside_reasoning_is_truncated():
    m = AssistantMessage()
    m.apply(ev.TurnStarted(0.0, "x", 3, 100))
    m.apply(ev.BlockStart(0.0))
    m.apply(ev.ReasoningDelta("hmm"))
    m.apply(ev.TurnFinished(1.0, "cancelled"))
    assert m.reasoning_truncated and m.answer == "" and m.blocks[0].end == 1.0


def test_interleaved_blocks_keep_order_and_whitespace_block_is_invisible():
    m = AssistantMessage()
    m.apply(ev.BlockStart(0.0, "<think>"))
    m.apply(ev.ReasoningDelta("\n\n"))
    m.apply(ev.BlockEnd(0.1, "</think>"))
    m.apply(ev.AnswerDelta("a"))
    m.apply(ev.BlockStart(0.2))
    m.apply(ev.ReasoningDelta("b"))
    m.apply(ev.BlockEnd(0.3))
    m.apply(ev.AnswerDelta("c"))
    kinds = [type(p).__name__ for p in m.parts]
    assert kinds == ["ReasoningBlock", "AnswerPart", "ReasoningBlock", "AnswerPart"]
    assert [b.visible for b in m.blocks] == [False, True]
    assert m.answer == "ac"


def test_budget_cut_and_injected_tokens_count_as_reasoning_context():
    m = AssistantMessage()
    m.apply(ev.TurnStarted(0.0, "x", 10, 100))
    m.apply(ev.BlockStart(0.0))
    m.apply(ev.TokenCounts(16, 0, 0, 0.5))
    m.apply(ev.BudgetCut(0.5, 16))
    m.apply(ev.BlockEnd(0.5, "</think>"))
    m.apply(ev.TokenCounts(16, 0, 3, 0.5))
    m.apply(ev.AnswerDelta("ok"))
    m.apply(ev.TokenCounts(16, 2, 3, 0.6))
    m.apply(ev.TurnFinished(0.7, "budget"))
    assert m.blocks[0].budget_cut and m.blocks[0].tokens == 16
    seg = ContextUsage.from_stats(m.stats).as_dict()
    assert seg["used"] == 10 + 16 + 3 + 2 and seg["segments"]["reasoning"] == 19
