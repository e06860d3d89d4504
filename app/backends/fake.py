"""A scripted backend for tests, benchmarks and demos.

It plays a list of token texts through the real reasoning parser and token counting, at
a chosen pace, and honours Stop like the local backend does (checked per token).
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Iterable, Iterator

from app.domain import events as ev
from app.domain.profiles import ModelProfile
from app.domain.reasoning.markers import MarkerSpec
from app.domain.reasoning.parser import make_parser
from app.domain.token_stream import TokenStream
from app.domain.turn_request import TurnRequest


class FakeBackend:
    """Plays ``script`` (token texts) as one turn; ``delay_s`` between tokens."""

    def __init__(self, profile: ModelProfile, script: Iterable[str] = (), *, spec: MarkerSpec | None = None,
                 forced_open: bool = False, delay_s: float = 0.0, prompt_tokens: int = 10, n_ctx: int = 8192,
                 load_s: float = 0.0, clock: Callable[[], float] = time.monotonic):
        self.profile = profile
        self.script = list(script)
        self.spec = spec
        self.forced_open = forced_open
        self.delay_s = delay_s
        self.prompt_tokens = prompt_tokens
        self.n_ctx = n_ctx
        self.load_s = load_s
        self.clock = clock
        self.loaded = False
        self.requests: list[TurnRequest] = []

    def load(self, progress=None) -> None:
        if self.load_s:
            time.sleep(self.load_s)
        self.loaded = True

    def close(self) -> None:
        self.loaded = False

    def stream(self, request: TurnRequest, stop: threading.Event,
               answer_now: threading.Event | None = None) -> Iterator[ev.TurnEvent]:
        self.requests.append(request)
        tokens = TokenStream(make_parser(self.spec, forced_open=self.forced_open), self.clock)
        yield ev.TurnStarted(self.clock(), self.profile.id, self.prompt_tokens, self.n_ctx)
        finish = "stop"
        next_at = time.perf_counter()
        for i, text in enumerate(self.script):
            if i >= request.max_tokens:
                finish = "length"
                break
            if self.delay_s:
                next_at += self.delay_s
                pause = next_at - time.perf_counter()
                if pause > 0:
                    stop.wait(pause)
            if stop.is_set():
                finish = "cancelled"
                break
            yield from tokens.token(text)
        yield from tokens.finish()
        yield ev.TurnFinished(self.clock(), finish)
