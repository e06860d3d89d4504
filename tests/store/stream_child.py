"""Child process of test_kill.py: a fake session streams a long turn while Persistence saves.

Prints ``STARTED <conversation uid>`` then ``PROGRESS <generated tokens> <unix time>`` on every
view update (~30 a second), until it is killed. Usage: ``stream_child.py TOKENS DELAY_S``.
"""

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
TESTS = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(TESTS.parent), str(TESTS)]  # the project (app) and tests/ (helpers)

from PySide6.QtCore import QCoreApplication  # noqa: E402

from app.controllers.persistence import Persistence  # noqa: E402
from app.store.conversations import open_store  # noqa: E402
from helpers.fake_session import fake_session  # noqa: E402


def main() -> None:
    tokens, delay = int(sys.argv[1]), float(sys.argv[2])
    app = QCoreApplication(["stream-child"])
    store, notice = open_store()
    if notice:
        print(f"NOTICE {notice}", flush=True)
    half = tokens // 2
    script = ["<think>"] + [f" r{i}" for i in range(half)] + ["</think>"] + [f" a{i}" for i in range(half)]
    session = fake_session(script, delay_s=delay, max_tokens=len(script) + 10)
    persistence = Persistence(session, store)
    persistence.error.connect(lambda text: print(f"ERROR {text}", flush=True))
    session.message_changed.connect(
        lambda m: print(f"PROGRESS {m.stats.generated_tokens} {time.time():.4f}", flush=True))
    session.turn_finished.connect(lambda m: print("FINISHED", flush=True))
    session.send("Count for a long while.")
    print(f"STARTED {session.conversation.uid}", flush=True)
    app.exec()


if __name__ == "__main__":
    main()
