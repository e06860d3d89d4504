"""A turn to run, and how it is built from a conversation and a model profile.

The window's chat session and ``ponder ask`` both build their requests here, so the two
send the model the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.conversation import chat_messages, chat_with_markup, drop_oldest_turns
from app.domain.messages import Message
from app.domain.profiles import ModelProfile

DEFAULT_MAX_TOKENS = 1024


@dataclass(frozen=True)
class TurnOptions:
    """What the user chose for the next turns, beside the model: the composer's thinking
    controls, the conversation's carry policy and the token limit (None: the model's own)."""

    thinking_budget: int | None = None  # None: the profile's budget; 0: no limit
    thinking: bool | None = None  # False: ask a switchable model not to think
    min_thinking: int = 0  # "Think longer"
    carry: str | None = None  # None: the profile's policy
    max_tokens: int | None = None  # None: the profile's, else the app's default
    tools: tuple = ()  # the ToolSpecs this conversation offers (the composer's tools control); () is off

    def request_kwargs(self) -> dict:
        """The keyword arguments of :func:`build_request` these options set."""
        return {"thinking_budget": self.thinking_budget, "thinking": self.thinking,
                "min_thinking": self.min_thinking, "carry": self.carry, "tools": self.tools}


@dataclass(frozen=True)
class TurnRequest:
    """One turn to run: the chat so far (template-ready dicts) and per-turn settings."""

    messages: tuple[dict, ...]
    max_tokens: int = DEFAULT_MAX_TOKENS
    temperature: float | None = None  # None: the profile's, else the backend's default
    thinking_budget: int | None = None  # None: the profile's budget; 0: no limit
    thinking: bool | None = None  # False: ask a switchable model not to think; None: its default
    min_thinking: int = 0  # "Think longer": reasoning tokens before an end is accepted
    grammar: str | None = None  # GBNF that constrains the output (local models)
    # The same chat with earlier reasoning stripped, when the carry policy keeps some: the
    # backend renders both to count the carried reasoning exactly (never assumed).
    stripped_messages: tuple[dict, ...] | None = None
    # Per message, the offsets in its content where Ponder wrote a reasoning marker; every
    # other character of a content is text, never a control token (see chat_with_markup).
    markup: tuple[tuple[int, ...], ...] = ()
    # Tools offered to the model in this turn (app.domain.tools.types.ToolSpec); empty: none.
    tools: tuple = ()


def build_request(messages: list[Message], profile: ModelProfile, *, system_prompt: str | None = None,
                  max_tokens: int | None = None, thinking_budget: int | None = None,
                  temperature: float | None = None, carry: str | None = None,
                  markers: tuple[str, str] | None = None, drop_turns: int = 0,
                  thinking: bool | None = None, min_thinking: int = 0, tools: tuple = ()) -> TurnRequest:
    """The request for the next assistant turn after ``messages``.

    ``carry`` overrides the profile's policy (a per-conversation choice); ``markers`` wrap
    carried reasoning when the profile names none (e.g. markers detected from the template);
    ``drop_turns`` leaves out that many of the oldest exchanges (a choice made on overflow);
    ``tools`` are the ToolSpecs to offer (none: a turn without tools).
    """
    reasoning = profile.reasoning
    if reasoning and reasoning.start and reasoning.end:
        markers = (reasoning.start, reasoning.end)
    carry = carry or (reasoning.carry if reasoning else "strip")
    system = system_prompt if system_prompt is not None else profile.system_prompt
    pairs = drop_oldest_turns(chat_with_markup(messages, system_prompt=system, carry=carry, markers=markers),
                              drop_turns, role=lambda pair: pair[0]["role"])
    stripped = None
    if carry != "strip" and markers:
        stripped = tuple(drop_oldest_turns(chat_messages(messages, system_prompt=system, carry="strip"),
                                           drop_turns))
    return TurnRequest(
        messages=tuple(d for d, _ in pairs),
        markup=tuple(offsets for _, offsets in pairs),
        stripped_messages=stripped,
        max_tokens=max_tokens or profile.max_tokens or DEFAULT_MAX_TOKENS,
        temperature=temperature if temperature is not None else profile.temperature,
        thinking_budget=thinking_budget,
        thinking=thinking,
        min_thinking=min_thinking,
        tools=tuple(tools),
    )
