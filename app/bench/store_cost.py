"""Writer-thread CPU of saving a streamed trace, early in the trace and late (``ponder bench store-cost``).

A long reasoning trace is folded into an :class:`~app.domain.messages.AssistantMessage` token
by token (real events, real counting) and :class:`~app.controllers.persistence.Persistence`
saves it to a temporary database through its writer thread (after a 1,000-token warm-up
turn), one partial save every ``tokens_per_save`` tokens (16 tokens is 0.5 s of a 32 tok/s local model). The CPU time of the
writer thread itself (``pthread_getcpuclockid``) is read around every save, so what is
measured is exactly what the writer does; the GUI thread's share (taking the snapshot or the
delta) is reported too. Goal: the cost per 1,000 tokens at 30k is at most 1.1 times the cost
at 1k.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.domain import events as ev
from app.domain.conversation import Conversation
from app.domain.messages import AssistantMessage, UserMessage


class _Session(QObject):
    """The three signals and the conversation Persistence needs from a chat session."""

    message_added = Signal(object)
    message_changed = Signal(object)
    turn_finished = Signal(object)

    def __init__(self):
        super().__init__()
        self.conversation = Conversation(title="Store cost")


def _word(i: int) -> str:
    return f" w{i % 997}" if i % 40 else ".\n\nThen"


def _thread_cpu(thread) -> float:
    return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))


def _stream(session: _Session, persistence, tokens: int, tokens_per_save: int) -> list[tuple[int, float, float]]:
    """One turn of ``tokens`` reasoning tokens, saved every ``tokens_per_save``; (tokens, writer s, GUI s) per save."""
    user, msg = UserMessage("Think for a long time."), AssistantMessage()
    session.conversation.messages += [user, msg]
    session.message_added.emit(user)
    msg.apply(ev.TurnStarted(model_id="bench", where="local", t=time.time(), prompt_tokens=12, n_ctx=65536))
    msg.apply(ev.BlockStart(marker="<think>", t=time.time()))
    session.message_added.emit(msg)
    persistence.flush()
    writer = persistence._thread
    samples: list[tuple[int, float, float]] = []
    for i in range(tokens):
        msg.apply(ev.ReasoningDelta(text=_word(i)))
        msg.apply(ev.TokenCounts(reasoning=i + 1, answer=0, t=time.time()))
        if (i + 1) % tokens_per_save == 0:
            session.message_changed.emit(msg)
            before, t0 = _thread_cpu(writer), time.thread_time()
            persistence.flush()  # queues the save (GUI side) and waits for the writer
            gui = time.thread_time() - t0
            samples.append((i + 1, _thread_cpu(writer) - before, gui))
    msg.apply(ev.BlockEnd(marker="</think>", t=time.time()))
    msg.apply(ev.TurnFinished(finish_reason="stop", t=time.time()))
    session.turn_finished.emit(msg)
    return samples


def _measure(folder: Path, tokens: int, tokens_per_save: int, windows: tuple[int, ...]) -> dict:
    from app.controllers.persistence import Persistence
    from app.store.conversations import open_store

    store, _notice = open_store(folder / "bench.sqlite3")
    session = _Session()
    persistence = Persistence(session, store, interval_ms=3_600_000)  # saves are driven below
    _stream(session, persistence, 1_000, tokens_per_save)  # warm-up: caches, statements, the first pages
    samples = _stream(session, persistence, tokens, tokens_per_save)
    writer = persistence._thread
    t_final = _thread_cpu(writer)
    persistence.flush()
    final_ms = (_thread_cpu(writer) - t_final) * 1000
    persistence.close()
    back = store.load_conversation(session.conversation.uid).messages[-1]
    assert back.stats.reasoning_tokens == tokens, "the saved message is incomplete"
    db_mb = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
    store.close()

    def per_1k(end: int) -> tuple[float, float]:
        window = [s for s in samples if end - 1000 < s[0] <= end]
        n = sum(tokens_per_save for _ in window)
        return (sum(s[1] for s in window) / n * 1e6, sum(s[2] for s in window) / n * 1e6)  # ms per 1,000 tokens

    out: dict = {}
    for end in windows:
        writer_ms, gui_ms = per_1k(end)
        out[f"writer_cpu_ms_per_1k_tokens_at_{end // 1000}k"] = round(writer_ms, 2)
        out[f"gui_ms_per_1k_tokens_at_{end // 1000}k"] = round(gui_ms, 2)
    first, last = out[f"writer_cpu_ms_per_1k_tokens_at_{windows[0] // 1000}k"], \
        out[f"writer_cpu_ms_per_1k_tokens_at_{windows[-1] // 1000}k"]
    out["writer_ratio_last_to_first"] = round(last / first, 2) if first else None
    out.update(saves=len(samples), final_save_writer_ms=round(final_ms, 1), db_mb=round(db_mb, 2))
    return out


def bench_store_cost(tokens: int = 30_000, tokens_per_save: int = 16) -> dict:
    """Writer CPU per 1,000 tokens at 1k and at ``tokens`` (headline: ``writer_ratio_last_to_first``)."""
    from app.bench.harness import qt_app

    qt_app()
    with tempfile.TemporaryDirectory() as tmp:
        result = _measure(Path(tmp), tokens, tokens_per_save, (1_000, tokens))
    return {"tokens": tokens, "tokens_per_save": tokens_per_save, **result}


if __name__ == "__main__":
    import json

    print(json.dumps(bench_store_cost(), indent=2))
