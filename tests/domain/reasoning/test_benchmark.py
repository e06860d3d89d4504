"""The parser benchmark runs, checks its own output and is fast enough."""

from __future__ import annotations

import math

from app.domain.reasoning.benchmark import parser_throughput, synthetic_trace


def test_synthetic_trace_has_markers_and_unicode():
    text = synthetic_trace(20_000)
    assert 10_000 <= len(text) <= 20_000
    assert text.count("<think>") == text.count("</think>") > 1
    assert "<thead>" in text and "🙂" in text


def test_parser_throughput_reports_consistent_numbers():
    r = parser_throughput(total_bytes=100_000, chunk_chars=4)
    assert r["bytes"] >= r["chars"] > 50_000  # multi-byte characters make bytes > chars
    assert r["chunks"] == math.ceil(r["chars"] / 4)
    assert math.isclose(r["chunks_per_s"], r["chunks"] / r["seconds"])
    assert math.isclose(r["mb_per_s"], r["bytes"] / r["seconds"] / 1e6)
    # ~100 tokens/s leaves 10 ms per token; the parser must take <1% of it (100 µs) by far.
    assert r["us_per_chunk"] < 100
