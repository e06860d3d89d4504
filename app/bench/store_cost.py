"""Writer-thread CPU of saving a streamed trace, early in the trace and late (``ponder bench store-cost``).

A long reasoning trace is folded into an :class:`~app.domain.messages.AssistantMessage` token
by token (real events, real counting) and :class:`~app.controllers.persistence.Persistence`
saves it to a temporary database through its writer thread (after a 1,000-token warm-up
turn), one partial save every ``tokens_per_save`` tokens (16 tokens is 0.5 s of a 32 tok/s
local model). The CPU time of the writer thread itself (``pthread_getcpuclockid``) is read
around every save, so what is measured is exactly what the writer does; the GUI thread's share
(taking the delta or the snapshot) is reported too. The two windows are measured side by
side: a fresh turn's first 2,000 tokens and a long turn's last 2,000 (its tokens 28k..30k)
are saved alternately, so both see the same load on the machine. Goal: the cost per 1,000
tokens at 30k is at most 1.1 times the cost at 1k.
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


WINDOW = 2_000  # tokens per measuring window: about 125 saves, so a WAL checkpoint weighs as it should


def _word(i: int) -> str:
    return f" w{i % 997}" if i % 40 else ".\n\nThen"


def _thread_cpu(thread) -> float:
    return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))


class _Turn:
    """One streaming reasoning turn of the bench session, grown and saved a slice at a time."""

    def __init__(self, session: _Session, persistence):
        self.session, self.persistence = session, persistence
        self.tokens = 0
        user, self.msg = UserMessage("Think for a long time."), AssistantMessage()
        session.conversation.messages += [user, self.msg]
        session.message_added.emit(user)
        self.msg.apply(ev.TurnStarted(model_id="bench", where="local", t=time.time(), prompt_tokens=12,
                                      n_ctx=65536))
        self.msg.apply(ev.BlockStart(marker="<think>", t=time.time()))
        session.message_added.emit(self.msg)
        persistence.flush()

    def grow_and_save(self, n: int) -> tuple[float, float]:
        """``n`` more tokens, then one partial save; (writer CPU s, GUI CPU s) of that save."""
        for _ in range(n):
            self.msg.apply(ev.ReasoningDelta(text=_word(self.tokens)))
            self.tokens += 1
            self.msg.apply(ev.TokenCounts(reasoning=self.tokens, answer=0, t=time.time()))
        self.session.message_changed.emit(self.msg)
        writer = self.persistence._thread
        before, t0 = _thread_cpu(writer), time.thread_time()
        self.persistence.flush()  # queues the save (GUI side) and waits for the writer
        return _thread_cpu(writer) - before, time.thread_time() - t0

    def finish(self) -> float:
        """Save the turn whole; the writer's CPU ms for that."""
        self.msg.apply(ev.BlockEnd(marker="</think>", t=time.time()))
        self.msg.apply(ev.TurnFinished(finish_reason="stop", t=time.time()))
        writer = self.persistence._thread
        before = _thread_cpu(writer)
        self.session.turn_finished.emit(self.msg)
        self.persistence.flush()
        return (_thread_cpu(writer) - before) * 1000


def _measure(folder: Path, tokens: int, tokens_per_save: int) -> dict:
    """Grow a long turn to ``tokens - WINDOW``, then save a fresh turn and the long one in turns."""
    from app.controllers.persistence import Persistence
    from app.store.conversations import open_store

    store, _notice = open_store(folder / "bench.sqlite3")
    session = _Session()
    persistence = Persistence(session, store, interval_ms=3_600_000)  # saves are driven below
    warm = _Turn(session, persistence)  # caches, statements, the first pages
    for _ in range(1_000 // tokens_per_save):
        warm.grow_and_save(tokens_per_save)
    warm.finish()
    long = _Turn(session, persistence)
    while long.tokens < tokens - WINDOW:
        long.grow_and_save(tokens_per_save)
    short = _Turn(session, persistence)
    early = [0.0, 0.0]
    late = [0.0, 0.0]
    while long.tokens < tokens:  # side by side: the same load on the machine for both
        for turn, sums in ((short, early), (long, late)):
            writer_s, gui_s = turn.grow_and_save(tokens_per_save)
            sums[0] += writer_s
            sums[1] += gui_s
    short.finish()
    final_ms = long.finish()
    persistence.close()
    back = store.load_conversation(session.conversation.uid).messages[-3]
    assert back.stats.reasoning_tokens == tokens, "the saved message is incomplete"
    db_mb = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
    store.close()
    per_1k = 1e6 / WINDOW  # seconds over the window -> ms per 1,000 tokens
    return {"early": [x * per_1k for x in early], "late": [x * per_1k for x in late],
            "final_save_writer_ms": final_ms, "db_mb": db_mb}


def bench_store_cost(tokens: int = 30_000, tokens_per_save: int = 16, runs: int = 2) -> dict:
    """Writer CPU per 1,000 tokens in a trace's first 2k and its last 2k of ``tokens`` (best of ``runs``)."""
    from app.bench.harness import qt_app

    qt_app()
    ratios, best_early, best_late, last = [], None, None, {}
    for _ in range(max(1, runs)):
        with tempfile.TemporaryDirectory() as tmp:
            last = _measure(Path(tmp), tokens, tokens_per_save)
        ratios.append(last["late"][0] / last["early"][0])
        best_early = last["early"] if best_early is None else [min(a, b) for a, b in zip(best_early, last["early"])]
        best_late = last["late"] if best_late is None else [min(a, b) for a, b in zip(best_late, last["late"])]
    return {
        "tokens": tokens, "tokens_per_save": tokens_per_save, "window_tokens": WINDOW,
        "writer_cpu_ms_per_1k_tokens_at_1k": round(best_early[0], 2),
        "writer_cpu_ms_per_1k_tokens_at_30k": round(best_late[0], 2),
        "writer_ratio_30k_to_1k": round(sorted(ratios)[len(ratios) // 2], 2),  # median of the runs
        "gui_ms_per_1k_tokens_at_1k": round(best_early[1], 2),
        "gui_ms_per_1k_tokens_at_30k": round(best_late[1], 2),
        "final_save_writer_ms": round(last["final_save_writer_ms"], 1), "db_mb": round(last["db_mb"], 2),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(bench_store_cost(), indent=2))
