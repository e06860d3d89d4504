"""``ponder bench speed``: Ponder at its defaults against the best raw llama-cpp-python can do.

Raw llama-cpp-python is measured twice on the same file: at its own defaults (half the cores
for decoding, all for prompts) and at the best thread counts of a sweep. Ponder is measured
where the user sees it: token batches reaching the GUI thread of the real window (offscreen),
and the time from Send to the first token. Runs are interleaved in one process, so both
sides see the same machine load.

Figures: decode and prompt tokens/s and their ratios to the best raw setting; time to first
token for a ~1,040-token prompt and for the follow-up turn after it (only the new tokens are
evaluated); GUI stalls while decoding; Stop latency during prompt evaluation; resident
memory of two profiles on one file.
"""

from __future__ import annotations

import statistics
import time

from app.bench.harness import Pipeline
from app.bench.probe import StallProbe
from app.bench.throughput import PROMPT, _rate, raw_generate

FILLER = "The quick brown fox jumps over the lazy dog while the cat watches from the fence. "


def long_prompt(run: int) -> str:
    """About 1,040 tokens of SmolLM2's vocabulary; ``run`` makes every prompt new to the cache."""
    return f"Run {run}. " + FILLER * 61 + "\nIn one sentence, what does the text above describe?"


def _raw_prompt_rate(llm, tokens: list[int]) -> float:
    from app.backends import llama_adapter as adapter

    adapter.keep_cached(llm, 0)
    t0 = time.perf_counter()
    llm.eval(tokens)
    return len(tokens) / (time.perf_counter() - t0)


def _raw_ttft(llm, tokens: list[int]) -> float:
    """Seconds from a fresh context to the first sampled token (the prompt evaluated once)."""
    llm.reset()
    t0 = time.perf_counter()
    gen = llm.generate(tokens, temp=0.0, top_k=40, top_p=0.95, min_p=0.05, repeat_penalty=1.0)
    next(gen)
    seconds = time.perf_counter() - t0
    gen.close()
    return seconds


def _sweep(raw, prompt_tokens: list[int], long_tokens: list[int], n_tokens: int) -> dict:
    """Decode and prompt tokens/s of raw llama-cpp-python at each thread count."""
    from app.backends import llama_adapter as adapter
    from app.backends.thread_choice import available_cores, candidates

    cores = available_cores()
    decode, prompt = {}, {}
    for n in candidates(cores):
        adapter.set_threads(raw, n, cores)
        raw_generate(raw, prompt_tokens, 8)
        decode[n] = raw_generate(raw, prompt_tokens, n_tokens)[0]
        adapter.set_threads(raw, max(1, cores // 2), n)
        prompt[n] = _raw_prompt_rate(raw, long_tokens)
    return {"decode": decode, "prompt": prompt}


def bench_speed(runs: int = 3, n_tokens: int = 256, model: str | None = None) -> dict:
    from app.backends import llama_adapter as adapter
    from app.backends.llama_backend import LlamaBackend
    from app.backends.thread_choice import available_cores

    pipe = Pipeline(model, temperature=0.0, no_budget=True)
    pipe.load()
    info = pipe.info
    # The raw side gets its own Llama on the same file and context, at llama-cpp-python's defaults.
    backend = LlamaBackend(pipe.session.profile)
    backend.load()
    raw = backend.llm
    cores = available_cores()
    default_threads = (max(1, cores // 2), cores)  # Llama(): n_threads = cpu//2, n_threads_batch = cpu
    prompt_tokens = backend.tokenize(backend.render_prompt([{"role": "user", "content": PROMPT}]))
    long_tokens = backend.tokenize(backend.render_prompt([{"role": "user", "content": long_prompt(0)}]))
    sweep = _sweep(raw, prompt_tokens, long_tokens, n_tokens)
    best_decode = max(sweep["decode"], key=sweep["decode"].get)
    best_prompt = max(sweep["prompt"], key=sweep["prompt"].get)

    rows = []
    pipe.turn(PROMPT, max_tokens=16)  # warm both sides up
    for run in range(runs):
        adapter.set_threads(raw, *default_threads)
        raw_default_decode = raw_generate(raw, prompt_tokens, n_tokens)[0]
        raw_default_prompt = _raw_prompt_rate(raw, long_tokens)
        adapter.set_threads(raw, best_decode, best_prompt)
        raw_best_decode = raw_generate(raw, prompt_tokens, n_tokens)[0]
        raw_best_prompt = _raw_prompt_rate(raw, long_tokens)
        raw_best_ttft = _raw_ttft(raw, long_tokens)

        pipe.session.new_chat()
        probe = StallProbe()
        probe.start()
        msg, timing = pipe.turn(PROMPT, max_tokens=n_tokens)
        probe.stop()
        pipe_decode = _rate(timing["arrivals"])

        pipe.session.new_chat()
        long_msg, long_timing = pipe.turn(long_prompt(run + 1), max_tokens=1)
        pipe_ttft = long_timing["arrivals"][0] - long_timing["t_send"]
        evaluated = long_msg.stats.prompt_tokens
        follow_msg, follow_timing = pipe.turn("And in three words?", max_tokens=1)
        follow_ttft = follow_timing["arrivals"][0] - follow_timing["t_send"]

        rows.append({
            "raw_default_decode_tps": round(raw_default_decode, 1), "raw_best_decode_tps": round(raw_best_decode, 1),
            "pipeline_decode_tps": round(pipe_decode, 1),
            "raw_default_prompt_tps": round(raw_default_prompt, 1), "raw_best_prompt_tps": round(raw_best_prompt, 1),
            "pipeline_prompt_tps": round(evaluated / pipe_ttft, 1),
            "raw_best_ttft_s": round(raw_best_ttft, 3), "pipeline_ttft_s": round(pipe_ttft, 3),
            "prompt_tokens": evaluated, "turn2_ttft_s": round(follow_ttft, 3),
            "turn2_prompt_tokens": follow_msg.stats.prompt_tokens, **probe.summary(),
        })
    stop_ms = _stop_during_prompt(pipe, runs)
    memory = _shared_memory(pipe.session.profile)
    backend.close()
    pipe.close()

    def med(key: str) -> float:
        return statistics.median(r[key] for r in rows)

    return {
        "model": pipe.session.profile.id, "cores": cores,
        "ponder_threads": {"decode": info.n_threads, "batch": info.n_threads_batch},
        "raw_default_threads": {"decode": default_threads[0], "batch": default_threads[1]},
        "raw_best_threads": {"decode": best_decode, "batch": best_prompt},
        "sweep_tps": {k: {str(n): round(v, 1) for n, v in d.items()} for k, d in sweep.items()},
        "runs": rows,
        "decode_ratio_to_best": round(med("pipeline_decode_tps") / med("raw_best_decode_tps"), 3),
        "decode_ratio_to_raw_default": round(med("pipeline_decode_tps") / med("raw_default_decode_tps"), 3),
        "prompt_ratio_to_best": round(med("pipeline_prompt_tps") / med("raw_best_prompt_tps"), 3),
        "prompt_ratio_to_raw_default": round(med("pipeline_prompt_tps") / med("raw_default_prompt_tps"), 3),
        "ttft_s": {"pipeline": med("pipeline_ttft_s"), "raw_best": med("raw_best_ttft_s"),
                   "prompt_tokens": med("prompt_tokens"), "turn2": med("turn2_ttft_s")},
        "gui_stall_p99_ms": max(r["p99_stall_ms"] for r in rows),
        "gui_stall_max_ms": max(r["max_stall_ms"] for r in rows),
        "stop_during_prompt_ms": stop_ms,
        "two_profiles_one_file": memory,
    }


def _stop_during_prompt(pipe: Pipeline, runs: int) -> dict:
    latencies = []
    for run in range(runs):
        pipe.session.new_chat()
        msg, timing = pipe.turn(long_prompt(100 + run) * 3, max_tokens=8, stop_after_s=0.15)
        if msg.finish_reason == "cancelled" and msg.stats.generated_tokens == 0 and timing["t_stop"]:
            latencies.append((timing["t_done"] - timing["t_stop"]) * 1000)
    return {"ms": [round(x, 1) for x in latencies], "max_ms": round(max(latencies), 1) if latencies else None}


def _shared_memory(profile) -> dict:
    """Resident memory (RSS) added by loading two profiles on one file through one pool."""
    from dataclasses import replace

    from app.backends.llama_backend import LlamaBackend
    from app.backends.llama_model import ModelPool

    def rss() -> int:
        import os

        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    pool = ModelPool()
    before = rss()
    first = LlamaBackend(replace(profile, id="bench-a"), pool=pool)
    first.load()
    after_one = rss()
    second = LlamaBackend(replace(profile, id="bench-b", system_prompt="Answer tersely."), pool=pool)
    second.load()
    after_two = rss()
    shared = first.model is second.model
    estimate_model = first.model
    loaded = len(pool.loaded())
    first.close()
    second.close()
    estimate = estimate_model.estimate.total if estimate_model.estimate else None
    return {"rss_added_by_first_profile": after_one - before, "rss_added_by_second_profile": after_two - after_one,
            "one_model": shared, "loaded_models": loaded, "model_estimate_bytes": estimate}
