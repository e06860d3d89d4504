"""kill -9 mid-stream: on reopening, at most ~1 s of text is lost, the message says interrupted, the file is sound."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from app.store.conversations import INTERRUPTED, open_store

CHILD = Path(__file__).with_name("stream_child.py")
KILL_AFTER_S = 2.5
MAX_LOST_S = 1.0


def _run_and_kill(env) -> tuple[list[tuple[int, float]], float, str]:
    proc = subprocess.Popen([sys.executable, str(CHILD), "3000", "0.004"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    progress: list[tuple[int, float]] = []
    other: list[str] = []
    first = threading.Event()

    def read():
        for line in proc.stdout:
            if line.startswith("PROGRESS "):
                _, n, t = line.split()
                progress.append((int(n), float(t)))
                first.set()
            else:
                other.append(line.strip())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert first.wait(60), f"the child never streamed: {other} {proc.stderr.read() if proc.poll() is not None else ''}"
        time.sleep(max(0.0, progress[0][1] + KILL_AFTER_S - time.time()))
        os.kill(proc.pid, signal.SIGKILL)
        t_kill = time.time()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)
        reader.join(10)
    assert proc.returncode == -signal.SIGKILL
    assert "FINISHED" not in other and not any(line.startswith("ERROR") for line in other), other
    started = [line.split()[1] for line in other if line.startswith("STARTED")]
    return progress, t_kill, started[0]


def test_kill_mid_stream_loses_at_most_a_second(ponder_home):
    env = dict(os.environ, PONDER_HOME=str(ponder_home), QT_QPA_PLATFORM="offscreen")
    progress, t_kill, conv_uid = _run_and_kill(env)
    streamed = max(n for n, t in progress if t <= t_kill)

    store, notice = open_store()  # the next start
    assert notice is None
    assert store.integrity_check() == "ok"
    conv = store.load_conversation(conv_uid)
    user, msg = conv.messages
    assert user.text == "Count for a long while."
    saved = msg.stats.generated_tokens
    # the writer saves the message as it is, which can be up to one view update (33 ms, ~8
    # tokens at this pace) ahead of the last PROGRESS line the child printed
    assert 0 < saved <= streamed + 16
    # the reasoning text holds exactly what the counts say (r0 .. r{n-1}), no torn write
    words = msg.reasoning.split()
    assert words == [f"r{i}" for i in range(len(words))] and len(words) >= msg.stats.reasoning_tokens - 1
    lost_from = min((t for n, t in progress if n > saved), default=t_kill)
    lost_s = t_kill - lost_from
    print(f"\nkill -9 after {KILL_AFTER_S} s: streamed {streamed} tokens, saved {saved}, lost {lost_s:.2f} s of text")
    assert lost_s <= MAX_LOST_S
    assert msg.finish_reason == INTERRUPTED
    row = store.db.conn.execute("SELECT partial, interrupted FROM messages WHERE uid = ?", (msg.uid,)).fetchone()
    assert row == (0, 1)
    store.close()
