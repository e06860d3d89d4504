"""Stop latency through the real window: while generating, and while the prompt is evaluated.

Latency is from pressing Stop (``ChatSession.stop``) to the GUI thread receiving the end
of the turn.
"""

from __future__ import annotations

import statistics

from app.bench.harness import Pipeline

LONG = ("The quick brown fox jumps over the lazy dog while the cat watches from the fence. " * 170
        + "\nSummarise the text above.")


def bench_stop(runs: int = 3, model: str | None = None) -> dict:
    pipe = Pipeline(model, temperature=0.0)
    pipe.load()
    gen, prefill = [], []
    for _ in range(runs):
        pipe.session.new_chat()
        msg, t = pipe.turn("Write a very long story about a lighthouse keeper.", max_tokens=2000, stop_after_tokens=20)
        assert msg.finish_reason == "cancelled", msg.finish_reason
        gen.append((t["t_done"] - t["t_stop"]) * 1000)
        pipe.session.new_chat()
        msg, t = pipe.turn(LONG, max_tokens=50, stop_after_s=0.15)
        assert msg.finish_reason == "cancelled" and msg.stats.generated_tokens == 0, msg.finish_reason
        prefill.append((t["t_done"] - t["t_stop"]) * 1000)
    pipe.close()
    return {
        "during_generation_ms": [round(x, 1) for x in gen],
        "during_prompt_ms": [round(x, 1) for x in prefill],
        "during_generation_ms_max": round(max(gen), 1),
        "during_prompt_ms_max": round(max(prefill), 1),
        "during_prompt_ms_median": round(statistics.median(prefill), 1),
    }
