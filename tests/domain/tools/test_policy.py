"""Approval decisions per policy, and the tool-round limit."""

from __future__ import annotations

import itertools

import pytest

from app.domain.tools.calculator import CALCULATOR_SPEC
from app.domain.tools.policy import (
    ALLOW_ALWAYS,
    ALLOW_CONVERSATION,
    ASK,
    DEFAULT_MAX_ROUNDS,
    POLICIES,
    Decision,
    RoundCounter,
    allows_conversation_after_run,
    check_policy,
    decide,
    default_policy,
    round_limit_message,
)
from app.domain.tools.types import ToolSpec

PYTHON = ToolSpec("python", "Runs code.", {}, source="builtin")
MCP = ToolSpec("read_file", "Reads.", {}, source="mcp:files")
MCP_CALCULATOR = ToolSpec("calculator", "Someone else's.", {}, source="mcp:math")


def test_defaults():
    assert default_policy(CALCULATOR_SPEC) == ALLOW_ALWAYS
    assert default_policy(PYTHON) == ASK
    assert default_policy(MCP) == ASK
    assert default_policy(MCP_CALCULATOR) == ASK  # only the built-in calculator is trusted


@pytest.mark.parametrize("policy, allowed, interactive, yes, expected", [
    (ALLOW_ALWAYS, False, True, False, Decision.RUN),
    (ALLOW_ALWAYS, False, False, False, Decision.RUN),
    (ASK, False, True, False, Decision.ASK),
    (ASK, True, True, False, Decision.RUN),  # the user chose "allow for this conversation"
    (ALLOW_CONVERSATION, False, True, False, Decision.ASK),  # the first call asks
    (ALLOW_CONVERSATION, True, True, False, Decision.RUN),
    (ASK, False, False, False, Decision.DENY),  # headless, nobody to ask
    (ALLOW_CONVERSATION, False, False, False, Decision.DENY),
    (ASK, False, False, True, Decision.RUN),  # headless --yes
    (ASK, False, True, True, Decision.RUN),
])
def test_decide(policy, allowed, interactive, yes, expected):
    approval = decide(policy, allowed_in_conversation=allowed, interactive=interactive, yes=yes)
    assert approval.decision is expected
    assert bool(approval.reason) == (expected is Decision.DENY)


def test_a_denial_tells_the_model_how_it_could_run():
    assert "--yes" in decide(ASK, allowed_in_conversation=False, interactive=False).reason


def test_every_combination_has_a_decision_and_only_ask_needs_a_user():
    for policy, allowed, interactive, yes in itertools.product(POLICIES, *[[False, True]] * 3):
        d = decide(policy, allowed_in_conversation=allowed, interactive=interactive, yes=yes).decision
        if d is Decision.ASK:
            assert interactive and policy != ALLOW_ALWAYS and not allowed and not yes


def test_running_from_a_card_allows_the_conversation_only_for_that_policy_or_when_asked():
    assert allows_conversation_after_run(ALLOW_CONVERSATION)
    assert not allows_conversation_after_run(ASK)
    assert allows_conversation_after_run(ASK, remember=True)


def test_unknown_policies_are_refused_with_the_allowed_ones():
    with pytest.raises(ValueError) as err:
        decide("sometimes", allowed_in_conversation=False)
    assert "ask, allow-conversation, allow-always" in str(err.value)
    assert check_policy("ask") == "ask"


def test_the_round_limit():
    rounds = RoundCounter()
    assert rounds.limit == DEFAULT_MAX_ROUNDS == 8
    assert [rounds.start_round() for _ in range(10)] == [True] * 8 + [False] * 2
    assert rounds.done == 8 and rounds.exhausted
    assert RoundCounter(0).start_round() is False
    with pytest.raises(ValueError):
        RoundCounter(-1)
    assert "limit of 8 tool rounds" in round_limit_message(8)
