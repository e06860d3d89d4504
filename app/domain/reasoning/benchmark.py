"""Throughput of the inline reasoning parser on a synthetic ~1 MB trace.

At ~100 tokens/s a token costs ~10 ms of decode time; the parser must stay far below 1%
of that (i.e. well under 100 µs per chunk). ``parser_throughput()`` measures it.
"""

from __future__ import annotations

import time

from app.domain.events import AnswerDelta, BlockEnd, BlockStart, MarkupText, ReasoningDelta
from app.domain.reasoning.markers import FAMILIES
from app.domain.reasoning.parser import ReasoningParser

_REASONING = (
    "Okay, let me think about this. If a < b and b > c, then <thead> is not a tag. "
    "Hmm, the user wrote <think-tank> earlier — wait, 数学 is fun 🙂. "
    "So x^2 + y^2 = z^2 for the triple (3, 4, 5). Let me double-check: 9 + 16 = 25.\n"
)
_ANSWER = "The answer is **25**. In HTML, `<table>` holds `<thead>` rows; a < b holds.\n"


def synthetic_trace(total_chars: int) -> str:
    """Blocks of reasoning and answer text with markers, partial markers and Unicode."""
    unit = "<think>\n" + _REASONING * 12 + "</think>\n\n" + _ANSWER * 3
    reps = max(1, total_chars // len(unit))
    return unit * reps


def parser_throughput(total_bytes: int = 1_000_000, chunk_chars: int = 4) -> dict[str, float]:
    """Feed a ~``total_bytes`` trace in ``chunk_chars``-sized chunks and time the parser.

    Returns ``bytes`` (UTF-8 size of the trace), ``chunks``, ``seconds``,
    ``chunks_per_s``, ``mb_per_s``, ``chars_per_s`` and ``us_per_chunk``. Raises
    ``AssertionError`` if the events do not reproduce the input (a benchmark of a wrong
    parser is worthless).
    """
    text = synthetic_trace(total_bytes)
    chunks = [text[i : i + chunk_chars] for i in range(0, len(text), chunk_chars)]
    parser = ReasoningParser(FAMILIES["think"], interleaved=True)
    events = []
    extend = events.extend
    feed = parser.feed
    t = time.perf_counter()
    for c in chunks:
        extend(feed(c))
    extend(parser.finish())
    seconds = max(time.perf_counter() - t, 1e-9)

    rebuilt = "".join(
        e.marker if isinstance(e, (BlockStart, BlockEnd)) else e.text
        for e in events
        if isinstance(e, (BlockStart, BlockEnd, ReasoningDelta, AnswerDelta, MarkupText))
    )
    assert rebuilt == text, "parser lost or changed text"
    size = len(text.encode("utf-8"))
    return {
        "bytes": size,
        "chars": len(text),
        "chunks": len(chunks),
        "seconds": seconds,
        "chunks_per_s": len(chunks) / seconds,
        "chars_per_s": len(text) / seconds,
        "mb_per_s": size / seconds / 1e6,
        "us_per_chunk": seconds / len(chunks) * 1e6,
    }


if __name__ == "__main__":  # pragma: no cover - manual run: python -m app.domain.reasoning.benchmark
    for n in (1, 4, 16):
        print(n, parser_throughput(chunk_chars=n))
