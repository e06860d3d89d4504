"""A fake Hugging Face hub on 127.0.0.1 that speaks what ``huggingface_hub`` asks for a file.

``HEAD`` and ``GET`` of ``/{owner}/{name}/resolve/{revision}/{path}`` answer with
``X-Repo-Commit``, ``ETag`` (the sha256 of the content, as the hub gives for LFS files),
``Content-Length`` and ``Accept-Ranges``; a ``GET`` with ``Range: bytes=N-`` answers 206 with
``Content-Range``. A gated repo answers 401 with ``X-Error-Code: GatedRepo`` unless a token
is sent; an unknown file answers 404 with ``X-Error-Code: EntryNotFound``.

Knobs for the tests: ``chunk``/``delay`` throttle the body, ``drop_after`` closes the first
GET's connection after that many bytes, ``corrupt_at`` serves one byte changed (the ETag
stays the real checksum). Every request is recorded in ``requests`` as (method, path, Range).
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

COMMIT = "0123456789abcdef0123456789abcdef01234567"
TINY_REPO, TINY_FILE = "ponder-test/tiny-GGUF", "tiny-Q4_1.gguf"  # what the download tests host


@dataclass
class HostedFile:
    """A file the fake hub serves, read from ``source`` on disk."""

    source: Path
    sha256: str = ""
    size: int = 0

    def __post_init__(self) -> None:
        self.size = self.source.stat().st_size
        digest = hashlib.sha256()
        with self.source.open("rb") as fh:
            while block := fh.read(8 << 20):
                digest.update(block)
        self.sha256 = digest.hexdigest()


@dataclass
class HubState:
    """What the server serves and what it saw."""

    files: dict[tuple[str, str], HostedFile] = field(default_factory=dict)
    gated: set[str] = field(default_factory=set)
    token: str = "hf_test_token"
    chunk: int = 1 << 20
    delay: float = 0.0
    drop_after: int | None = None
    corrupt_at: int | None = None
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    gets: int = 0

    def ranges(self) -> list[str]:
        """The Range headers of the GETs, in order (None for a GET without one)."""
        return [r for m, _, r in self.requests if m == "GET"]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "FakeHub"

    def log_message(self, *_: object) -> None:  # quiet
        pass

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def do_GET(self) -> None:
        self._serve(body=True)

    def _fail(self, status: int, code: str, message: str) -> None:
        self.send_response(status)
        self.send_header("X-Error-Code", code)
        self.send_header("X-Error-Message", message)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _serve(self, body: bool) -> None:
        state = self.server.state
        state.requests.append((self.command, self.path, self.headers.get("Range")))
        parts = self.path.split("?")[0].lstrip("/").split("/")
        if len(parts) < 5 or parts[2] != "resolve":
            self._fail(404, "RepoNotFound", "Repository not found")
            return
        repo, filename = "/".join(parts[:2]), "/".join(parts[4:])
        if repo in state.gated and self.headers.get("Authorization") != f"Bearer {state.token}":
            self._fail(401, "GatedRepo", "Access to model is restricted. You must have access to it.")
            return
        hosted = state.files.get((repo, filename))
        if hosted is None:
            self._fail(404, "EntryNotFound", "Entry not found")
            return
        start = 0
        wanted = self.headers.get("Range")
        if wanted and wanted.startswith("bytes=") and body:
            start = int(wanted[6:].split("-")[0])
        self.send_response(206 if start else 200)
        self.send_header("X-Repo-Commit", COMMIT)
        self.send_header("ETag", f'"{hosted.sha256}"')
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(hosted.size - start))
        if start:
            self.send_header("Content-Range", f"bytes {start}-{hosted.size - 1}/{hosted.size}")
        self.end_headers()
        if not body:
            return
        state.gets += 1
        drop = state.drop_after if state.gets == 1 else None
        sent = 0
        with hosted.source.open("rb") as fh:
            fh.seek(start)
            position = start
            while block := fh.read(state.chunk):
                if state.corrupt_at is not None and position <= state.corrupt_at < position + len(block):
                    i = state.corrupt_at - position
                    block = block[:i] + bytes([block[i] ^ 0xFF]) + block[i + 1:]
                if drop is not None and sent + len(block) > drop:
                    self.wfile.write(block[:drop - sent])
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                try:
                    self.wfile.write(block)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    return
                sent += len(block)
                position += len(block)
                if state.delay:
                    time.sleep(state.delay)


class FakeHub(ThreadingHTTPServer):
    """The server; ``url`` is what HF_ENDPOINT takes."""

    daemon_threads = True

    def __init__(self, state: HubState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> "FakeHub":
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.shutdown()
        self.server_close()


def catalog_text(repo: str, filename: str, size: int, *, entry_id: str = "tiny", gated: bool = False,
                 role: str = "reasoning") -> str:
    """A one-entry catalog for the served file (the bundled SmolLM2 figures: llama, 30 layers,
    9 heads, 3 KV heads, head size 64, 49,152 tokens, 8,192 of training context)."""
    reasoning = 'reasoning = "think"\ntrace = [200, 1000]' if role == "reasoning" else 'reasoning = "none"'
    return f'''
[[model]]
id = "{entry_id}"
name = "Tiny test model"
role = "{role}"
repo = "{repo}"
gated = {"true" if gated else "false"}
license = "Apache-2.0"
good_for = "Tests."
architecture = "llama"
layers = 30
heads = 9
kv_heads = 3
head_dim = 64
vocab = 49152
context = 8192
{reasoning}

[[model.quant]]
quant = "Q4_1"
files = [{{ name = "{filename}", size = {size} }}]
'''


@contextmanager
def serving(hosted: HostedFile, monkeypatch, cache: Path):
    """A FakeHub hosting ``hosted`` as TINY_REPO/TINY_FILE, and huggingface_hub pointed at it:
    HF_ENDPOINT, a fresh cache folder, not offline, no token."""
    from app.backends import hub_download

    state = HubState(files={(TINY_REPO, TINY_FILE): hosted})
    with FakeHub(state) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        monkeypatch.setenv("HF_HUB_CACHE", str(cache))
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.setattr(hub_download, "hub_token", lambda: None)
        yield server
