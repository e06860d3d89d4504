"""Whether a call may run without asking, and how many tool rounds a turn may take.

Each tool has an approval policy:

* ``ask``: every call shows its card and waits for Run or Deny (default for ``python`` and
  MCP tools);
* ``allow-conversation``: the first call in a conversation asks; once run, the tool runs
  without asking for the rest of that conversation;
* ``allow-always``: runs without asking (default for the calculator).

Whatever the policy, a user who chose "allow for this conversation" on a card has allowed
the tool in that conversation. Headless (``ponder ask``) nobody can answer a card: ``--yes``
runs every call, otherwise a call that would ask is denied with a message for the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from app.domain.tools.types import ToolSpec

ASK, ALLOW_CONVERSATION, ALLOW_ALWAYS = "ask", "allow-conversation", "allow-always"
POLICIES = (ASK, ALLOW_CONVERSATION, ALLOW_ALWAYS)
DEFAULT_MAX_ROUNDS = 8

_ALWAYS_BY_DEFAULT = frozenset({"calculator"})


def default_policy(spec: ToolSpec) -> str:
    """The policy a tool has until the user sets one."""
    if spec.source == "builtin" and spec.name in _ALWAYS_BY_DEFAULT:
        return ALLOW_ALWAYS
    return ASK


def check_policy(value: str) -> str:
    """``value`` if it names a policy; ``ValueError`` listing the allowed ones otherwise."""
    if value not in POLICIES:
        raise ValueError(f"unknown tool policy {value!r}; use one of: {', '.join(POLICIES)}")
    return value


class Decision(Enum):
    """What to do with a call."""

    RUN = "run"
    ASK = "ask"
    DENY = "deny"


@dataclass(frozen=True, slots=True)
class Approval:
    """A decision and, for DENY, the text the model gets back."""

    decision: Decision
    reason: str = ""


def decide(policy: str, *, allowed_in_conversation: bool, interactive: bool = True,
           yes: bool = False) -> Approval:
    """Run, ask or deny one call (pure: the caller keeps the conversation's allowances)."""
    check_policy(policy)
    if policy == ALLOW_ALWAYS or allowed_in_conversation or yes:
        return Approval(Decision.RUN)
    if not interactive:
        return Approval(Decision.DENY, "This tool needs the user's approval, and nobody can give it "
                                       "here (run with --yes to allow tool calls). Answer without it.")
    return Approval(Decision.ASK)


def allows_conversation_after_run(policy: str, *, remember: bool = False) -> bool:
    """After the user ran a call from its card: is the tool now allowed in the conversation?

    ``remember``: the user chose "allow for this conversation".
    """
    return remember or check_policy(policy) == ALLOW_CONVERSATION


DENIED_BY_USER = "The user declined to run this tool call. Do not call it again for this; answer without it."


def round_limit_message(limit: int) -> str:
    """What the model reads for a call made after the round limit."""
    return (f"Not run: this turn reached its limit of {limit} tool rounds. "
            "Answer now with what you have.")


class RoundCounter:
    """Counts the tool rounds of one turn against the limit (default 8)."""

    def __init__(self, limit: int = DEFAULT_MAX_ROUNDS) -> None:
        if limit < 0:
            raise ValueError("the round limit must not be negative")
        self.limit = limit
        self.done = 0

    @property
    def exhausted(self) -> bool:
        return self.done >= self.limit

    def start_round(self) -> bool:
        """Count one round of calls; False (and nothing counted) when the limit is reached."""
        if self.exhausted:
            return False
        self.done += 1
        return True
