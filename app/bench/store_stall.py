"""The longest GUI-thread stall while a 30k-token trace streams and Persistence saves it.

A fake session plays a 30k-token reasoning trace at 2,000 tokens a second by default (faster
than any local model; real parser, real counting, real message folding on the GUI thread);
a :class:`StallProbe` measures the event loop's lag. With ``delay_s=0`` the stream runs
flat out and folding the events alone keeps the GUI thread busy, so the probe then measures
the stream more than the saving. The same run without Persistence is the baseline, so the difference is what
saving costs the GUI thread. The database is a temporary file.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer

from app.backends.fake import FakeBackend
from app.bench.harness import qt_app
from app.bench.probe import StallProbe
from app.controllers.chat_session import ChatSession
from app.controllers.persistence import Persistence
from app.domain.config import load_user_models
from app.domain.reasoning.markers import FAMILIES
from app.store.conversations import open_store


def _script(tokens: int) -> list[str]:
    words = [f" w{i % 997}" for i in range(tokens)]  # varied words, as the search index would see
    return ["<think>", *words, "</think>", " The", " answer", "."]


def _wait(signal, timeout_s: float, done=lambda: True) -> None:
    loop = QEventLoop()

    def check(*_args):
        if done():
            loop.quit()

    signal.connect(check)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    signal.disconnect(check)


def _run(tokens: int, delay_s: float, folder: Path | None) -> dict:
    script = _script(tokens)
    session = ChatSession(load_user_models(),
                          factory=lambda p: FakeBackend(p, script, spec=FAMILIES["think"], delay_s=delay_s),
                          max_tokens=len(script) + 10)
    store = persistence = None
    saved: list[str] = []
    if folder is not None:
        store, _notice = open_store(folder / "bench.sqlite3")
        persistence = Persistence(session, store)
        persistence.saved.connect(saved.append)
    probe = StallProbe(5)
    probe.start()
    t0 = time.perf_counter()
    session.send("Think for a long time.")
    _wait(session.turn_finished, 300)
    stream_s = time.perf_counter() - t0
    msg = session.conversation.messages[-1]
    out = {"stream_s": round(stream_s, 2), "generated_tokens": msg.stats.generated_tokens}
    if persistence is not None:
        t1 = time.perf_counter()
        _wait(persistence.saved, 60, done=lambda: len(saved) >= 2)  # the user message, then the answer
        out["final_save_after_turn_ms"] = round((time.perf_counter() - t1) * 1000, 1)
    probe.stop()
    out.update(probe.summary())
    if persistence is not None:
        t2 = time.perf_counter()
        persistence.close()
        out["close_ms"] = round((time.perf_counter() - t2) * 1000, 1)
        out["writes"] = persistence.writes
        out["snapshot_ms_max"] = round(persistence.snapshot_ms_max, 2)
        back = store.load_conversation(session.conversation.uid).messages[-1]
        out["saved_tokens"] = back.stats.generated_tokens
        out["db_mb"] = round(sum(p.stat().st_size for p in folder.iterdir()) / 1e6, 2)
        store.close()
    session.shutdown()
    return out


def bench_store_stall(tokens: int = 30_000, delay_s: float = 0.0005) -> dict:
    """GUI stall figures with and without saving; ``max_stall_ms`` is the headline figure."""
    qt_app()
    _run(500, 0.0, None)  # warm up imports and the first turn
    baseline = _run(tokens, delay_s, None)
    with tempfile.TemporaryDirectory() as tmp:
        saving = _run(tokens, delay_s, Path(tmp))
    return {"tokens": tokens, "delay_s": delay_s, "max_stall_ms": saving["max_stall_ms"],
            "p99_stall_ms": saving["p99_stall_ms"], "with_persistence": saving, "baseline": baseline}


if __name__ == "__main__":
    import json

    print(json.dumps(bench_store_stall(), indent=2))
