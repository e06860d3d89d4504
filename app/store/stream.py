"""What a partial save of a streaming message writes: only what is new since the last one (no Qt).

A :class:`StreamTracker` follows one streaming :class:`~app.domain.messages.AssistantMessage`
and turns it, each time it is asked, into a :class:`StreamDelta`: the text appended to its
parts since the previous delta, the markup between that text in the raw output, the new
token times, and the few small columns that changed (layout, statistics, block timings, the
rows of tool calls whose state or result changed, the provider state when it changed).
Taking a delta reads only the new text (the parts' buffers hand out their tails), so it costs
the same at 30,000 tokens as at 1,000; so does writing it (:meth:`Store.save_stream
<app.store.conversations.Store.save_stream>` appends rows to ``stream_chunks``).

When the message changed in a way that is not an append (a part was inserted or replaced,
a text was set anew), the delta is a *reset*: it carries the whole message and replaces
whatever was streamed before. Deltas of one message combine in order (:meth:`StreamDelta.then`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.domain.messages import AssistantMessage, ReasoningBlock, ToolCallPart
from app.store.rows import block_meta, message_meta, provider_state_json, tool_meta, tool_signature

MARKUP = -1
"""Part index of a piece that is only in the raw output (markers, whitespace around them)."""


@dataclass(frozen=True)
class Piece:
    """Streamed text: of part ``part`` (or :data:`MARKUP`), and whether it is in the raw output too."""

    part: int
    text: str
    in_raw: bool = True


@dataclass
class StreamDelta:
    """One partial save of a message; ``reset`` means it replaces all streamed before."""

    uid: str
    reset: bool
    row: dict  # the message's columns except text, raw and token times (small); provider_state when changed
    blocks: dict[int, dict] = field(default_factory=dict)  # block idx -> its columns without text (changed)
    n_blocks: int = 0
    pieces: list[Piece] = field(default_factory=list)  # in the order of the raw output
    times: list[float] = field(default_factory=list)  # token arrival times since the last delta
    tools: dict[int, dict] = field(default_factory=dict)  # tool call idx -> its columns (changed)
    n_tools: int = 0

    def then(self, later: StreamDelta) -> StreamDelta:
        """This delta followed by ``later`` as one (for saves that queued up)."""
        if later.reset:
            return later
        return StreamDelta(self.uid, self.reset, {**self.row, **later.row}, {**self.blocks, **later.blocks},
                           later.n_blocks, self.pieces + later.pieces, self.times + later.times,
                           {**self.tools, **later.tools}, later.n_tools)

    @property
    def chars(self) -> int:
        return sum(len(p.text) for p in self.pieces)


@dataclass
class _Seen:
    part: object
    buffer: object
    length: int


class StreamTracker:
    """Remembers what of one message the deltas already carried (use on the thread that streams)."""

    def __init__(self) -> None:
        self.forget()

    def forget(self) -> None:
        """The next delta will be a reset (e.g. after the message was saved whole)."""
        self._parts: list[_Seen] = []
        self._raw: tuple[object, int] | None = None
        self._times: tuple[object, int] | None = None
        self._blocks: list[dict] = []
        self._tools: list[tuple] = []  # tool_signature of each call the deltas carried
        self._provider: tuple | None = None

    def delta(self, msg: AssistantMessage) -> StreamDelta:
        """What changed in ``msg`` since the previous call (everything on the first)."""
        times = msg.stats.token_times
        reset = not self._continues(msg)
        if reset:
            self.forget()
        new_texts: list[tuple[int, str]] = []
        for i, part in enumerate(msg.parts):
            if isinstance(part, ToolCallPart):  # no text: its row goes in ``tools`` when it changed
                if i >= len(self._parts):
                    self._parts.append(_Seen(part, None, 0))
                continue
            buf = part.text_buffer
            if i < len(self._parts):
                seen = self._parts[i]
                chunk = buf.since(seen.length)
                seen.length = len(buf)
            else:
                chunk = str(buf)
                self._parts.append(_Seen(part, buf, len(buf)))
            if chunk:
                new_texts.append((i, chunk))
        raw_buf = msg.raw_buffer
        raw_new = raw_buf.since(self._raw[1]) if self._raw is not None else str(raw_buf)
        self._raw = (raw_buf, len(raw_buf))
        done_times = self._times[1] if self._times is not None else 0
        new_times = times[done_times:]
        self._times = (times, len(times))
        blocks: dict[int, dict] = {}
        metas = [block_meta(b) for b in msg.parts if isinstance(b, ReasoningBlock)]
        for idx, meta in enumerate(metas):
            if idx >= len(self._blocks) or self._blocks[idx] != meta:
                blocks[idx] = meta
        self._blocks = metas
        tools: dict[int, dict] = {}
        calls = [p for p in msg.parts if isinstance(p, ToolCallPart)]
        signatures = [tool_signature(p) for p in calls]
        for idx, (part, sig) in enumerate(zip(calls, signatures)):
            if idx >= len(self._tools) or self._tools[idx] != sig:
                tools[idx] = tool_meta(part)
        self._tools = signatures
        row = message_meta(msg)
        provider = tuple((k, id(v)) for k, v in msg.provider_state.items())
        if provider != self._provider:
            row["provider_state"] = provider_state_json(msg)
            self._provider = provider
        return StreamDelta(msg.uid, reset, row, blocks, len(metas), _pieces(new_texts, raw_new), new_times,
                           tools, len(calls))

    def _continues(self, msg: AssistantMessage) -> bool:
        """True when ``msg`` only grew since the last delta (same parts, same buffers, longer)."""
        if self._raw is None or self._raw[0] is not msg.raw_buffer or len(msg.raw_buffer) < self._raw[1]:
            return False
        times = msg.stats.token_times
        if self._times is None or self._times[0] is not times or len(times) < self._times[1]:
            return False
        parts = msg.parts
        if len(parts) < len(self._parts):
            return False
        for seen, part in zip(self._parts, parts):
            if seen.part is not part:
                return False
            if seen.buffer is not None and (seen.buffer is not part.text_buffer or len(seen.buffer) < seen.length):
                return False
        return True


def _pieces(texts: list[tuple[int, str]], raw: str) -> list[Piece]:
    """The new part texts laid into the new raw output, the rest of which is markup.

    The texts are found from the end backwards (markers come before the text they open).
    When the raw output does not hold them in order (a message built without one), the
    texts and the raw output are kept as separate pieces: nothing is derived, nothing lost.
    """
    out: list[Piece] = []
    end = len(raw)
    for part, text in reversed(texts):
        k = raw.rfind(text, 0, end)
        if k < 0:
            return [Piece(p, t, in_raw=False) for p, t in texts] + ([Piece(MARKUP, raw)] if raw else [])
        if k + len(text) < end:
            out.append(Piece(MARKUP, raw[k + len(text):end]))
        out.append(Piece(part, text))
        end = k
    if end:
        out.append(Piece(MARKUP, raw[:end]))
    out.reverse()
    return out
