"""What one flush of a streaming answer costs inside a long list or code fence (``ponder bench markdown``).

A :class:`~app.ui.markdown_view.MarkdownView` (offscreen) receives an answer that is one long
bullet list, or one long fenced code block, a line at a time, and is flushed after every line,
as the message widget's throttle does while a model streams. Reported per shape: the median
wall time of a flush (Markdown parsing and rendering in Python plus the QTextDocument edit)
around line 10 and around line 400, and the characters the Markdown parser read per flush
there. Goal: at most 2 ms at 400, and no growth from 10 to 400.
"""

from __future__ import annotations

import statistics
import time


def _lines(shape: str, n: int) -> tuple[str, list[str]]:
    if shape == "list":
        return "Here is the list:\n\n", [f"- item {i}: some *emphasis*, `code` and a [link](https://e.org/{i})\n"
                                          for i in range(n)]
    return "Here is the code:\n\n```python\n", [f"    value_{i} = compute({i}, scale=2.5)  # step {i}\n"
                                                 for i in range(n)]


def _flush_costs(shape: str, n: int, sample: int) -> tuple[dict[int, float], dict[int, float]]:
    from app.ui.markdown_view import MarkdownView

    view = MarkdownView()
    view.resize(700, 400)
    head, lines = _lines(shape, n)
    view.append_text(head)
    view.flush()
    times: list[float] = []
    parsed: list[int] = []
    for line in lines:
        # a line arrives in a few tokens; the throttle flushes after each token batch
        for piece in (line[: len(line) // 2], line[len(line) // 2:]):
            view.append_text(piece)
            before = view.stream.parsed_chars
            t0 = time.perf_counter()
            view.flush()
            times.append(time.perf_counter() - t0)
            parsed.append(view.stream.parsed_chars - before)
    view.finish()
    view.deleteLater()
    at: dict[int, float] = {}
    chars: dict[int, float] = {}
    for line_no in (10, n):
        end = 2 * line_no
        window = slice(max(0, end - 2 * sample), end)
        at[line_no] = statistics.median(times[window]) * 1000
        chars[line_no] = statistics.mean(parsed[window])
    return at, chars


def bench_markdown(n: int = 400, sample: int = 5, runs: int = 3) -> dict:
    """Median flush ms at line 10 and line ``n`` of a list and of a fence (best of ``runs``)."""
    from app.bench.harness import qt_app

    qt_app()
    out: dict = {}
    for shape in ("list", "fence"):
        best: dict[int, float] = {}
        chars: dict[int, float] = {}
        for _ in range(runs):
            at, chars = _flush_costs(shape, n, sample)
            best = {k: min(v, best.get(k, v)) for k, v in at.items()}
        for k in best:
            out[f"{shape}_flush_ms_at_{k}"] = round(best[k], 3)
            out[f"{shape}_parsed_chars_per_flush_at_{k}"] = round(chars[k])
        out[f"{shape}_ratio_{n}_to_10"] = round(best[n] / best[10], 2) if best[10] else None
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(bench_markdown(), indent=2))
