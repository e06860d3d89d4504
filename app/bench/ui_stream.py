"""GUI cost of a long live reasoning trace (``ponder bench ui``).

A scripted backend streams reasoning at ~1,000 tokens/s through the real window
(offscreen) until the trace is 30,000 tokens long. Reported: p99 and max stall of the GUI
event loop, and the GUI thread's CPU time per 1,000 tokens around 1k, 10k and 30k tokens
(appending must not get dearer as the trace grows).
"""

from __future__ import annotations

import random
import time

from app.bench.harness import Pipeline
from app.bench.probe import StallProbe

WORDS = ("so the sum is", "let me check", "that gives", "which means", "the next step", "we need",
         "because", "therefore", "if x is", "then y", "and", "the", "of", "to", "a")


def synthetic_trace(n_tokens: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(n_tokens):
        if i % 40 == 39:
            out.append(".\n" if i % 200 else ".\n\nWait,")
        else:
            out.append(" " + rng.choice(WORDS).split()[0])
    return out


def bench_ui(n_tokens: int = 30_000, rate: float = 1000.0, checkpoints=(1_000, 10_000, 30_000)) -> dict:
    from app.backends.fake import FakeBackend
    from app.domain.reasoning.markers import FAMILIES

    script = synthetic_trace(n_tokens)
    pipe = Pipeline(factory=lambda p: FakeBackend(p, script, spec=FAMILIES["think"], forced_open=True,
                                                   delay_s=1.0 / rate))
    samples: list[tuple[int, float]] = []
    pipe.session.message_changed.connect(
        lambda m: samples.append((m.stats.reasoning_tokens, time.thread_time())))
    probe = StallProbe()
    probe.start()
    t0 = time.perf_counter()
    msg, _ = pipe.turn("think", max_tokens=n_tokens + 10, timeout_s=n_tokens / rate * 4 + 60)
    wall = time.perf_counter() - t0
    probe.stop()
    pipe.close()

    def cost_per_1000(end: int) -> float | None:
        start = end - 1000
        before = [s for s in samples if s[0] <= start]
        after = [s for s in samples if s[0] >= end]
        if not after:
            return None
        a = before[-1] if before else (0, samples[0][1])
        b = after[0]
        return round((b[1] - a[1]) / max(1, b[0] - a[0]) * 1000 * 1000, 2)  # ms per 1,000 tokens

    costs = {f"gui_cpu_ms_per_1k_tokens_at_{c // 1000}k": cost_per_1000(c) for c in checkpoints}
    first, last = costs[f"gui_cpu_ms_per_1k_tokens_at_{checkpoints[0] // 1000}k"], \
        costs[f"gui_cpu_ms_per_1k_tokens_at_{checkpoints[-1] // 1000}k"]
    return {
        "tokens": msg.stats.reasoning_tokens,
        "seconds": round(wall, 1),
        "updates": len(samples),
        **probe.summary(),
        **costs,
        "cost_ratio_last_to_first": round(last / first, 2) if first and last else None,
    }
