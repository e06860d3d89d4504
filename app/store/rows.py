"""Domain messages to database column values and back (no SQL, no Qt).

The columns are described in :mod:`app.store.schema`. Two encodings live here:

- ``token_times``: a BLOB of float64, little-endian; pieces of it concatenate.
- ``raw_layout``: the raw model output as a JSON list that refers to the message's parts
  instead of copying them. An item ``[i, n]`` is the next ``n`` characters of part ``i``'s
  text (each part is read from its start, piece after piece), a string is text that is only
  in the raw output (markers, whitespace around them). ``<think>`` + reasoning + ``</think>``
  + answer is ``["<think>", [0, 4711], "</think>", [1, 815]]``.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from array import array
from dataclasses import fields

from app.domain import events as ev
from app.domain.messages import AnswerPart, AssistantMessage, ReasoningBlock, ToolCallPart, TurnStats
from app.domain.tools.types import ToolCall, ToolResult

STAT_FIELDS = tuple(f.name for f in fields(TurnStats) if f.name != "token_times")

INTERRUPTED = "interrupted"
"""``finish_reason`` of a message that was being streamed when Ponder died."""


# -- token times --------------------------------------------------------------------------------
def pack_times(times: list[float]) -> bytes | None:
    if not times:
        return None
    data = array("d", times)
    if sys.byteorder == "big":
        data.byteswap()
    return data.tobytes()


def unpack_times(blob: bytes | None) -> list[float]:
    if not blob:
        return []
    data = array("d")
    data.frombytes(blob)
    if sys.byteorder == "big":
        data.byteswap()
    return data.tolist()


# -- raw output as a layout over the parts ------------------------------------------------------
def raw_layout(raw: str, texts: list[str]) -> list | None:
    """``raw`` as pieces of ``texts`` (the parts' texts, in order) and markup; None if it is not that.

    Each part's text is looked for whole, from the end of ``raw`` backwards (markers come
    before the text they open); whatever lies between is markup. The result always rebuilds
    ``raw`` exactly (:func:`rebuild_raw`); None means ``raw`` does not contain the parts in order.
    """
    items: list = []
    end = len(raw)
    for i in range(len(texts) - 1, -1, -1):
        text = texts[i]
        if not text:
            continue
        k = raw.rfind(text, 0, end)
        if k < 0:
            return None
        if k + len(text) < end:
            items.append(raw[k + len(text):end])
        items.append([i, len(text)])
        end = k
    if end:
        items.append(raw[:end])
    items.reverse()
    return items


def rebuild_raw(layout: list, texts: list[str]) -> str:
    """The raw output described by ``layout`` (see :func:`raw_layout`) over the parts' ``texts``."""
    read = [0] * len(texts)
    out: list[str] = []
    for item in layout:
        if isinstance(item, str):
            out.append(item)
            continue
        i, n = int(item[0]), int(item[1])
        if 0 <= i < len(texts):
            out.append(texts[i][read[i]:read[i] + n])
            read[i] += n
    return "".join(out)


# -- columns ------------------------------------------------------------------------------------
def layout_of(msg: AssistantMessage) -> list:
    """The ``layout`` column: ``"r"`` for a reasoning block, ``"t"`` for a tool call, the length
    of an answer run."""
    return ["r" if isinstance(p, ReasoningBlock) else "t" if isinstance(p, ToolCallPart) else p.text_length
            for p in msg.parts]


def part_text(part) -> str:
    """A part's text; a tool call has none (its call and result are in its own row)."""
    return "" if isinstance(part, ToolCallPart) else part.text


def provider_state_json(msg: AssistantMessage) -> str | None:
    """The ``provider_state`` column: the backends' opaque JSON, NULL when there is none."""
    return json.dumps(msg.provider_state, ensure_ascii=False) if msg.provider_state else None


def tool_meta(part: ToolCallPart) -> dict:
    """The columns of a tool call other than ``idx``."""
    call, result = part.call, part.result
    return {"call_id": call.id, "name": call.name, "arguments": json.dumps(call.arguments, ensure_ascii=False),
            "raw": call.raw, "in_reasoning": int(call.in_reasoning), "call_error": call.error,
            "state": part.state, "round": part.round, "reach": part.reach,
            "approved": None if part.approved is None else int(part.approved), "t_start": part.t_start,
            "t_end": part.t_end,
            "result_text": None if result is None else result.text,
            "result_error": int(bool(result is not None and result.is_error)),
            "duration_s": 0.0 if result is None else result.duration_s,
            "truncated_from": None if result is None else result.truncated_from}


def tool_from_row(r: dict) -> ToolCallPart:
    call = ToolCall(r["call_id"], r["name"], json.loads(r["arguments"] or "{}"), raw=r["raw"],
                    in_reasoning=bool(r["in_reasoning"]), error=r["call_error"])
    result = None
    if r["result_text"] is not None:
        result = ToolResult(r["call_id"], r["result_text"], bool(r["result_error"]), r["duration_s"],
                            r["truncated_from"])
    return ToolCallPart(call, state=r["state"], round=r["round"], reach=r["reach"], result=result,
                        approved=None if r["approved"] is None else bool(r["approved"]), t_start=r["t_start"],
                        t_end=r["t_end"])


def tool_signature(part: ToolCallPart) -> tuple:
    """Cheap to take and changes whenever :func:`tool_meta` would (the call and the result
    are frozen records, replaced when they change)."""
    return (id(part.call), id(part.result), part.state, part.round, part.reach, part.approved, part.t_start,
            part.t_end)


def message_meta(msg: AssistantMessage) -> dict:
    """The columns of an assistant message that are not its text, raw output or token times."""
    stats = msg.stats
    return {
        "uid": msg.uid, "role": "assistant", "layout": json.dumps(layout_of(msg)), "model_id": msg.model_id,
        "location": msg.where, "finish_reason": msg.finish_reason, "error": msg.error,
        "stats": json.dumps({k: getattr(stats, k) for k in STAT_FIELDS}),
        "interrupted": int(msg.finish_reason == INTERRUPTED), "extra": json.dumps(message_extra(msg)),
    }


def block_meta(b: ReasoningBlock) -> dict:
    """The columns of a reasoning block other than ``idx`` and ``text``."""
    return {"t_start": b.start, "t_end": b.end, "tokens": b.tokens, "truncated": int(b.truncated),
            "budget_cut": int(b.budget_cut), "hidden_tokens": b.hidden_tokens, "redacted": int(b.redacted),
            "signature": b.signature, "redacted_data": b.redacted_data,
            "expanded": None if b.expanded is None else int(b.expanded),
            "paused_for_call": int(b.paused_for_call), "mentions": json.dumps(b.mentions, ensure_ascii=False)}


def block_from_row(r: dict) -> ReasoningBlock:
    return ReasoningBlock(text=r["text"], start=r["t_start"], end=r["t_end"], tokens=r["tokens"],
                          truncated=bool(r["truncated"]), hidden_tokens=r["hidden_tokens"],
                          redacted=bool(r["redacted"]), budget_cut=bool(r["budget_cut"]),
                          signature=r["signature"], redacted_data=r["redacted_data"],
                          expanded=None if r["expanded"] is None else bool(r["expanded"]),
                          paused_for_call=bool(r.get("paused_for_call", 0)),
                          mentions=mentions_from_json(r.get("mentions") or "[]"))


def mentions_from_json(data) -> list[tuple[int, str]]:
    """``[[offset, tool], ...]`` (JSON text or decoded) as the block's list of tuples."""
    items = json.loads(data) if isinstance(data, str) else (data or [])
    return [(int(offset), str(tool)) for offset, tool in items]


def message_extra(msg: AssistantMessage) -> dict:
    """The small details of ``msg`` kept as JSON: notes and the context overflow, when set."""
    extra: dict = {}
    if msg.notes:
        extra["notes"] = list(msg.notes)
    if msg.overflow is not None:
        extra["overflow"] = dataclasses.asdict(msg.overflow)
    if msg.calls:
        extra["calls"] = list(msg.calls)
    return extra


def apply_extra(msg: AssistantMessage, extra: dict) -> None:
    """Set what :func:`message_extra` kept back on ``msg`` (unknown keys are ignored)."""
    msg.notes = [str(n) for n in extra.get("notes") or []]
    msg.calls = [int(n) for n in extra.get("calls") or []]
    if isinstance(extra.get("overflow"), dict):
        names = {f.name for f in fields(ev.ContextOverflow)}
        msg.overflow = ev.ContextOverflow(**{k: v for k, v in extra["overflow"].items() if k in names})


def parts_from_layout(layout: list, blocks: list[ReasoningBlock], texts: dict[int, str] | None,
                      answer: str, tools: list[ToolCallPart] = ()) -> list[ReasoningBlock | AnswerPart | ToolCallPart]:
    """The parts of a message from its ``layout``.

    With ``texts`` (part index -> text, from streamed pieces) every part takes its text from
    there; without, blocks keep theirs and answer runs are cut from ``answer`` by length.
    Tool calls (``"t"``) take the next of ``tools``.
    """
    parts: list[ReasoningBlock | AnswerPart | ToolCallPart] = []
    pending = iter(blocks)
    calls = iter(tools)
    offset = 0
    for i, item in enumerate(layout):
        if item == "t":
            call = next(calls, None)
            if call is not None:
                parts.append(call)
        elif item == "r":
            block = next(pending, None)
            if block is None:
                continue
            if texts is not None:
                block.text = texts.get(i, "")
            parts.append(block)
        elif texts is not None:
            parts.append(AnswerPart(texts.get(i, "")))
        else:
            parts.append(AnswerPart(answer[offset:offset + int(item)]))
            offset += int(item)
    parts.extend(pending)  # blocks the layout did not mention (never expected)
    parts.extend(calls)
    if texts is None and offset < len(answer):
        parts.append(AnswerPart(answer[offset:]))
    return parts
