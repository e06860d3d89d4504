"""``ponder bench``: the performance figures the issues ask for, measured on this machine."""

from __future__ import annotations


def run_bench(what: str, *, runs: int = 3, n_tokens: int = 256, model: str | None = None) -> dict:
    from app.domain.reasoning.benchmark import parser_throughput

    result: dict = {}
    if what in ("speed", "all"):
        from app.bench.speed import bench_speed

        result["speed"] = bench_speed(runs=runs, n_tokens=n_tokens, model=model)
    if what in ("lookup", "all"):
        from app.bench.lookup import bench_lookup

        result["lookup"] = bench_lookup(runs=runs, n_tokens=n_tokens, model=model)
    if what in ("throughput", "all"):
        from app.bench.throughput import bench_throughput

        result["throughput"] = bench_throughput(runs=runs, n_tokens=n_tokens, model=model)
    if what in ("stop", "all"):
        from app.bench.stop_latency import bench_stop

        result["stop"] = bench_stop(runs=runs, model=model)
    if what in ("startup", "all"):
        from app.bench.startup import bench_startup

        result["startup"] = bench_startup(runs=runs)
    if what in ("switch", "all"):
        from app.bench.switch import bench_switch

        result["switch"] = bench_switch(runs=runs)
    if what in ("ui", "all"):
        from app.bench.ui_stream import bench_ui

        result["ui"] = bench_ui()
    if what in ("store-cost", "all"):
        from app.bench.store_cost import bench_store_cost

        result["store-cost"] = bench_store_cost(runs=min(runs, 3))
    if what in ("markdown", "all"):
        from app.bench.markdown import bench_markdown

        result["markdown"] = bench_markdown(runs=runs)
    if what in ("tools", "all"):
        from app.bench.tools import bench_tools

        result["tools"] = bench_tools(runs=min(runs, 3), model=model)
    if what in ("parser", "all"):
        result["parser"] = parser_throughput()
    return result
