"""A message's trace, studied: changes of course, per-block figures, the token-rate timeline,
the tool calls on it (when each ran, then the re-evaluation of its result), and the Markdown /
JSON export of the trace (the JSON imports back into the same message).

Pure Python; the trace viewer (``app.ui.trace_viewer``) draws what this module computes.
"""

from __future__ import annotations

import dataclasses
import math
import re
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any

from app.domain.messages import AnswerPart, AssistantMessage, ReasoningBlock, ToolCallPart, TurnStats
from app.domain.tools.records import measured_result_tokens, part_from_record, part_record, round_tokens_from_json
from app.domain.tools.tool_markdown import tool_call_markdown

# The one list of phrases that mark a change of course when they open a line or a sentence.
# Matching is case-sensitive on the first letter only; a space also matches a tab and a
# hyphen is optional ("Let me double check").
COURSE_CHANGE_PHRASES: tuple[str, ...] = (
    "Wait",
    "But wait",
    "No, wait",
    "Hold on",
    "Hmm",
    "Alternatively",
    "But",
    "Actually",
    "Let me double-check",
    "Let me re-check",
    "Let me recheck",
    "Let me verify",
    "On second thought",
)

TRACE_FORMAT = "ponder-trace"
TRACE_VERSION = 2  # 2: tool calls (written only when there are some; older Ponders read version 1)


# -- changes of course ----------------------------------------------------------------------
@dataclass(frozen=True)
class CourseChange:
    """Where the reasoning changes course: ``offset`` (characters) of the phrase in the text."""

    offset: int
    line_no: int  # 1-based
    phrase: str  # the entry of COURSE_CHANGE_PHRASES that matched
    snippet: str  # the line from the phrase on, shortened
    length: int = 0  # characters of the phrase as written ("double check" for "double-check")


def _phrase_regex(phrase: str) -> str:
    head, rest = re.escape(phrase[0]), ""
    for ch in phrase[1:]:
        rest += r"[ \t]+" if ch == " " else r"[- ]?" if ch == "-" else re.escape(ch)
    return head + (f"(?i:{rest})" if rest else "")


def _course_regex(phrases: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(
        f"(?P<p{i}>{_phrase_regex(p)})"
        for i, p in sorted(enumerate(phrases), key=lambda ip: -len(ip[1]))  # longest first
    )
    line_start = r"^[ \t]*(?:(?:[-*+>]|\d{1,3}[.)])[ \t]+)*"  # indentation, bullets, quotes
    sentence_start = r"(?<=[.!?])[\"'”’)\]]*[ \t]+"
    emphasis = r"(?:\*\*|__|\*|_)?"
    return re.compile(
        rf"(?:{line_start}|{sentence_start}){emphasis}(?:{alternatives})(?![\w])", re.MULTILINE
    )


_COURSE_RE = _course_regex(COURSE_CHANGE_PHRASES)
SNIPPET_CHARS = 80


def course_changes(text: str) -> list[CourseChange]:
    """Every place in ``text`` where a line or sentence opens with a course-change phrase."""
    out: list[CourseChange] = []
    line_no, counted_to = 1, 0
    for m in _COURSE_RE.finditer(text):
        name = m.lastgroup or ""
        start = m.start(name)
        line_no += text.count("\n", counted_to, start)
        counted_to = start
        end_of_line = text.find("\n", start)
        line = text[start: end_of_line if end_of_line >= 0 else len(text)].rstrip()
        if len(line) > SNIPPET_CHARS:
            line = line[: SNIPPET_CHARS - 1].rstrip() + "…"
        out.append(CourseChange(start, line_no, COURSE_CHANGE_PHRASES[int(name[1:])], line,
                                m.end(name) - start))
    return out


# -- the text the viewer shows --------------------------------------------------------------
@dataclass(frozen=True)
class TraceDocument:
    """All reasoning blocks as one text; ``spans[i]`` is block ``i``'s (start, end) in it."""

    text: str
    spans: list[tuple[int, int]]


def _clean(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def _block_note(block: ReasoningBlock) -> str:
    if block.redacted and not block.text.strip():
        return "(thinking redacted by the provider)"
    if block.hidden_tokens and not block.text.strip():
        return f"(reasoned for {block.hidden_tokens:,} tokens; the text was hidden by the provider)"
    return ""


TOOL_LINE_CHARS = 100


def _one_line(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def tool_line(part: ToolCallPart) -> str:
    """``── calculator {"expression": "6*7"} → 42 · 0.01 s ──``: a call where it happened in the trace."""
    call, result = part.call, part.result
    line = f"── {call.name or 'tool'} {_one_line(call.arguments_json, TOOL_LINE_CHARS // 2)}"
    if part.state == "denied":
        line += " → denied by the user"
    elif result is not None:
        line += f" → {'error: ' if result.is_error else ''}{_one_line(result.text, TOOL_LINE_CHARS // 2)}"
        if result.duration_s:
            line += f" · {result.duration_s:.2f} s"
    else:
        line += f" · {part.state}"
    return line + " ──"


def reasoning_document(message: AssistantMessage) -> TraceDocument:
    """The full reasoning of a message; with several blocks, each opens with a header line.
    Tool calls stand between the blocks where they happened, one line each."""
    blocks = [b for b in message.blocks if b.visible]
    pieces: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    n = 0
    for part in message.parts:
        if isinstance(part, ToolCallPart):
            line = tool_line(part)
            if pieces:
                line = "\n\n" + line
            pieces.append(line)
            pos += len(line)
            continue
        if not isinstance(part, ReasoningBlock) or not part.visible:
            continue
        n += 1
        if pieces:
            pieces.append("\n\n")
            pos += 2
        if len(blocks) > 1:
            header = f"── Thinking block {n} · {_tokens(part.tokens)} · {part.seconds:.1f} s ──\n"
            pieces.append(header)
            pos += len(header)
        body = _clean(part.text) or _block_note(part)
        pieces.append(body)
        spans.append((pos, pos + len(body)))
        pos += len(body)
    return TraceDocument("".join(pieces), spans)


# -- figures -----------------------------------------------------------------------------
@dataclass(frozen=True)
class BlockStats:
    """Tokens, seconds and speed of one reasoning block."""

    index: int  # 0-based among the message's reasoning blocks
    tokens: int
    seconds: float
    tokens_per_s: float | None
    hidden_tokens: int = 0
    truncated: bool = False
    budget_cut: bool = False


def block_stats(message: AssistantMessage) -> list[BlockStats]:
    """One entry per reasoning block, in order."""
    out = []
    for i, b in enumerate(message.blocks):
        secs = b.seconds
        tps = b.tokens / secs if secs > 0 and b.tokens > 0 else None
        out.append(BlockStats(i, b.tokens, secs, tps, b.hidden_tokens, b.truncated, b.budget_cut))
    return out


@dataclass(frozen=True)
class ToolSpan:
    """One tool call on the timeline, in seconds after the turn started.

    ``start``–``end``: while the tool ran (for a denied call: the wait, from the call to the refusal);
    ``end``–``resumed``: the re-evaluation, from the result to the model's next token (the
    result's tokens are evaluated then); ``resumed`` is None when no token followed.
    """

    index: int  # 0-based among the message's tool calls
    name: str
    state: str
    round: int
    start: float
    end: float
    resumed: float | None
    result_tokens: int | None = None

    @property
    def seconds(self) -> float:
        return max(0.0, self.end - self.start)

    @property
    def reeval_s(self) -> float | None:
        return None if self.resumed is None else max(0.0, self.resumed - self.end)


def tool_spans(message: AssistantMessage) -> list[ToolSpan]:
    """Every tool call that has a start time, in order (an unfinished one ends at the turn's end)."""
    s = message.stats
    t0, times = s.t_start, s.token_times
    end_of_turn = s.t_end if s.t_end is not None else (times[-1] if times else t0)
    out = []
    for i, part in enumerate(message.tool_calls):
        if part.t_start is None:
            continue
        end = part.t_end if part.t_end is not None else max(part.t_start, end_of_turn)
        k = bisect_right(times, end)
        resumed = times[k] - t0 if k < len(times) else None
        out.append(ToolSpan(i, part.call.name, part.state, part.round, part.t_start - t0, end - t0, resumed,
                            measured_result_tokens(message, part)))
    return out


def _tokens(n: int) -> str:
    return f"{n:,} token" + ("" if n == 1 else "s")


def _times(r: float) -> str:
    return f"{r:.0f}×" if r >= 10 or abs(r - round(r)) < 0.05 else f"{r:.1f}×"


def ratio_text(reasoning: int, answer: int) -> str:
    """``reasoning was 14× the answer`` (or the other way round when the answer is longer)."""
    if not reasoning:
        return "no reasoning"
    if not answer:
        return "all tokens went to reasoning"
    r = reasoning / answer
    if r >= 1:
        return f"reasoning was {_times(r)} the answer"
    return f"the answer was {_times(1 / r)} the reasoning"


def message_summary(message: AssistantMessage) -> dict[str, Any]:
    """The message's token split and timings (see :func:`summary_line` for the prose)."""
    s = message.stats
    reasoning = s.reasoning_tokens or sum(b.tokens + b.hidden_tokens for b in message.blocks)
    answer = s.answer_tokens
    total = reasoning + answer
    spans = tool_spans(message)
    reevals = [t.reeval_s for t in spans if t.reeval_s is not None]
    return {
        "reasoning_tokens": reasoning,
        "answer_tokens": answer,
        "generated_tokens": total,
        "thinking_share": reasoning / total if total else None,
        "ratio": reasoning / answer if answer else None,
        "ratio_text": ratio_text(reasoning, answer),
        "blocks": len(message.blocks),
        "thinking_s": message.thinking_s,
        "ttft_s": s.ttft_s,
        "first_answer_s": s.first_answer_s,
        "answer_s": _answer_seconds(message),
        "total_s": s.total_s,
        "tokens_per_s": s.tokens_per_s,
        "tool_calls": len(message.tool_calls),
        "tool_rounds": len({p.round for p in message.tool_calls}),
        "tool_s": sum(t.seconds for t in spans if t.state != "denied"),  # a denied call's span is the wait
        "reeval_s": sum(reevals) if reevals else None,
        "tool_schema_tokens": s.tool_schema_tokens,
        "tool_result_tokens": s.tool_result_tokens,
    }


def _answer_seconds(message: AssistantMessage) -> float | None:
    """From the first answer token to the end, less the thinking of blocks in between."""
    s = message.stats
    if s.t_end is None or s.t_first_answer is None:
        return None
    later = sum(b.seconds for b in message.blocks if b.start >= s.t_first_answer)
    tools = sum(t.seconds for t in tool_spans(message) if t.start + s.t_start >= s.t_first_answer)
    return max(0.0, s.t_end - s.t_first_answer - later - tools)


def summary_line(summary: dict[str, Any]) -> str:
    """``Reasoning 1,804 tokens · answer 128 tokens · 93% spent thinking · reasoning was 14× …``."""
    parts = [f"Reasoning {_tokens(summary['reasoning_tokens'])}",
             f"answer {_tokens(summary['answer_tokens'])}"]
    if summary["thinking_share"] is not None:
        parts.append(f"{100 * summary['thinking_share']:.0f}% spent thinking")
    parts.append(summary["ratio_text"])
    if summary.get("tool_calls"):
        n = summary["tool_calls"]
        tokens = summary["tool_schema_tokens"] + summary["tool_result_tokens"]
        parts.append(f"{n} tool call{'' if n == 1 else 's'}: {summary['tool_s']:.1f} s, {_tokens(tokens)}")
    return " · ".join(parts)


# -- the timeline ------------------------------------------------------------------------
NICE_BINS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0)


def choose_bin(span_s: float, max_bins: int = 160, smallest: float = 0.25) -> float:
    """The smallest round bin width (at least ``smallest``) giving at most ``max_bins`` bins."""
    for b in NICE_BINS:
        if b >= smallest and span_s / b <= max_bins:
            return b
    return NICE_BINS[-1] * math.ceil(span_s / (NICE_BINS[-1] * max_bins))


def rate_series(token_times: list[float], t0: float, bin_s: float = 0.25,
                t_end: float | None = None) -> list[tuple[float, float]]:
    """Tokens per second in bins of ``bin_s``: ``(bin centre - t0, rate)``, empty bins included.

    The bins cover ``t0`` to the last token (or ``t_end`` if later); a token that arrived
    before ``t0`` counts in the first bin.
    """
    if not token_times or bin_s <= 0:
        return []
    last = max(token_times[-1], t_end if t_end is not None else token_times[-1]) - t0
    n = max(1, math.ceil(last / bin_s - 1e-9))
    counts = [0] * n
    for t in token_times:
        counts[min(n - 1, max(0, int((t - t0) / bin_s)))] += 1
    return [((i + 0.5) * bin_s, c / bin_s) for i, c in enumerate(counts)]


def boundary_token_index(message: AssistantMessage) -> int | None:
    """Index in ``stats.token_times`` of the first answer token; None without an answer.

    It is the reasoning tokens of the blocks before the first answer part (a block's count
    includes its start and end markers, which the model generated before answering).
    """
    n = 0
    for part in message.parts:
        if isinstance(part, AnswerPart):
            return n
        if isinstance(part, ReasoningBlock):
            n += part.tokens
    return None


def thinking_spans(message: AssistantMessage) -> list[tuple[float, float]]:
    """When the model was thinking, in seconds after ``t_start``: the turn's start to the
    reasoning → answer boundary, then every later reasoning block (interleaved thinking)."""
    t0, spans = message.stats.t_start, []
    first = boundary_time(message)
    times = message.stats.token_times
    last = (times[-1] if times else t0) - t0
    spans.append((0.0, last if first is None else first))
    if first is not None:
        for b in message.blocks:
            start = b.start - t0
            if start > first:
                end = (b.end if b.end is not None else t0 + last) - t0
                spans.append((start, max(start, end)))
    return spans


def boundary_time(message: AssistantMessage) -> float | None:
    """Seconds after ``t_start`` between the last reasoning token and the first answer token."""
    idx = boundary_token_index(message)
    times = message.stats.token_times
    if idx is None or not times:
        return None
    t0 = message.stats.t_start
    if idx <= 0:
        return times[0] - t0
    if idx >= len(times):
        return times[-1] - t0
    return (times[idx - 1] + times[idx]) / 2 - t0


# -- export ------------------------------------------------------------------------------
def _summary_html(block: ReasoningBlock) -> str:
    if block.hidden_tokens and not block.text.strip():
        return f"Thinking · {_tokens(block.hidden_tokens)} · hidden by the provider"
    text = f"Thinking · {_tokens(block.tokens)} · {block.seconds:.1f} s"
    if block.budget_cut:
        text += " · cut at the thinking budget"
    elif block.truncated:
        text += " · truncated"
    return text


def trace_markdown(message: AssistantMessage) -> str:
    """The message as Markdown: each reasoning block in a ``<details>``, answer runs as is."""
    head = f"**{message.model_id or 'assistant'}** · {message.where}"
    if message.finish_reason:
        head += f" · {message.finish_reason}"
    out = [head, f"*{summary_line(message_summary(message))}*"]
    for part in message.parts:
        if isinstance(part, ReasoningBlock):
            if not part.visible:
                continue
            body = _clean(part.text) or _block_note(part)
            body = body.replace("</details>", "&lt;/details&gt;")
            out.append(f"<details><summary>{_summary_html(part)}</summary>\n\n{body}\n\n</details>")
        elif isinstance(part, ToolCallPart):
            out.append("\n".join(tool_call_markdown(part, measured_result_tokens(message, part))).rstrip())
        elif part.text.strip():
            out.append(part.text.strip("\n"))
    if message.error:
        out.append(f"> Error: {message.error}")
    return "\n\n".join(out) + "\n"


def _fields(obj: Any) -> dict[str, Any]:
    # getattr, not dataclasses.asdict: some fields are properties over streaming buffers
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def trace_json(message: AssistantMessage) -> dict[str, Any]:
    """Everything needed to rebuild the message (see :func:`message_from_trace_json`), plus
    the derived summary and block figures for readers (ignored on import)."""
    data = _fields(message)
    data["parts"] = [
        {"type": "reasoning", **_fields(p), "mentions": [list(m) for m in p.mentions]} if isinstance(p, ReasoningBlock)
        else {"type": "tool_call", **part_record(p)} if isinstance(p, ToolCallPart)
        else {"type": "answer", **_fields(p)}
        for p in message.parts
    ]
    stats = _fields(message.stats)
    stats["token_times"] = list(message.stats.token_times)
    data["stats"] = stats
    return {
        "format": TRACE_FORMAT,
        "version": TRACE_VERSION if message.tool_calls else 1,
        "message": data,
        "summary": message_summary(message),
        "blocks": [dataclasses.asdict(b) for b in block_stats(message)],
        "tool_calls": [dataclasses.asdict(t) | {"seconds": t.seconds, "reeval_s": t.reeval_s}
                       for t in tool_spans(message)],
        "boundary_token_index": boundary_token_index(message),
    }


def message_from_trace_json(d: dict[str, Any]) -> AssistantMessage:
    """The message that :func:`trace_json` exported. Raises ValueError on another format."""
    if not isinstance(d, dict) or d.get("format") != TRACE_FORMAT:
        raise ValueError("This is not a Ponder trace (expected \"format\": \"ponder-trace\").")
    if int(d.get("version", 0)) > TRACE_VERSION:
        raise ValueError(f"This trace was written by a newer Ponder (version {d['version']}); "
                         "update Ponder to open it.")
    data = dict(d["message"])
    parts: list[ReasoningBlock | AnswerPart | ToolCallPart] = []
    for p in data.pop("parts", []):
        if p.get("type") == "tool_call":
            parts.append(part_from_record(p))
            continue
        cls = ReasoningBlock if p.get("type") == "reasoning" else AnswerPart
        part = cls(**_known(cls, p))
        if isinstance(part, ReasoningBlock):
            part.mentions = [(int(o), str(t)) for o, t in part.mentions]
        parts.append(part)
    stats = TurnStats(**_known(TurnStats, data.pop("stats", {})))
    stats.round_tokens = round_tokens_from_json(stats.round_tokens)
    return AssistantMessage(parts=parts, stats=stats, **_known(AssistantMessage, data))
