"""A conversation and how it becomes the chat messages a template or provider receives.

Earlier turns' reasoning follows the model's ``carry`` policy: ``strip`` leaves it out,
``keep-last`` keeps only the previous turn's, ``keep-all`` keeps all of it (wrapped in the
model's markers).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from app.domain.messages import AnswerPart, AssistantMessage, Message, ReasoningBlock, ToolCallPart, UserMessage

CARRY_POLICIES = ("strip", "keep-last", "keep-all")


@dataclass
class Conversation:
    """The messages of one chat, oldest first."""

    messages: list[Message] = field(default_factory=list)
    title: str = ""
    uid: str = field(default_factory=lambda: uuid.uuid4().hex)
    cloud_confirmed: bool = False  # the user agreed to send this chat's local turns to a cloud model

    def add_user(self, text: str) -> UserMessage:
        msg = UserMessage(text)
        self.messages.append(msg)
        if not self.title:
            self.title = text.strip().splitlines()[0][:80] if text.strip() else ""
        return msg

    def add_assistant(self, model_id: str = "") -> AssistantMessage:
        msg = AssistantMessage(model_id=model_id)
        self.messages.append(msg)
        return msg

    def needs_cloud_consent(self, to_cloud: bool) -> bool:
        """Sending the next turn to a cloud model (``to_cloud``) would share turns that ran
        locally, and the user has not agreed to it for this conversation yet."""
        return to_cloud and not self.cloud_confirmed and any(
            isinstance(m, AssistantMessage) and m.where == "local" for m in self.messages)


def chat_messages(
    messages: list[Message],
    *,
    system_prompt: str | None = None,
    carry: str = "strip",
    markers: tuple[str, str] | None = None,
) -> list[dict]:
    """Template-ready ``{"role", "content"}`` dicts for ``messages``.

    Unfinished assistant messages (the one being generated) are left out; failed ones too.
    """
    return [d for d, _ in chat_with_markup(messages, system_prompt=system_prompt, carry=carry, markers=markers)]


def chat_with_markup(
    messages: list[Message],
    *,
    system_prompt: str | None = None,
    carry: str = "strip",
    markers: tuple[str, str] | None = None,
) -> list[tuple[dict, tuple[int, ...]]]:
    """:func:`chat_messages` with, for each dict, the offsets in its ``content`` where Ponder
    itself wrote a reasoning marker (carried reasoning is wrapped in the model's markers).
    All other text of a content is the user's or the model's, never markup."""
    if carry not in CARRY_POLICIES:
        raise ValueError(f"carry must be one of {CARRY_POLICIES}, not {carry!r}")
    out: list[tuple[dict, tuple[int, ...]]] = []
    if system_prompt:
        out.append(({"role": "system", "content": system_prompt}, ()))
    assistants = [m for m in messages if isinstance(m, AssistantMessage) and m.finished and m.finish_reason != "error"]
    last = assistants[-1] if assistants else None
    usable = {m.uid for m in assistants}
    for msg in messages:
        if isinstance(msg, UserMessage):
            out.append(({"role": "user", "content": msg.text}, ()))
        elif msg.uid in usable:
            keep = carry == "keep-all" or (carry == "keep-last" and msg is last)
            answer = msg.answer
            if msg.tool_calls:
                out += [(d, ()) for d in _tool_history(msg)]
                answer = _answer_after_calls(msg)
                keep = False  # the reasoning went with the rounds
            content, offsets = answer.strip(), ()
            if keep and markers and msg.reasoning:
                head = f"{markers[0]}\n{msg.reasoning}\n"
                content, offsets = f"{head}{markers[1]}\n\n{content}", (0, len(head))
            out.append(({"role": "assistant", "content": content}, offsets))
    return out


def _tool_history(msg: AssistantMessage) -> list[dict]:
    """An earlier turn's tool rounds as generic dicts (:mod:`app.domain.tools.history`): the
    calls that got a result, each round with the answer text and the reasoning written before
    it (templates keep or drop that reasoning by their own rules; DeepSeek requires it back)."""
    from app.domain.tools.history import round_history

    rounds: list[dict] = []
    text: list[str] = []
    thought: list[str] = []
    for part in msg.parts:
        if isinstance(part, AnswerPart):
            text.append(part.text)
        elif isinstance(part, ReasoningBlock):
            thought.append(part.text.strip())
        elif isinstance(part, ToolCallPart) and part.result is not None:
            if rounds and rounds[-1]["round"] == part.round:
                rounds[-1]["calls"].append(part.call)
                rounds[-1]["results"].append(part.result)
                continue
            rounds.append({"round": part.round, "content": "".join(text).strip(), "calls": [part.call],
                           "results": [part.result], "reasoning": "\n\n".join(t for t in thought if t)})
            text, thought = [], []
    out: list[dict] = []
    for r in rounds:
        out += round_history(r["calls"], r["results"], content=r["content"], reasoning=r["reasoning"])
    return out


def _answer_after_calls(msg: AssistantMessage) -> str:
    """The answer text written after the last tool call that got a result."""
    last = max((i for i, p in enumerate(msg.parts) if isinstance(p, ToolCallPart) and p.result is not None),
               default=-1)
    return "".join(p.text for p in msg.parts[last + 1:] if isinstance(p, AnswerPart))


def drop_oldest_turns(chat, n: int, *, role=lambda m: m["role"]) -> list:
    """``chat`` without its ``n`` oldest exchanges (a user message and the replies after it).

    System messages and the last user message always stay. ``role`` reads an item's role
    (for lists of pairs such as :func:`chat_with_markup`'s).
    """
    out = list(chat)
    users = [i for i, m in enumerate(out) if role(m) == "user"]
    n = min(n, max(0, len(users) - 1))
    if n <= 0:
        return out
    cut_from, cut_to = users[0], users[n]
    return out[:cut_from] + out[cut_to:]
