"""A walkthrough of the app on a real X server, driven with real input events (xdotool).

    packaging/xvfb.sh .venv/bin/python packaging/walkthrough.py dist/ponder/ponder   # make walkthrough
    packaging/xvfb.sh .venv/bin/python packaging/walkthrough.py --source             # the source tree

It starts the app (the packaged one by default) on Qt's xcb platform with a fresh
PONDER_HOME and PONDER_STATUS_CHANNEL=1, so the app writes one JSON line per state change on
stderr (app/ui/status_channel.py). Then, as a user would, with the mouse and the keyboard:

 1. waits for the window and the bundled model;
 2. clicks the composer, types a question, presses Enter, waits for the answer;
 3. types "Is 91 a prime number?" and waits for the task hint to suggest the reasoning model;
 4. opens the model dropdown with a click and clicks the thinking model's entry;
 5. sends the question (Enter) and waits for the answer with its thinking panel;
 6. clicks the panel's header to expand it, and again to collapse it (chevron ▾ / ▸);
 7. clicks the message's Trace button, waits for the trace viewer, closes it with Esc;
 8. asks for a long answer and presses Esc while it streams: the answer must end "stopped";
 9. quits with Ctrl+Q.

Each step asserts what a user would see (through the status channel: the text that arrived,
the answer shown, the panel's state and header, the windows that opened) and every wait is
on an event with a generous timeout, never a fixed sleep. The window must keep its size all
along (no ``window_resized`` event, and the same geometry from the X server at the end).
A screenshot of the X screen is saved after each step (Qt's grab of the root window, in this
process); their paths are printed. Exits 0 when every step passed, 1 otherwise (with the
app's last stderr lines and a screenshot of the failure).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PREFIX = "ponder-status "  # app/ui/status_channel.py
ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT_S = 120
MODEL_TIMEOUT_S = 240
TURN_TIMEOUT_S = 240
UI_TIMEOUT_S = 30

FIRST_QUESTION = "What is the capital of France?"
CHECKABLE_QUESTION = "Is 91 a prime number?"
LONG_REQUEST = "Write a long story about a dragon who learns to paint, in ten chapters."
THINKING_MODEL = "smollm2-think"


class WalkthroughFailed(Exception):
    pass


class StatusChannel:
    """The app's stderr: status events in a queue, everything else kept for the failure report."""

    def __init__(self, stream, log: Path):
        self.events: queue.Queue = queue.Queue()
        self.history: list[dict] = []
        self.other: list[str] = []
        self.log = log
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:
        with self.log.open("w", encoding="utf-8") as log:
            for line in stream:
                log.write(line)
                log.flush()
                self._take(line)
        self.events.put(None)

    def _take(self, line: str) -> None:
        if line.startswith(PREFIX):
            try:
                self.events.put(json.loads(line[len(PREFIX):]))
                return
            except json.JSONDecodeError:
                pass
        self.other.append(line.rstrip("\n"))

    def wait(self, event: str, timeout_s: float, **expected) -> dict:
        """The next ``event`` whose fields match ``expected`` (values, or predicates)."""
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WalkthroughFailed(f"no {event} event {_describe(expected)}within {timeout_s:.0f} s")
            try:
                item = self.events.get(timeout=remaining)
            except queue.Empty:
                continue
            if item is None:
                raise WalkthroughFailed(f"the app exited while waiting for {event}")
            self.history.append(item)
            if item.get("event") == event and all(
                    value(item.get(key)) if callable(value) else item.get(key) == value
                    for key, value in expected.items()):
                return item


def _describe(expected: dict) -> str:
    shown = {k: v for k, v in expected.items() if not callable(v)}
    return f"with {shown} " if shown else ""


class Screen:
    """Screenshots of the X server's screen: Qt's grab of the root window (a second X client)."""

    def __init__(self, out: Path):
        from PySide6.QtGui import QGuiApplication

        self.out = out
        self.app = QGuiApplication.instance() or QGuiApplication(["walkthrough", "-platform", "xcb"])
        self.paths: list[Path] = []

    def shot(self, name: str, rects: list[list[int]]) -> Path:
        from PySide6.QtCore import QRect

        screen = self.app.primaryScreen()
        image = screen.grabWindow(0)
        area = QRect()
        for x, y, w, h in rects:
            area = area.united(QRect(x, y, w, h))
        if not area.isEmpty():
            image = image.copy(area.intersected(QRect(0, 0, image.width(), image.height())))
        path = self.out / f"{len(self.paths) + 1:02d}-{name}.png"
        image.save(str(path))
        self.paths.append(path)
        return path


def xdotool(*args: str) -> None:
    subprocess.run(["xdotool", *args], check=True, timeout=UI_TIMEOUT_S)


def click(rect: list[int]) -> None:
    x, y, w, h = rect
    xdotool("mousemove", "--sync", str(x + w // 2), str(y + h // 2))
    xdotool("click", "1")


def type_text(text: str) -> None:
    xdotool("type", "--delay", "25", text)


def key(name: str) -> None:
    xdotool("key", name)


def x_geometry(window_id: int) -> tuple[int, int]:
    out = subprocess.run(["xdotool", "getwindowgeometry", "--shell", str(window_id)], check=True,
                         capture_output=True, text=True, timeout=UI_TIMEOUT_S).stdout
    values = dict(line.split("=", 1) for line in out.split())
    return int(values["WIDTH"]), int(values["HEIGHT"])


class Walkthrough:
    def __init__(self, command: list[str], out: Path, cwd: Path | None = None):
        self.command = command
        self.cwd = cwd
        self.out = out
        self.steps: list[tuple[str, float, Path]] = []
        self.home = Path(tempfile.mkdtemp(prefix="ponder-walkthrough-"))
        self.proc: subprocess.Popen | None = None
        self.channel: StatusChannel | None = None
        self.screen = Screen(out)
        self.ready: dict = {}
        self.windows: dict[str, list[int]] = {}  # other windows on screen, for the screenshots

    def step(self, name: str, started: float) -> None:
        rects = [self.ready["rect"], *self.windows.values()] if self.ready else []
        path = self.screen.shot(name, rects)
        seconds = time.monotonic() - started
        self.steps.append((name, seconds, path))
        print(f"walkthrough: {len(self.steps):2d}. {name:<22} OK  {seconds:5.1f} s   screenshot {path}", flush=True)

    def run(self) -> None:
        # answers of at most 256 tokens (settings.toml), so the turns take seconds, not minutes
        (self.home / "config").mkdir(parents=True)
        (self.home / "config" / "settings.toml").write_text("max_tokens = 256\n", encoding="utf-8")
        env = {**os.environ, "PONDER_HOME": str(self.home), "PONDER_STATUS_CHANNEL": "1", "QT_QPA_PLATFORM": "xcb"}
        env.pop("PYTHONPATH", None)
        self.proc = subprocess.Popen(self.command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, encoding="utf-8", errors="replace",
                                     cwd=self.cwd or self.home)
        self.channel = ch = StatusChannel(self.proc.stderr, self.out / "app-stderr.log")

        t = time.monotonic()
        self.ready = ch.wait("ready", STARTUP_TIMEOUT_S)
        size = self.ready["size"]
        x_size = x_geometry(self.ready["window_id"])
        ch.wait("model_ready", MODEL_TIMEOUT_S)
        self.step("window-and-model", t)

        t = time.monotonic()
        click(self.ready["composer"])
        type_text(FIRST_QUESTION)
        key("Return")
        ch.wait("message_added", UI_TIMEOUT_S, role="user", text=FIRST_QUESTION)
        done = ch.wait("turn_finished", TURN_TIMEOUT_S)
        if done["finish_reason"] not in ("stop", "length") or not done["answer"].strip():
            raise WalkthroughFailed(f"the first answer ended {done['finish_reason']} with {done['answer']!r}")
        self.step("first-answer", t)

        t = time.monotonic()
        type_text(CHECKABLE_QUESTION)
        hint = ch.wait("task_hint", UI_TIMEOUT_S, visible=True)
        if "reasoning model" not in hint["text"]:
            raise WalkthroughFailed(f"the task hint for {CHECKABLE_QUESTION!r} says {hint['text']!r}")
        self.step("task-hint", t)

        t = time.monotonic()
        click(self.ready["switcher"])
        popup = ch.wait("window_shown", UI_TIMEOUT_S, **{"class": "model_list"})
        self.windows["model_list"] = popup["rect"]
        self.step("model-list", t)
        t = time.monotonic()
        item = next((i for i in popup["items"] if i["id"] == THINKING_MODEL), None)
        if item is None:
            raise WalkthroughFailed(f"no {THINKING_MODEL} in the model list: {[i['id'] for i in popup['items']]}")
        click(item["rect"])
        ch.wait("window_hidden", UI_TIMEOUT_S, **{"class": "model_list"})
        self.windows.pop("model_list")
        ch.wait("model_chosen", UI_TIMEOUT_S, model=THINKING_MODEL)
        ch.wait("model_ready", MODEL_TIMEOUT_S, model=THINKING_MODEL)
        self.step("thinking-model", t)

        t = time.monotonic()
        click(self.ready["composer"])
        key("Return")  # the question typed in step 3 is still in the box
        for attempt in range(1, 4):
            ch.wait("message_added", UI_TIMEOUT_S, role="user", text=CHECKABLE_QUESTION)
            done = ch.wait("turn_finished", TURN_TIMEOUT_S, model=THINKING_MODEL)
            panels = done["panels"]
            if panels or attempt == 3:
                break
            # the demo model samples: now and then its thinking is empty and no panel shows
            print(f"walkthrough:     (attempt {attempt}: the model's thinking came out empty; asking again)")
            click(self.ready["composer"])
            type_text(CHECKABLE_QUESTION)
            key("Return")
        if not panels or panels[0]["expanded"] or not panels[0]["header"].startswith("▸ Thought for"):
            raise WalkthroughFailed(f"after thinking, expected a collapsed panel '▸ Thought for …', got {panels}")
        if not panels[0]["visible"]:
            raise WalkthroughFailed(f"the thinking panel's header is not in view: {panels[0]}")
        self.step("thought-and-answer", t)

        t = time.monotonic()
        click(panels[0]["header_rect"])
        toggled = ch.wait("panel_toggled", UI_TIMEOUT_S)["panels"][0]
        if not (toggled["expanded"] and toggled["body_visible"] and toggled["header"].startswith("▾ ")):
            raise WalkthroughFailed(f"a click on the header did not expand the panel: {toggled}")
        self.step("panel-expanded", t)
        t = time.monotonic()
        click(toggled["header_rect"])
        toggled = ch.wait("panel_toggled", UI_TIMEOUT_S)["panels"][0]
        if toggled["expanded"] or toggled["body_visible"] or not toggled["header"].startswith("▸ "):
            raise WalkthroughFailed(f"a second click on the header did not collapse the panel: {toggled}")
        self.step("panel-collapsed", t)

        t = time.monotonic()
        if not done["trace_button"]:
            raise WalkthroughFailed("the message with thinking shows no Trace button")
        click(done["trace_button"])
        viewer = ch.wait("window_shown", UI_TIMEOUT_S, **{"class": "TraceViewer"})
        self.windows["trace"] = viewer["rect"]
        self.step("trace-viewer", t)
        t = time.monotonic()
        key("Escape")
        ch.wait("window_hidden", UI_TIMEOUT_S, **{"class": "TraceViewer"})
        self.windows.pop("trace")

        for attempt in range(1, 4):
            click(self.ready["composer"])
            type_text(LONG_REQUEST)
            key("Return")
            ch.wait("message_added", UI_TIMEOUT_S, role="user", text=LONG_REQUEST)
            ch.wait("message_state", TURN_TIMEOUT_S, state="answering")
            key("Escape")
            stopped = ch.wait("turn_finished", TURN_TIMEOUT_S)
            if stopped["finish_reason"] == "cancelled":
                break
            if stopped["finish_reason"] != "stop" or attempt == 3:
                raise WalkthroughFailed(f"Esc while answering: the turn ended {stopped['finish_reason']}, "
                                        "not cancelled")
            # the model ended its story by itself before the Esc arrived (it samples): again
            print(f"walkthrough:     (attempt {attempt}: the answer ended before the Esc; asking again)")
        self.step("stopped-with-esc", t)

        resized = [e for e in ch.history if e.get("event") == "window_resized"]
        if resized or x_geometry(self.ready["window_id"]) != x_size:
            raise WalkthroughFailed(f"the window changed size: {size} -> {resized or x_geometry(self.ready['window_id'])}")

        t = time.monotonic()
        key("ctrl+q")
        try:
            code = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            raise WalkthroughFailed("the app did not quit within 60 s of Ctrl+Q") from None
        if code != 0:
            raise WalkthroughFailed(f"the app exited {code} after Ctrl+Q")
        self.steps.append(("quit", time.monotonic() - t, Path()))
        print(f"walkthrough: {len(self.steps):2d}. {'quit-with-ctrl-q':<22} OK  {self.steps[-1][1]:5.1f} s",
              flush=True)

    def report_failure(self, error: Exception) -> None:
        print(f"walkthrough FAILED at step {len(self.steps) + 1}: {error}", file=sys.stderr)
        try:
            print(f"  screenshot of the failure: {self.screen.shot('failed', [])}", file=sys.stderr)
        except Exception as exc:  # the report must not hide the failure itself
            print(f"  (no screenshot: {exc})", file=sys.stderr)
        if self.channel:
            print("  last events:", *[json.dumps(e, ensure_ascii=False)[:300] for e in self.channel.history[-12:]],
                  sep="\n    ", file=sys.stderr)
            print("  app's last stderr lines:", *self.channel.other[-40:], sep="\n    ", file=sys.stderr)

    def close(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        if self.channel:
            with (self.out / "events.jsonl").open("w", encoding="utf-8") as f:
                f.writelines(json.dumps(e, ensure_ascii=False) + "\n" for e in self.channel.history)
        shutil.rmtree(self.home, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("app", nargs="?", default="dist/ponder/ponder", help="the packaged app (default: %(default)s)")
    parser.add_argument("--source", action="store_true", help="drive the source tree's app (python -m app)")
    parser.add_argument("--out", default="build/walkthrough", help="folder for the screenshots (default: %(default)s)")
    args = parser.parse_args(argv)
    if not os.environ.get("DISPLAY"):
        print("walkthrough: no DISPLAY; run it under packaging/xvfb.sh (make walkthrough)", file=sys.stderr)
        return 2
    if shutil.which("xdotool") is None:
        print("walkthrough: xdotool is not installed (apt-get install xdotool)", file=sys.stderr)
        return 2
    cwd = None
    if args.source:
        command, cwd = [sys.executable, "-m", "app"], ROOT
    else:
        app = Path(args.app).resolve()
        if not os.access(app, os.X_OK):
            print(f"walkthrough: no app at {app}; run 'make package' first (or pass --source)", file=sys.stderr)
            return 2
        command = [str(app)]
    out = Path(args.out).resolve()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    print(f"walkthrough of {' '.join(command)} on display {os.environ['DISPLAY']}; screenshots in {out}", flush=True)
    started = time.monotonic()
    walk = Walkthrough(command, out, cwd)
    try:
        walk.run()
    except (WalkthroughFailed, subprocess.SubprocessError, OSError, KeyError) as error:
        walk.report_failure(error)
        return 1
    finally:
        walk.close()
    print(f"walkthrough passed in {time.monotonic() - started:.1f} s: {len(walk.steps)} steps, "
          f"{len(walk.screen.paths)} screenshots in {out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
