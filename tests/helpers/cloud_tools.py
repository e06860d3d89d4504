"""Tool rounds against the cloud replay server: the tools offered, the round a first call
asked for, the second request built from it, and checks that nothing of Ponder's leaks."""

from __future__ import annotations

import json
from typing import Any, Iterable

from app.domain import events as ev
from app.domain.tools.history import round_history
from app.domain.tools.types import ToolResult, ToolSpec
from app.domain.turn_request import TurnRequest

CALCULATOR = ToolSpec("calculator", "Exact arithmetic.",
                      {"type": "object", "properties": {"expression": {"type": "string"}}, "required": ["expression"]})
CLOCK = ToolSpec("clock", "The time now.", {})  # a tool without parameters
TOOLS = (CALCULATOR, CLOCK)

#: Put into every generic dict a test builds: none of it may reach a provider.
SENTINEL = "PONDER-PRIVATE-7f3a"
USER = {"role": "user", "content": "What is 6 * 7, and what time is it?"}


def calls_of(turn) -> list:
    return [e.call for e in turn.of(ev.ToolCallParsed)]


def state_of(turn) -> dict[str, Any]:
    """The turn's ProviderState events as the runner keeps them: {backend: data}."""
    return {e.backend: e.data for e in turn.of(ev.ProviderState)}


def results_for(calls, texts: dict[str, str] | None = None, errors: Iterable[str] = ()) -> list[ToolResult]:
    """A result per call (``texts`` by call id; ``errors``: ids whose result is an error)."""
    texts = texts or {}
    errors = set(errors)
    return [ToolResult(c.id, texts.get(c.id, f"result of {c.id}"), is_error=c.id in errors or c.error is not None)
            for c in calls]


def second_request(turn, results: list[ToolResult] | None = None, *, tools=TOOLS, private: bool = True,
                   history: tuple = (USER,)) -> TurnRequest:
    """The request after the turn's tool round: the history, then :func:`round_history` of the
    calls the turn parsed with the ProviderState it emitted (a private marker in the
    assistant dict's reasoning when ``private``)."""
    calls = calls_of(turn)
    results = results if results is not None else results_for(calls)
    reasoning = f"{SENTINEL} {turn.message.reasoning}" if private else turn.message.reasoning
    added = round_history(calls, results, content=turn.message.answer.strip(), reasoning=reasoning,
                          provider_state=state_of(turn))
    return TurnRequest(messages=(*history, *added), max_tokens=64, tools=tools)


def assert_nothing_private(body: dict[str, Any], *, allow_sentinel: bool = False) -> None:
    """No key or record of Ponder's in a request body (a provider would refuse it, or read it)."""
    text = json.dumps(body)
    assert "provider_state" not in text
    assert "ToolCall(" not in text and "ToolResult(" not in text
    if not allow_sentinel:
        assert SENTINEL not in text


def keys_in(items: Iterable[dict[str, Any]]) -> set[str]:
    """Every key used by these dicts (to compare with what a provider documents)."""
    out: set[str] = set()
    for item in items:
        out |= set(item)
    return out
