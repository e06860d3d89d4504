"""Catalog downloads against a fake hub on 127.0.0.1 (HF_ENDPOINT): complete and verified,
resumed after a dropped connection and after a killed process (the ranged request is
asserted), a corrupted byte refused, gated repos, offline mode, the models.toml entry."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import pytest

os.environ.setdefault("HF_HOME", tempfile.mkdtemp(prefix="ponder-hf-home-"))  # never the user's token

from helpers.fake_hub import COMMIT, TINY_FILE, TINY_REPO, FakeHub, HostedFile, catalog_text, serving  # noqa: E402

from app import paths  # noqa: E402
from app.backends import hub_download  # noqa: E402
from app.backends.catalog_pull import pull  # noqa: E402
from app.backends.hub_download import ChecksumError, GatedModelError, NoConnectionError  # noqa: E402
from app.domain.catalog import parse_catalog  # noqa: E402
from app.domain.config import ensure_models_file, load_models  # noqa: E402
from app.domain.discovery import DiscoveryRoots, discover_gguf  # noqa: E402

REPO, FILE = TINY_REPO, TINY_FILE


@pytest.fixture(scope="module")
def hosted() -> HostedFile:
    return HostedFile(paths.bundled_model_path())


@pytest.fixture
def hub(hosted, monkeypatch, tmp_path):
    with serving(hosted, monkeypatch, tmp_path / "hf-cache") as server:
        yield server


def entry_and_quant(hosted: HostedFile, **kw):
    catalog = parse_catalog(catalog_text(REPO, FILE, hosted.size, **kw))
    return catalog.lookup("tiny")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_download_completes_verifies_links_into_the_cache_and_adds_the_entry(hub, hosted, tmp_path):
    entry, quant = entry_and_quant(hosted)
    seen = []
    result = pull(entry, quant, progress=seen.append)
    cache = tmp_path / "hf-cache" / "models--ponder-test--tiny-GGUF"
    assert result.downloaded.path == cache / "snapshots" / COMMIT / FILE
    assert result.downloaded.path.is_symlink() and result.downloaded.path.resolve() == cache / "blobs" / hosted.sha256
    assert sha256(result.downloaded.path) == hosted.sha256
    assert (cache / "refs" / "main").read_text() == COMMIT
    assert not list(cache.glob("blobs/*partial*")) and not list(cache.glob("blobs/*.incomplete"))
    found = discover_gguf(DiscoveryRoots(huggingface=(tmp_path / "hf-cache",)))
    assert [f.name for f in found] == [f"{REPO}/{FILE[:-5]}"]
    methods = [(m, r) for m, _, r in hub.state.requests]
    assert methods[:2] == [("HEAD", None), ("GET", None)] and hub.state.ranges() == [None]
    downloading = [p for p in seen if p.phase == "downloading"]
    assert downloading[-1].done == downloading[-1].total == hosted.size
    assert any(p.phase == "verifying" for p in seen)

    assert result.added
    profile = load_models(ensure_models_file()).get(result.profile.id)
    assert profile.id == "tiny-q4_1" and profile.role == "reasoning" and profile.backend == "llama"
    assert Path(profile.path) == result.downloaded.path
    assert profile.n_ctx == 8192  # 2 × 1,000 + answer + history, at least 8,192, at most the training context
    assert (profile.reasoning.start, profile.reasoning.end, profile.reasoning.carry) == ("<think>", "</think>", "strip")
    assert profile.chat_template is None  # the file has its own template
    raw = tomllib.loads(ensure_models_file().read_text())
    assert raw["model"][-1]["id"] == "tiny-q4_1" and "Ponder's models." in ensure_models_file().read_text()

    again = pull(entry, quant)  # already there: no second download, no second entry
    assert not again.added and again.profile.id == "tiny-q4_1" and hub.state.gets == 1


def test_a_dropped_connection_resumes_with_a_ranged_request(hub, hosted, tmp_path):
    hub.state.drop_after = 5 << 20
    entry, quant = entry_and_quant(hosted)
    result = pull(entry, quant, local_dir=tmp_path / "models")
    assert result.downloaded.path == tmp_path / "models" / FILE
    assert sha256(result.downloaded.path) == hosted.sha256
    first, second = hub.state.ranges()
    assert first is None and second.startswith("bytes=") and second.endswith("-")
    assert 0 < int(second[6:-1]) <= 5 << 20
    assert not (tmp_path / "models" / (FILE + ".partial")).exists()


def _pull_env(hub: FakeHub, tmp_path: Path, catalog: Path, home: Path) -> dict:
    return {**os.environ, "PONDER_HOME": str(home), "PONDER_CATALOG": str(catalog), "HF_ENDPOINT": hub.url,
            "HF_HUB_CACHE": str(tmp_path / "hf-cache"), "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}


def test_a_killed_pull_resumes_from_where_it_stopped(hub, hosted, tmp_path, ponder_home):
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(catalog_text(REPO, FILE, hosted.size))
    env = _pull_env(hub, tmp_path, catalog, ponder_home)
    hub.state.chunk, hub.state.delay = 256 << 10, 0.02  # about 12 MB/s: the kill lands mid-way
    partial = tmp_path / "hf-cache" / "models--ponder-test--tiny-GGUF" / "blobs" / (hosted.sha256 + ".ponder-partial")
    log = tmp_path / "first.log"
    with log.open("w") as out:  # a file, not a pipe: the progress bar must never block on a full pipe
        first = subprocess.Popen([sys.executable, "-m", "app", "pull", "tiny"], env=env, stdout=out, stderr=out)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not partial.exists() or partial.stat().st_size < 8 << 20):
            assert first.poll() is None, log.read_text()
            time.sleep(0.05)
        first.kill()  # SIGKILL: no cleanup code runs
        first.wait(30)
    kept = partial.stat().st_size
    assert 8 << 20 <= kept < hosted.size

    hub.state.delay = 0.0
    second = subprocess.run([sys.executable, "-m", "app", "pull", "tiny"], env=env, capture_output=True,
                            text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    assert hub.state.ranges()[-1] == f"bytes={kept}-"
    snapshot = tmp_path / "hf-cache" / "models--ponder-test--tiny-GGUF" / "snapshots" / COMMIT / FILE
    assert sha256(snapshot) == hosted.sha256 and not partial.exists()
    assert "B/s" in second.stderr  # the progress bar shows the speed
    assert "added to models.toml as “tiny-q4_1”" in second.stdout


def test_a_corrupted_byte_fails_verification_and_is_deleted(hub, hosted, tmp_path):
    hub.state.corrupt_at = 123_456
    entry, quant = entry_and_quant(hosted)
    models_before = ensure_models_file().read_text()
    with pytest.raises(ChecksumError) as failure:
        pull(entry, quant)
    message = str(failure.value)
    assert "is damaged" in message and "hub's checksum" in message and "deleted" in message
    assert hosted.sha256[:16] in message
    blobs = tmp_path / "hf-cache" / "models--ponder-test--tiny-GGUF" / "blobs"
    assert list(blobs.iterdir()) == []
    assert ensure_models_file().read_text() == models_before


def test_a_gated_repo_explains_the_license_and_the_token(hub, hosted):
    hub.state.gated.add(REPO)
    entry, quant = entry_and_quant(hosted, gated=True)
    with pytest.raises(GatedModelError) as failure:
        pull(entry, quant)
    message = str(failure.value)
    assert f"https://huggingface.co/{REPO}" in message and "accept its license" in message
    assert "token" in message and "keyring" in message and "HF_TOKEN" in message
    result = pull(entry, quant, token=hub.state.token)
    assert sha256(result.downloaded.path) == hosted.sha256


def test_offline_mode_says_so_and_sends_nothing(hub, hosted, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    entry, quant = entry_and_quant(hosted)
    with pytest.raises(NoConnectionError, match="Offline mode is on"):
        pull(entry, quant)
    assert hub.state.requests == []


def test_no_connection_says_so(hosted, monkeypatch, tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hub_download, "hub_token", lambda: None)
    entry, quant = entry_and_quant(hosted)
    with pytest.raises(NoConnectionError, match="There is no connection to the Hugging Face hub"):
        pull(entry, quant)


def test_the_catalog_shows_offline(ponder_home, tmp_path):
    env = {**os.environ, "PONDER_HOME": str(ponder_home), "HF_HUB_OFFLINE": "1",
           "HF_ENDPOINT": "http://127.0.0.1:9"}
    shown = subprocess.run([sys.executable, "-m", "app", "models", "--catalog", "--ram", "32"], env=env,
                           capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert "qwq-32b" in shown.stdout and "tight" in shown.stdout
    pulled = subprocess.run([sys.executable, "-m", "app", "pull", "qwq-32b"], env=env, capture_output=True,
                            text=True, timeout=120)
    assert pulled.returncode == 2 and "Offline mode is on" in pulled.stderr
