"""Export a conversation as Markdown or JSON, and import that JSON (no Qt, no database).

The JSON holds everything of the shown thread: every part in order, all reasoning block
fields (timings, token counts, signatures, panel states), every tool call with its arguments,
result, state and timings, what cloud providers need back in a tool loop, and all statistics
including the token arrival times (format version 2 when tool calls are in it, else 1, which
older Ponders read). Other versions of messages (branches) are not exported. Conversations
hold no credentials, so neither do exports.
"""

from __future__ import annotations

import uuid
from dataclasses import fields
from typing import Any

from app.domain.conversation import Conversation
from app.domain.messages import AnswerPart, AssistantMessage, Message, ReasoningBlock, ToolCallPart, TurnStats, UserMessage
from app.domain.tools.records import (ToolRecordError, measured_result_tokens, part_from_record, part_record,
                                      round_tokens_from_json)
from app.domain.tools.tool_markdown import tool_call_markdown
from app.errors import PonderError
from app.store.conversations import apply_extra, message_extra
from app.store.rows import mentions_from_json
from app.store.export_cost import add_costs, cost_figure, total_line

FORMAT = "ponder.conversation"
FORMAT_VERSION = 2  # 2: tool calls (written only when there are some, so older Ponders read the rest)
_BLOCK_FIELDS = tuple(f.name for f in fields(ReasoningBlock))
_STAT_FIELDS = tuple(f.name for f in fields(TurnStats))


class ImportFormatError(PonderError):
    """A file to import is not a conversation exported by Ponder (the text says what is wrong)."""


# -- JSON ---------------------------------------------------------------------------------------
def conversation_json(conv: Conversation, billing=None) -> dict:
    """Everything of ``conv`` as JSON-ready data (see :func:`conversation_from_json`); with
    ``billing`` (model id -> app.domain.cost.Billing) what the answers cost, too."""
    data = {
        "format": FORMAT,
        "version": FORMAT_VERSION if _has_tools(conv) else 1,
        "uid": conv.uid,
        "title": conv.title,
        "messages": [_message_json(m) for m in conv.messages],
    }
    return data if billing is None else add_costs(data, conv, billing)


def _has_tools(conv: Conversation) -> bool:
    return any(isinstance(m, AssistantMessage) and m.tool_calls for m in conv.messages)


def _message_json(msg: Message) -> dict:
    if isinstance(msg, UserMessage):
        return {"role": "user", "uid": msg.uid, "text": msg.text}
    parts = []
    for part in msg.parts:
        if isinstance(part, ReasoningBlock):
            block = {"type": "reasoning", **{k: getattr(part, k) for k in _BLOCK_FIELDS}}
            block["mentions"] = [list(m) for m in part.mentions]
            parts.append(block)
        elif isinstance(part, ToolCallPart):
            parts.append({"type": "tool_call", **part_record(part)})
        else:
            parts.append({"type": "answer", "text": part.text})
    stats = {k: getattr(msg.stats, k) for k in _STAT_FIELDS}
    stats["token_times"] = list(msg.stats.token_times)
    out = {"role": "assistant", "uid": msg.uid, "model_id": msg.model_id, "where": msg.where,
           "finish_reason": msg.finish_reason, "error": msg.error, "raw": msg.raw, "parts": parts, "stats": stats,
           **message_extra(msg)}
    if msg.provider_state:
        out["provider_state"] = msg.provider_state
    return out


def conversation_from_json(data: Any, *, new_ids: bool = False) -> Conversation:
    """The conversation in ``data`` (made by :func:`conversation_json`).

    ``new_ids`` gives the conversation and its messages fresh uids (to import a copy next to
    the original). Raises :class:`ImportFormatError` for anything else.
    """
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ImportFormatError(f'This is not a Ponder conversation export (expected "format": "{FORMAT}").')
    version = data.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ImportFormatError(f"This conversation was exported by a newer Ponder (format version {version}); "
                                "update Ponder to import it.")
    items = data.get("messages")
    if not isinstance(items, list):
        raise ImportFormatError('The conversation export has no "messages" list.')
    messages = [_message_from_json(i, item) for i, item in enumerate(items)]
    conv = Conversation(messages=messages, title=_str(data, "title", "conversation"), uid=_str(data, "uid", "conversation"))
    if new_ids:
        conv.uid = uuid.uuid4().hex
        for msg in conv.messages:
            msg.uid = uuid.uuid4().hex
    return conv


def _message_from_json(i: int, d: Any) -> Message:
    where = f"message {i + 1}"
    if not isinstance(d, dict):
        raise ImportFormatError(f"The conversation export's {where} is not an object.")
    role = d.get("role")
    if role == "user":
        return UserMessage(_str(d, "text", where), uid=_str(d, "uid", where))
    if role != "assistant":
        raise ImportFormatError(f'The conversation export\'s {where} has role {role!r}; expected "user" or "assistant".')
    parts: list[ReasoningBlock | AnswerPart | ToolCallPart] = []
    for part in d.get("parts") or []:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "answer":
            parts.append(AnswerPart(_str(part, "text", where)))
        elif kind == "reasoning":
            block = ReasoningBlock(**{k: part[k] for k in _BLOCK_FIELDS if k in part})
            try:
                block.mentions = mentions_from_json(block.mentions)
            except (TypeError, ValueError) as exc:
                raise ImportFormatError(f"The conversation export's {where} has unreadable mentions ({exc}).") from exc
            parts.append(block)
        elif kind == "tool_call":
            try:
                parts.append(part_from_record(part))
            except (ToolRecordError, TypeError, ValueError) as exc:
                raise ImportFormatError(f"The conversation export's {where} has a tool call that cannot be read "
                                        f"({exc}).") from exc
        else:
            raise ImportFormatError(f"The conversation export's {where} has a part of unknown type {kind!r}.")
    stats_in = d.get("stats") or {}
    if not isinstance(stats_in, dict):
        raise ImportFormatError(f'The conversation export\'s {where} has "stats" that is not an object.')
    stats = TurnStats(**{k: stats_in[k] for k in _STAT_FIELDS if k in stats_in})
    stats.token_times = [float(t) for t in stats.token_times]
    try:
        stats.round_tokens = round_tokens_from_json(stats.round_tokens)
    except (AttributeError, TypeError, ValueError) as exc:
        raise ImportFormatError(f'The conversation export\'s {where} has unreadable "round_tokens" ({exc}).') from exc
    msg = AssistantMessage(model_id=d.get("model_id") or "", where=d.get("where") or "local", parts=parts,
                           raw=d.get("raw") or "", stats=stats, finish_reason=d.get("finish_reason"),
                           error=d.get("error"), uid=_str(d, "uid", where))
    apply_extra(msg, d)
    state = d.get("provider_state") or {}
    if not isinstance(state, dict):
        raise ImportFormatError(f'The conversation export\'s {where} has a "provider_state" that is not an object.')
    msg.provider_state = state
    return msg


def _str(d: dict, key: str, where: str) -> str:
    value = d.get(key, "")
    if not isinstance(value, str):
        raise ImportFormatError(f'The conversation export\'s {where} has a "{key}" that is not text.')
    return value or (uuid.uuid4().hex if key == "uid" else "")


# -- Markdown -----------------------------------------------------------------------------------
def conversation_markdown(conv: Conversation, billing=None) -> str:
    """``conv`` as Markdown; each reasoning block is a collapsible ``<details>`` block; with
    ``billing`` (model id -> app.domain.cost.Billing) what the answers cost, too."""
    out = [f"# {conv.title or 'Conversation'}", ""] + (total_line(conv, billing) if billing is not None else [])
    for msg in conv.messages:
        if isinstance(msg, UserMessage):
            out += ["## You", "", msg.text.strip(), ""]
        else:
            out += _assistant_markdown(msg, billing)
    return "\n".join(out).rstrip() + "\n"


def _assistant_markdown(msg: AssistantMessage, billing=None) -> list[str]:
    out = [f"## Assistant · {msg.model_id or 'model'} ({msg.where})", ""]
    for part in msg.parts:
        if isinstance(part, AnswerPart):
            if part.text.strip():
                out += [part.text.strip(), ""]
        elif isinstance(part, ToolCallPart):
            out += tool_call_markdown(part, measured_result_tokens(msg, part))
        elif part.visible:
            out += _details(part)
    out += [f"*{note}*\n" for note in msg.notes]
    figures = [msg.finish_reason or "unfinished", f"{msg.stats.generated_tokens:,} tokens"]
    if msg.stats.total_s is not None:
        figures.append(f"{msg.stats.total_s:.1f} s")
    if msg.stats.tokens_per_s:
        figures.append(f"{msg.stats.tokens_per_s:.0f} tok/s")
    if billing is not None:
        figures += cost_figure(msg, billing)
    if msg.error:
        out += [f"> {msg.error}", ""]
    out += [f"*{' · '.join(figures)}*", ""]
    return out


def _details(block: ReasoningBlock) -> list[str]:
    summary = ["Thinking"]
    if block.tokens:
        summary.append(f"{block.tokens:,} tokens")
    if block.seconds:
        summary.append(f"{block.seconds:.1f} s")
    if block.truncated:
        summary.append("cut short")
    text = block.text.strip()
    if not text:
        hidden = f"{block.hidden_tokens:,} tokens of " if block.hidden_tokens else ""
        text = f"*({hidden}reasoning not shown by the provider)*"
    # a literal closing tag in the trace would end the block early
    text = text.replace("</details>", "&lt;/details&gt;")
    return ["<details>", f"<summary>{' · '.join(summary)}</summary>", "", text, "", "</details>", ""]

