"""``ponder bench speed``: Ponder at its defaults against the best raw llama-cpp-python can do.

Raw llama-cpp-python (in a process of its own, see app.bench.raw_side) is measured twice on
the same file: at its own defaults (half the cores for decoding, all for prompts) and at the
best thread counts of a sweep. Ponder is measured where the user sees it: token batches
reaching the GUI thread of the real window (offscreen), and the time from Send to the first
token. Ponder and raw at the best setting take turns, and every Ponder run is compared with
the mean of the raw runs right before and after it, so both sides see the same machine load
even while it drifts; the ratios come with their median and the mean's 95 % interval.

Figures: decode and prompt tokens/s and their ratios to the best raw setting; time to first
token for a ~1,040-token prompt and for the follow-up turn after it (only the new tokens are
evaluated), also after switching to another profile on the same file; GUI stalls while
decoding; Stop latency during prompt evaluation; resident memory of two profiles on one file.
"""

from __future__ import annotations

import statistics

from app.bench.harness import Pipeline
from app.bench.probe import StallProbe
from app.bench.raw_side import RawSide
from app.bench.throughput import PROMPT, _rate

FILLER = "The quick brown fox jumps over the lazy dog while the cat watches from the fence. "


def long_prompt(run: int) -> str:
    """About 1,040 tokens of SmolLM2's vocabulary; ``run`` makes every prompt new to the cache."""
    return f"Run {run}. " + FILLER * 61 + "\nIn one sentence, what does the text above describe?"


def _sweep(raw: RawSide, long_text: str, n_tokens: int) -> dict:
    """Decode and prompt tokens/s of raw llama-cpp-python at each thread count."""
    from app.backends.thread_choice import available_cores, candidates

    cores = available_cores()
    decode, prompt = {}, {}
    for n in candidates(cores):
        raw.call("threads", n, cores)
        raw.call("decode", PROMPT, 8)
        decode[n] = raw.call("decode", PROMPT, n_tokens)
        raw.call("threads", max(1, cores // 2), n)
        prompt[n] = raw.call("prompt_rate", long_text)
    return {"decode": decode, "prompt": prompt}


def bench_speed(runs: int = 3, n_tokens: int = 256, model: str | None = None) -> dict:
    from app.backends.thread_choice import available_cores

    pipe = Pipeline(model, temperature=0.0, no_budget=True)
    pipe.load()
    info = pipe.info
    with RawSide(pipe.session.profile) as raw:  # same file and context, llama-cpp-python's defaults
        cores = available_cores()
        default_threads = (max(1, cores // 2), cores)  # Llama(): n_threads = cpu//2, n_threads_batch = cpu
        sweep = _sweep(raw, long_prompt(0), n_tokens)
        result = _interleaved(pipe, raw, sweep, default_threads, runs, n_tokens)
    stop_ms = _stop_during_prompt(pipe, runs)
    memory = _shared_memory(pipe.session.profile)
    pipe.close()
    return {"model": pipe.session.profile.id, "cores": cores,
            "ponder_threads": {"decode": info.n_threads, "batch": info.n_threads_batch},
            "raw_default_threads": {"decode": default_threads[0], "batch": default_threads[1]},
            **result, "stop_during_prompt_ms": stop_ms, "two_profiles_one_file": memory}


# Two-sided 95 % quantiles of Student's t by degrees of freedom (n - 1 pairs); between two
# entries the lower one's (a wider interval); 1.96 beyond.
_T95 = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26, 10: 2.23,
        11: 2.20, 12: 2.18, 13: 2.16, 14: 2.14, 15: 2.13, 16: 2.12, 17: 2.11, 18: 2.10, 19: 2.09, 20: 2.09,
        25: 2.06, 30: 2.04}


def ratio_summary(ratios: list[float]) -> dict:
    """Median, mean and the mean's 95 % confidence interval of per-pair ratios."""
    n = len(ratios)
    mean = statistics.fmean(ratios)
    half = 0.0
    if n > 1:
        t = _T95[max(k for k in _T95 if k <= n - 1)] if n - 1 <= max(_T95) else 1.96
        half = t * statistics.stdev(ratios) / n ** 0.5
    return {"median": round(statistics.median(ratios), 3), "mean": round(mean, 3),
            "ci95": [round(mean - half, 3), round(mean + half, 3)], "pairs": n}


def alternate(n: int, raw_run, pipe_run) -> list[dict]:
    """R P R P … R: each of ``n`` Ponder figures with the mean of the raw figures measured right
    before and right after it. Raw speed alone drifts by ±10 % over a minute on this machine and
    consecutive raw runs differ by about 6 %, so only neighbours are compared; with strict
    alternation every run, raw or Ponder, follows a run of the other side (two raw processes
    measured this way: ratio 0.99–1.01 on average)."""
    pairs = []
    before = raw_run(0)
    for i in range(n):
        figure = pipe_run(i)
        after = raw_run(i + 1)
        raw = (before + after) / 2
        pairs.append({"raw_best": round(raw, 1), "pipeline": round(figure, 1), "ratio": round(figure / raw, 3)})
        before = after
    return pairs


def _interleaved(pipe: Pipeline, raw: RawSide, sweep: dict, default_threads: tuple[int, int], runs: int,
                 n_tokens: int) -> dict:
    """Decode and prompt rates in ``2 * runs`` alternating pairs each (see :func:`alternate`;
    prompt rates are tokens over the time to the first token on both sides); the follow-up turn
    and the turn after a profile switch after ``runs`` of the prompts; then, ``runs`` times, raw
    at its defaults and the GUI stalls while decoding."""
    best_decode = max(sweep["decode"], key=sweep["decode"].get)
    best_prompt = max(sweep["prompt"], key=sweep["prompt"].get)
    sibling = next((m.id for m in pipe.session.config.models if m.id != pipe.session.profile.id
                    and getattr(m, "path", None) == pipe.session.profile.path), None)
    pipe.turn(PROMPT, max_tokens=16)  # warm both sides up

    def raw_best(kind: str, *args):
        raw.call("threads", best_decode, best_prompt)
        return raw.call(kind, *args)

    def pipe_decode(_i: int) -> float:
        pipe.session.new_chat()
        _, timing = pipe.turn(PROMPT, max_tokens=n_tokens)
        return _rate(timing["arrivals"])

    decode_pairs = alternate(2 * runs, lambda _i: raw_best("decode", PROMPT, n_tokens), pipe_decode)

    rows: list[dict] = []
    ttfts: dict[str, list[float]] = {"pipeline": [], "raw_best": []}

    def raw_prompt(i: int) -> float:
        """Raw's prompt rate to its first token, as Ponder's: evaluating and sampling once."""
        n, seconds = raw_best("ttft", long_prompt(2 * i))
        ttfts["raw_best"].append(seconds)
        return n / seconds

    def pipe_prompt(i: int) -> float:
        pipe.session.new_chat()
        msg, timing = pipe.turn(long_prompt(2 * i + 1), max_tokens=1)
        ttft = timing["arrivals"][0] - timing["t_send"]
        ttfts["pipeline"].append(ttft)
        evaluated = msg.stats.prompt_tokens - _last_prefill(pipe)[0]  # a cached system prompt is not work
        if i < runs:  # the follow-ups need this turn's context, cached
            follow_msg, follow = pipe.turn("And in three words?", max_tokens=1)
            rows.append({"pipeline_ttft_s": round(ttft, 3), "prompt_tokens": evaluated,
                         "turn2_ttft_s": round(follow["arrivals"][0] - follow["t_send"], 3),
                         "turn2_prompt_tokens": follow_msg.stats.prompt_tokens,
                         "turn2_evaluated_tokens": _last_prefill(pipe)[1],
                         **(_turn_after_switch(pipe, sibling) if sibling else {})})
        return evaluated / ttft

    prompt_pairs = alternate(2 * runs, raw_prompt, pipe_prompt)

    for run, row in enumerate(rows):
        text = long_prompt(1000 + run)
        raw.call("threads", *default_threads)
        row.update({"raw_default_decode_tps": round(raw.call("decode", PROMPT, n_tokens), 1),
                    "raw_default_prompt_tps": round(raw.call("prompt_rate", text), 1)})

    # The stall probe's timer wakes the GUI thread hundreds of times a second, which costs the
    # decode threads time they would not lose in use: stalls come from turns of their own.
    for row in rows:
        pipe.session.new_chat()
        probe = StallProbe()
        probe.start()
        pipe.turn(PROMPT, max_tokens=n_tokens)
        probe.stop()
        row.update(probe.summary())

    def med(key: str, among=rows) -> float:
        return statistics.median(r[key] for r in among)

    decode = ratio_summary([p["ratio"] for p in decode_pairs])
    prompt = ratio_summary([p["ratio"] for p in prompt_pairs])
    return {
        "raw_best_threads": {"decode": best_decode, "batch": best_prompt},
        "sweep_tps": {k: {str(n): round(v, 1) for n, v in d.items()} for k, d in sweep.items()},
        "decode_pairs": decode_pairs, "prompt_pairs": prompt_pairs, "runs": rows,
        "decode_ratio_to_best": decode["median"], "decode_ratio": decode,
        "decode_ratio_to_raw_default": round(med("pipeline", decode_pairs) / med("raw_default_decode_tps"), 3),
        "prompt_ratio_to_best": prompt["median"], "prompt_ratio": prompt,
        "prompt_ratio_to_raw_default": round(med("pipeline", prompt_pairs) / med("raw_default_prompt_tps"), 3),
        # medians over the prompt pairs; raw evaluates the system prompt too, Ponder has it cached
        "ttft_s": {"pipeline": round(statistics.median(ttfts["pipeline"]), 3),
                   "raw_best": round(statistics.median(ttfts["raw_best"]), 3),
                   "prompt_tokens": med("prompt_tokens"), "turn2": med("turn2_ttft_s"),
                   "turn2_evaluated_tokens": med("turn2_evaluated_tokens"),
                   **({"turn2_after_switch": med("switch_ttft_s"), "after_switch_profile": sibling,
                       "after_switch_evaluated_tokens": med("switch_evaluated_tokens")} if sibling else {})},
        "gui_stall_p99_ms": max(r["p99_stall_ms"] for r in rows),
        "gui_stall_max_ms": max(r["max_stall_ms"] for r in rows),
    }


def _last_prefill(pipe: Pipeline) -> tuple[int, int]:
    """(tokens reused from the cache, tokens evaluated) of the last prompt of the loaded model."""
    return pipe.session.local_host.worker.last_prefill(pipe.session.profile.id)  # the worker is idle here


def _turn_after_switch(pipe: Pipeline, sibling: str) -> dict:
    """Turn 3 on the other profile on the same file (thinking on/off): only its new tokens are
    evaluated, the conversation's prefix stays cached. Switches back afterwards."""
    home = pipe.session.profile.id
    pipe.session.set_model(sibling, preload=False)
    pipe.load()
    msg, timing = pipe.turn("And in one word?", max_tokens=1)
    evaluated = _last_prefill(pipe)[1]
    pipe.session.set_model(home, preload=False)
    pipe.load()
    return {"switch_ttft_s": round(timing["arrivals"][0] - timing["t_send"], 3) if timing["arrivals"] else None,
            "switch_evaluated_tokens": evaluated, "switch_prompt_tokens": msg.stats.prompt_tokens}


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
