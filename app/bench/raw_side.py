"""Raw llama-cpp-python in a process of its own, driven step by step by a benchmark.

Why a process: llama.cpp's CPU backend is built with OpenMP, and libgomp keeps a team of
threads for every thread that computes. Once two threads of one process have computed (the
benchmark's main thread for the raw side, Ponder's model worker for the pipeline), libgomp
manages more threads than there are cores and throttles its barrier spinning: every node of
every token then ends in a futex sleep, and *both* sides decode at about half speed (measured
here: 107 → 53 tok/s at 2 threads on 2 cores). Ponder itself computes on one thread only,
so in the app that never happens; in one benchmark process it would. A separate process
keeps the comparison fair while the runs stay interleaved (both sides see the same load).

The file is loaded through Ponder's loader (same file, context and batch size), then only
``Llama.eval`` and ``Llama.generate`` run: Ponder installs its abort check around its own
prompt evaluation only, so nothing of Ponder's runs while the raw side computes.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from typing import Any


def _serve(conn, profile) -> None:
    from app.backends import llama_adapter as adapter
    from app.backends.llama_backend import LlamaBackend
    from app.bench.throughput import raw_generate

    backend = LlamaBackend(profile)
    backend.load()
    llm = backend.llm

    def tokens(text: str) -> list[int]:
        return backend.tokenize(backend.render_prompt([{"role": "user", "content": text}]))

    def prompt_rate(text: str) -> float:
        toks = tokens(text)
        adapter.keep_cached(llm, 0)
        t0 = time.perf_counter()
        llm.eval(toks)
        return len(toks) / (time.perf_counter() - t0)

    def ttft(text: str) -> tuple[int, float]:
        """(prompt tokens, seconds to the first sampled token) from an empty context."""
        toks = tokens(text)
        llm.reset()
        t0 = time.perf_counter()
        gen = llm.generate(toks, temp=0.0, top_k=40, top_p=0.95, min_p=0.05, repeat_penalty=1.0)
        next(gen)
        seconds = time.perf_counter() - t0
        gen.close()
        return len(toks), seconds

    commands = {
        "threads": lambda n, nb: adapter.set_threads(llm, n, nb),
        "decode": lambda text, n: raw_generate(llm, tokens(text), n)[0],
        "prompt_rate": prompt_rate,
        "ttft": ttft,
        "count": lambda text: len(tokens(text)),
    }
    conn.send(("ready", None))
    while True:
        name, args = conn.recv()
        if name == "close":
            break
        try:
            conn.send(("ok", commands[name](*args)))
        except Exception as exc:  # reported to the benchmark, which raises it
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
    backend.close()


class RawSide:
    """``with RawSide(profile) as raw: raw.call("decode", prompt, 256)`` — see module docstring."""

    def __init__(self, profile):
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, profile), daemon=True)

    def __enter__(self) -> RawSide:
        self._proc.start()
        self._expect()
        return self

    def __exit__(self, *exc) -> None:
        try:
            self._conn.send(("close", ()))
        except OSError:
            pass
        self._proc.join(30)
        if self._proc.is_alive():
            self._proc.kill()

    def call(self, name: str, *args) -> Any:
        self._conn.send((name, args))
        return self._expect()

    def _expect(self) -> Any:
        status, value = self._conn.recv()
        if status == "error":
            raise RuntimeError(f"raw llama-cpp-python side: {value}")
        return value
