"""Assistant messages with controlled timings, built by applying turn events."""

from app.domain import events as ev
from app.domain.messages import AssistantMessage


def think_then_answer(n_reasoning: int = 30, n_answer: int = 10, reasoning: str = "Let me think.",
                      answer: str = "It is 4.", *, t0: float = 100.0) -> AssistantMessage:
    """A turn: first token 0.5 s after the start, reasoning tokens 0.1 s apart, a 0.2 s gap,
    then answer tokens 0.1 s apart. Token i (reasoning) arrives at t0 + 0.5 + 0.1 i s."""
    m = AssistantMessage()
    m.apply(ev.TurnStarted(t0, "test-model", 12, 4096))
    t = t0 + 0.5
    m.apply(ev.BlockStart(t, "<think>"))
    for i in range(n_reasoning):
        t = t0 + 0.5 + 0.1 * i
        m.apply(ev.ReasoningDelta(reasoning if i == 0 else ""))
        m.apply(ev.TokenCounts(i + 1, 0, 0, t))
    m.apply(ev.BlockEnd(t, "</think>"))
    for j in range(n_answer):
        t = t0 + 0.5 + 0.1 * (n_reasoning - 1) + 0.2 + 0.1 * j
        m.apply(ev.AnswerDelta(answer if j == 0 else ""))
        m.apply(ev.TokenCounts(n_reasoning, j + 1, 0, t))
    m.apply(ev.TurnFinished(t + 0.1, "stop"))
    return m
