"""Throughput: raw ``Llama.generate()`` in a bare loop against Ponder's full pipeline.

Same model, prompt and greedy settings. The pipeline's rate is measured where the user
sees it: token batches arriving on the GUI thread of the real window (offscreen), with the
worker thread, queued signals, throttled rendering and the message view all running.
"""

from __future__ import annotations

import os
import statistics
import time

from app.bench.harness import Pipeline
from app.bench.probe import StallProbe
from app.domain.reasoning.benchmark import parser_throughput

PROMPT = "Write a long, detailed story about a dragon who learns to bake bread. Use many paragraphs."


def _rate(times: list[float]) -> float:
    return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0


def raw_generate(llm, prompt_tokens: list[int], n_tokens: int) -> tuple[float, int]:
    from app.backends.llama_adapter import end_of_generation_test

    is_eog = end_of_generation_test(llm)
    times: list[float] = []
    llm.reset()
    for tok in llm.generate(prompt_tokens, temp=0.0, top_k=40, top_p=0.95, min_p=0.05, repeat_penalty=1.0):
        if is_eog(tok):
            break
        times.append(time.perf_counter())
        if len(times) >= n_tokens:
            break
    return _rate(times), len(times)


def bench_throughput(runs: int = 3, n_tokens: int = 256, model: str | None = None) -> dict:
    from app.backends.llama_backend import LlamaBackend

    # No thinking budget: the pipeline must generate the same greedy tokens as the raw loop.
    pipe = Pipeline(model, temperature=0.0, no_budget=True)
    pipe.load()
    # The raw loop gets a Llama of its own with the pipeline's settings (file, context, threads).
    backend = LlamaBackend(pipe.session.profile, threads=pipe.info.n_threads)
    backend.load()
    raw = backend.llm
    prompt_tokens = backend.tokenize(backend.render_prompt([{"role": "user", "content": PROMPT}]))
    rows = []
    raw_generate(raw, prompt_tokens, 16)  # the first decode of a process is slower: warm both
    first = StallProbe()
    first.start()
    pipe.turn(PROMPT, max_tokens=16)
    first.stop()
    for _ in range(runs):
        raw_tps, raw_n = raw_generate(raw, prompt_tokens, n_tokens)
        pipe.session.new_chat()
        probe = StallProbe()
        probe.start()
        msg, timing = pipe.turn(PROMPT, max_tokens=n_tokens)
        probe.stop()
        pipe_tps = _rate(timing["arrivals"])
        rows.append({"raw_tps": round(raw_tps, 1), "raw_tokens": raw_n, "pipeline_tps": round(pipe_tps, 1),
                     "pipeline_tokens": msg.stats.generated_tokens, "ratio": round(pipe_tps / raw_tps, 3),
                     **probe.summary()})
    backend.close()
    pipe.close()
    parser = parser_throughput(total_bytes=200_000, chunk_chars=4)
    decode_us = 1e6 / statistics.median(r["pipeline_tps"] for r in rows)
    ratios = [r["ratio"] for r in rows]
    return {
        "model": pipe.session.profile.id,
        "n_threads": pipe.info.n_threads,
        "runs": rows,
        "raw_tps_median": statistics.median(r["raw_tps"] for r in rows),
        "pipeline_tps_median": statistics.median(r["pipeline_tps"] for r in rows),
        "ratio_median": statistics.median(ratios),
        "ratio_of_medians": round(statistics.median(r["pipeline_tps"] for r in rows)
                                  / statistics.median(r["raw_tps"] for r in rows), 3),
        "ratio_min": min(ratios),
        "max_gui_stall_ms": max(r["max_stall_ms"] for r in rows),
        "first_turn_max_stall_ms": first.summary()["max_stall_ms"],
        "cpu_count": os.cpu_count(),
        "reasoning_parser": backend.setup.spec.family if backend.setup.spec else None,
        "parser_us_per_token": parser["us_per_chunk"],
        "parser_share_of_decode_pct": round(100 * parser["us_per_chunk"] / decode_us, 4),
    }
