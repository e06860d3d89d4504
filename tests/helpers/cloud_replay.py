"""A replay server on 127.0.0.1 that plays the cloud providers' documented event streams (odd
chunking, faults), an isolated in-memory keyring, helpers to build profiles and run model
calls, and a qasync loop: fixtures that the conftests of cloud tests import.

The server speaks HTTP/1.1 with chunked bodies, so a connection dropped mid-stream looks to
the client exactly like a real one (an incomplete chunked body). Hostile servers for the
call's time limits: :func:`keepalives_forever` (``: ping`` lines or heartbeat events after
some text, never an end), :func:`endless_error` (an error body that never ends),
``Reply(silent=True)`` (accepts the request, never answers) and :func:`redirect`; each
records in ``closed_at`` when the client closed the connection.
"""

from __future__ import annotations

import asyncio
import json
import select
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import keyring
import keyring.backend
import pytest

from app.domain.messages import AssistantMessage
from app.domain.profiles import ModelProfile, ReasoningSettings
from app.domain.turn_request import TurnRequest

KEY = "sk-test-PONDERSECRET-0123456789abcdef"
ENV = "PONDER_TEST_CLOUD_KEY"


# -- the replay server ---------------------------------------------------------------------


@dataclass
class Reply:
    """One scripted response. ``pieces``: bytes written as separate chunks (flushed), or a
    float to sleep. ``drop``: close the socket without ending the body. ``stream_forever``:
    keep sending ``tick`` every ``interval`` s until the client closes (records the time).
    ``silent``: read the request, then send nothing until the client closes (records the time)."""

    status: int = 200
    pieces: list[bytes | float] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/event-stream"
    drop: bool = False
    delay: float = 0.0  # before the status line
    stream_forever: bool = False
    tick: bytes = b""
    interval: float = 0.01
    silent: bool = False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "ReplayServer"

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        self.server.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                     "json": body})
        reply = self.server.next_reply(self.path)
        if reply.silent:
            self._wait_for_close()
            return
        if reply.delay:
            time.sleep(reply.delay)
        self.send_response(reply.status)
        self.send_header("content-type", reply.content_type)
        for k, v in reply.headers.items():
            self.send_header(k, v)
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        try:
            for piece in reply.pieces:
                if isinstance(piece, float):
                    time.sleep(piece)
                else:
                    self._chunk(piece)
            if reply.stream_forever:
                self._forever(reply)
                return
            if reply.drop:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.server.closed_at.append(time.monotonic())
            self.close_connection = True

    def _chunk(self, data: bytes) -> None:
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

    def _forever(self, reply: Reply) -> None:
        """Send ticks until the client closes; the close is seen by select() at once."""
        self.server.streaming.set()
        while True:
            self._chunk(reply.tick)
            if self._closed_within(reply.interval):
                return

    def _wait_for_close(self) -> None:
        while not self._closed_within(0.05):
            pass

    def _closed_within(self, seconds: float) -> bool:
        """True (and the time recorded) once the client has closed the connection."""
        sock = self.connection
        readable, _, _ = select.select([sock], [], [], seconds)
        if not readable:
            return False
        try:
            data = sock.recv(1, socket.MSG_PEEK)
        except OSError:
            data = b""
        if data:
            return False  # (a client sends nothing more on this connection; not expected)
        self.server.closed_at.append(time.monotonic())
        self.close_connection = True
        return True


class ReplayServer(ThreadingHTTPServer):
    """Serves scripted replies per path (the last reply of a path repeats)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.scripts: dict[str, list[Reply]] = {}
        self.requests: list[dict[str, Any]] = []
        self.closed_at: list[float] = []
        self.errors: list[BaseException | None] = []
        self.streaming = threading.Event()
        self.lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (cancelled, timed out) is expected here: record, don't print."""
        import sys

        self.errors.append(sys.exc_info()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"

    def script(self, path: str, *replies: Reply) -> None:
        """Reply to POSTs whose path starts with ``path`` with these, in order."""
        self.scripts[path] = list(replies)

    def next_reply(self, path: str) -> Reply:
        with self.lock:
            for prefix, replies in self.scripts.items():
                if path.startswith(prefix):
                    return replies.pop(0) if len(replies) > 1 else replies[0]
        return Reply(status=404, content_type="application/json",
                     pieces=[b'{"error": {"message": "no script for this path"}}'])


# -- hostile servers ---------------------------------------------------------------------


def keepalives_forever(first: bytes = b"", tick: bytes = b": ping\n\n", interval: float = 0.02) -> Reply:
    """An event stream that sends ``first``, then ``tick`` (a keep-alive comment, or an empty or
    heartbeat event) every ``interval`` s and never ends."""
    return Reply(pieces=[first] if first else [], stream_forever=True, tick=tick, interval=interval)


def endless_error(status: int = 500, head: bytes = b'{"error": {"message": "overloaded', tick: bytes = b" ",
                  interval: float = 0.005) -> Reply:
    """An error reply whose JSON body starts with ``head`` and never ends (``tick`` after ``tick``)."""
    return Reply(status=status, content_type="application/json", pieces=[head], stream_forever=True,
                 tick=tick, interval=interval)


def redirect(location: str, status: int = 307) -> Reply:
    """A redirect to ``location`` (with a small body, as real servers send)."""
    return Reply(status=status, content_type="text/html", headers={"location": location},
                 pieces=[b"<a href='elsewhere'>moved</a>"])


# -- SSE text ------------------------------------------------------------------------------


def sse(data: Any, event: str | None = None) -> bytes:
    """One SSE event (``data`` as JSON unless it is already a string)."""
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {text}\n\n".encode()


def odd_pieces(blob: bytes, sizes: tuple[int, ...] = (1, 5, 2, 11, 3, 17, 7), pause: float = 0.001) -> list:
    """``blob`` cut at odd places (inside event lines, JSON and UTF-8 characters), with pauses
    so the pieces travel in separate TCP writes."""
    out: list[bytes | float] = []
    i = k = 0
    while i < len(blob):
        n = sizes[k % len(sizes)]
        out += [blob[i:i + n], pause]
        i += n
        k += 1
    return out


# -- keyring -------------------------------------------------------------------------------


class MemoryKeyring(keyring.backend.KeyringBackend):
    """An isolated in-memory keyring (never the real one)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.store.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("no such password")


@pytest.fixture(autouse=True)
def memory_keyring():
    """Every cloud test runs against a fresh in-memory keyring."""
    previous = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(previous)


# -- turns ---------------------------------------------------------------------------------


@dataclass
class Turn:
    """The events of one turn and the message they build."""

    events: list
    message: AssistantMessage
    seconds: float

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]


class Cloud:
    """Helpers bound to one replay server."""

    KEY = KEY
    ENV = ENV
    Reply = Reply
    sse = staticmethod(sse)
    odd = staticmethod(odd_pieces)
    keepalives_forever = staticmethod(keepalives_forever)
    endless_error = staticmethod(endless_error)
    redirect = staticmethod(redirect)

    def __init__(self, server: ReplayServer) -> None:
        self.server = server

    def profile(self, backend: str = "openai", *, path: str = "/v1", model: str = "test-model",
                budget: int | None = None, **changes: Any) -> ModelProfile:
        fields: dict[str, Any] = dict(id=f"test-{backend}", label=f"Test {backend}", role="cloud", backend=backend,
                                      base_url=self.server.url + path, model=model, api_key_env=ENV,
                                      context_window=32768)
        if budget is not None:
            fields["reasoning"] = ReasoningSettings(budget=budget)
        fields.update(changes)
        return ModelProfile(**fields)

    @staticmethod
    def request(text: str = "What is 2 + 2?", **changes: Any) -> TurnRequest:
        fields: dict[str, Any] = {"messages": ({"role": "user", "content": text},), "max_tokens": 64, **changes}
        return TurnRequest(**fields)

    def run(self, profile: ModelProfile, request: TurnRequest | None = None, **options: Any) -> Turn:
        """Run one turn to the end on a fresh asyncio loop."""
        from app.backends.registry import create_cloud_backend

        backend = create_cloud_backend(profile, **options)

        async def collect() -> list:
            return [e async for e in backend.stream(request or self.request())]

        t0 = time.monotonic()
        events = asyncio.run(collect())
        seconds = time.monotonic() - t0
        message = AssistantMessage()
        for event in events:
            message.apply(event)
        return Turn(events, message, seconds)


@pytest.fixture
def server():
    srv = ReplayServer()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def cloud(server, monkeypatch) -> Cloud:
    """Helpers for one replay server; the test key is in the profile's env variable."""
    monkeypatch.setenv(ENV, KEY)
    return Cloud(server)


@pytest.fixture
def qloop(qapp):
    """A qasync event loop on the test's QApplication (cloud turns are asyncio tasks)."""
    import sys

    import qasync

    hooks = sys.get_asyncgen_hooks()
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    yield loop
    asyncio.set_event_loop(None)
    loop.close()
    sys.set_asyncgen_hooks(*hooks)


def run_until(loop, predicate, timeout: float = 10.0) -> None:
    """Run ``loop`` (a qasync loop) until ``predicate()`` holds; fails after ``timeout`` seconds."""
    async def wait() -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, "timed out"
            await asyncio.sleep(0.002)

    loop.run_until_complete(wait())
