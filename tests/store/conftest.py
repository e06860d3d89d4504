"""Fixtures for the store tests: a store in the temporary PONDER_HOME, a rich sample conversation."""

import pytest

from app.domain.conversation import Conversation
from app.domain.events import ContextOverflow
from app.domain.messages import AnswerPart, AssistantMessage, ReasoningBlock, TurnStats, UserMessage
from app.store.conversations import open_store


def sample_conversation() -> Conversation:
    """Two turns; the first has three reasoning blocks (one hidden/redacted) between answer runs."""
    stats = TurnStats(prompt_tokens=31, reasoning_tokens=16, answer_tokens=7, n_ctx=8192, system_tokens=5,
                      t_start=100.0, t_first_token=100.25, t_first_answer=101.5, t_end=103.0,
                      token_times=[100.25 + i * 0.1 for i in range(23)])
    first = AssistantMessage(
        model_id="claude-sonnet-thinking", where="cloud", finish_reason="stop",
        raw="<think>Let me count the letters.</think>There are<think>double-check</think> 3 r's.",
        stats=stats,
        parts=[
            ReasoningBlock(text="Let me count the letters: s-t-r-a-w-b-e-r-r-y.", start=100.25, end=101.4,
                           tokens=12, signature="sig-abc123", expanded=True),
            AnswerPart("There are"),
            ReasoningBlock(text="Double-check the strawberry spelling.", start=101.6, end=102.0, tokens=4,
                           truncated=True, budget_cut=True, expanded=False),
            AnswerPart(" 3 r's."),
            ReasoningBlock(start=102.1, end=102.1, hidden_tokens=50, redacted=True, redacted_data="b3BhcXVl"),
        ],
    )
    first.notes = ["Continued with a larger token limit (2,048)."]
    first.overflow = ContextOverflow(needed=9000, n_ctx=8192, reserve=512, strip_fits=True, drop_turns=1)
    second = AssistantMessage(model_id="smollm2-135m", where="local", finish_reason="length",
                              parts=[AnswerPart("You're welcome!")],
                              stats=TurnStats(prompt_tokens=60, answer_tokens=4, t_start=200.0, t_end=200.5,
                                              token_times=[200.1, 200.2, 200.3, 200.4]))
    conv = Conversation(title="Strawberry letters")
    conv.messages = [UserMessage("How many r's are in strawberry?"), first, UserMessage("Thanks!"), second]
    return conv


@pytest.fixture
def store():
    s, notice = open_store()
    assert notice is None
    yield s
    s.close()


@pytest.fixture
def make_conversation():
    """``make_conversation()`` builds a fresh :func:`sample_conversation` (new uids each time)."""
    return sample_conversation
