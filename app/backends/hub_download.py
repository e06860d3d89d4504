"""Downloading a catalog model from the Hugging Face hub with ``huggingface_hub``.

What the library does here: the file's metadata (``get_hf_file_metadata``: a HEAD of
``/{repo}/resolve/{revision}/{file}`` giving the commit, the ETag — the sha256 for LFS
files — and the size), the transfer (``http_get``: a GET, with ``Range: bytes=N-`` from a
resume point, retrying a dropped connection from where it stopped), the token and user
agent (``build_hf_headers``), the hub's errors (gated, not found, offline) and the cache
layout: once the blob is in place, ``hf_hub_download`` links it into
``models--org--name/snapshots/<commit>/`` and records the ref, so other tools (and Ponder's
own discovery) find it.

What Ponder adds: a partial file that survives a cancel, a crash or a lost connection.
``hf_hub_download`` itself writes to a temporary file with a unique name that it deletes on
failure (huggingface_hub issue #4196, "No resuming of downloads"), so Ponder keeps its own
``<blob>.ponder-partial`` (or ``<file>.partial`` in a chosen folder), resumes it with
``http_get(resume_size=...)``, and checks the finished file's sha256 against the hub's
checksum before it is moved into place; a mismatch deletes it and says so.

Cancel is a ``threading.Event``, checked whenever a chunk arrives (chunks are 1 MiB).
Nothing here touches Qt; :mod:`app.controllers.download_queue` runs it on a thread.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from app.domain.catalog import CatalogEntry, CatalogQuant
from app.domain.discovery import DiscoveryRoots
from app.domain.transfer import Progress, TransferRate
from app.errors import PonderError

TOKEN_NAME = "huggingface.co"  # the keyring entry (service "Ponder") that holds a hub token
CHUNK_BYTES = 1 << 20
HASH_BLOCK = 8 << 20
_SHA256 = re.compile(r"[0-9a-f]{64}")
ProgressCallback = Callable[[Progress], None]


class DownloadError(PonderError):
    """A download failed; the message says why and what to do."""


class NoConnectionError(DownloadError):
    """The hub cannot be reached (offline mode, no network, or the connection dropped)."""


class GatedModelError(DownloadError):
    """The repository asks for a license to be accepted (and a token) first."""


class ChecksumError(DownloadError):
    """The downloaded file does not match the hub's checksum."""


class DownloadCancelled(DownloadError):
    """The user cancelled; the partial file is kept for a resume."""


@dataclass(frozen=True)
class Downloaded:
    """Where a quantization landed: the file to load (the first part) and every part."""

    path: Path
    parts: tuple[Path, ...]


def hub_token() -> str | None:
    """A token from the keyring (Ponder's, entry "huggingface.co"); None lets the library use
    ``HF_TOKEN`` or the token of ``hf auth login``."""
    from app.backends.cloud.keys import stored_key

    return stored_key(TOKEN_NAME)


def hub_cache_dir() -> Path:
    """The Hugging Face cache, found the way discovery finds it ($HF_HUB_CACHE, $HF_HOME/hub, ...)."""
    return DiscoveryRoots.default().huggingface[0]


def offline() -> bool:
    """True when offline mode is on (``HF_HUB_OFFLINE``, read now rather than at import)."""
    from huggingface_hub import constants

    value = os.environ.get("HF_HUB_OFFLINE", "").strip().lower()
    return value in ("1", "true", "yes", "on") or constants.is_offline_mode()


def _version() -> str:
    from app.version import __version__

    return __version__


def _endpoint() -> str | None:
    value = os.environ.get("HF_ENDPOINT", "").strip().rstrip("/")
    return value or None


def _bar_class(report: Callable[[int, int | None], None], cancel: threading.Event) -> type:
    """A tqdm stand-in for ``http_get``: it reports progress and raises on cancel."""

    class _Bar:
        def __init__(self, *, total: int | None = None, initial: int = 0, **_: object) -> None:
            self.n, self.total = initial, total
            report(self.n, total)

        def update(self, n: int = 1) -> None:
            if cancel.is_set():
                raise DownloadCancelled("The download was cancelled; what arrived so far is kept, "
                                        "so downloading again resumes from there.")
            self.n += n
            report(self.n, self.total)

        def close(self) -> None:
            """Nothing to close."""

        def __enter__(self) -> "_Bar":
            return self

        def __exit__(self, *_: object) -> bool:
            return False

    return _Bar


def sha256_of(path: Path, cancel: threading.Event, report: Callable[[int], None]) -> str:
    """The file's sha256 (hex), reporting bytes hashed; raises DownloadCancelled on cancel."""
    digest = hashlib.sha256()
    done = 0
    with path.open("rb") as fh:
        while block := fh.read(HASH_BLOCK):
            if cancel.is_set():
                raise DownloadCancelled("The check of the downloaded file was cancelled; the file is "
                                        "kept and is checked again next time.")
            digest.update(block)
            done += len(block)
            report(done)
    return digest.hexdigest()


def _friendly(exc: Exception, repo: str, filename: str) -> DownloadError:
    """The hub's errors as sentences a user can act on."""
    import httpx2
    from huggingface_hub import errors

    if isinstance(exc, errors.GatedRepoError):
        return GatedModelError(
            f"{repo} is gated: accept its license on https://huggingface.co/{repo} (log in, then "
            "“Agree and access repository”), create a read token at https://huggingface.co/settings/tokens "
            "and paste it under “Hugging Face token” in the Get models tab (it is kept in the system "
            "keyring), or set HF_TOKEN. Then download again.")
    if isinstance(exc, errors.RepositoryNotFoundError):
        return DownloadError(f"The hub has no repository {repo} (or it is private and no token with access "
                             "was given). Check the catalog entry, or add a token in the Get models tab.")
    if isinstance(exc, (errors.RemoteEntryNotFoundError, errors.EntryNotFoundError)):
        return DownloadError(f"{repo} has no file {filename} (it may have been renamed); the catalog entry "
                             "needs updating.")
    if isinstance(exc, errors.OfflineModeIsEnabled):
        return NoConnectionError("Offline mode is on (HF_HUB_OFFLINE), so nothing can be downloaded. "
                                 "The catalog still works; unset HF_HUB_OFFLINE to download.")
    if isinstance(exc, (httpx2.ConnectError, httpx2.TimeoutException, httpx2.RemoteProtocolError,
                        httpx2.NetworkError)):
        return NoConnectionError(f"There is no connection to the Hugging Face hub ({type(exc).__name__}). "
                                 "Check the network and download again; a partial download resumes.")
    if isinstance(exc, errors.HfHubHTTPError):
        status = exc.response.status_code if exc.response is not None else "an error"
        return DownloadError(f"The hub answered {status} for {repo}/{filename}; try again later.")
    return DownloadError(f"Downloading {repo}/{filename} failed ({type(exc).__name__}: {exc}).")


class _Reporter:
    """Turns (bytes done, total) into throttled :class:`Progress` reports with speed and ETA."""

    def __init__(self, callback: ProgressCallback | None, file: str, part: int, parts: int,
                 clock: Callable[[], float]) -> None:
        self.callback, self.file, self.part, self.parts, self.clock = callback, file, part, parts, clock
        self.rate: TransferRate | None = None
        self.last = 0.0

    def download(self, done: int, total: int | None) -> None:
        now = self.clock()
        if self.rate is None:
            self.rate = TransferRate(now, done)
        speed = self.rate.update(now, done)
        if self.callback and (now - self.last >= 0.1 or (total and done >= total)):
            self.last = now
            self.callback(Progress(self.file, done, total, speed, self.rate.eta(done, total), "downloading",
                                   self.part, self.parts))

    def verify(self, done: int, total: int) -> None:
        if self.callback:
            self.callback(Progress(self.file, done, total, 0.0, None, "verifying", self.part, self.parts))


def _download_file(repo: str, filename: str, *, local_dir: Path | None, cache_dir: Path, token: str | None,
                   cancel: threading.Event, reporter: _Reporter) -> Path:
    from filelock import FileLock, Timeout
    from huggingface_hub import constants, get_hf_file_metadata, hf_hub_download, hf_hub_url
    from huggingface_hub.file_download import http_get, repo_folder_name
    from huggingface_hub.utils import build_hf_headers

    constants.DOWNLOAD_CHUNK_SIZE = CHUNK_BYTES  # read per call by http_get: Cancel is seen every MiB
    # no telemetry: the user agent would otherwise carry a detected "agent" (and the library
    # fetches its registry of agent harnesses from the hub once a day)
    constants.HF_HUB_DISABLE_TELEMETRY = True
    if offline():
        raise NoConnectionError("Offline mode is on (HF_HUB_OFFLINE), so nothing can be downloaded. "
                                "The catalog still works; unset HF_HUB_OFFLINE to download.")
    endpoint = _endpoint()
    url = hf_hub_url(repo, filename, endpoint=endpoint)
    try:
        meta = get_hf_file_metadata(url, token=token, endpoint=endpoint, library_name="ponder",
                                    library_version=_version())
    except Exception as exc:  # every hub/network error becomes a sentence (see _friendly)
        raise _friendly(exc, repo, filename) from exc
    if not meta.etag or not meta.commit_hash:
        raise DownloadError(f"The hub's answer for {repo}/{filename} has no checksum or commit; "
                            "it may not be a Hugging Face hub (check HF_ENDPOINT).")
    expected = meta.etag.lower() if _SHA256.fullmatch(meta.etag.lower()) else None
    if local_dir is not None:
        final = local_dir / filename
        partial = final.with_name(final.name + ".partial")
    else:
        final = cache_dir / repo_folder_name(repo_id=repo, repo_type="model") / "blobs" / meta.etag
        partial = final.with_name(final.name + ".ponder-partial")
    final.parent.mkdir(parents=True, exist_ok=True)

    lock = FileLock(str(partial) + ".lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise DownloadError(f"{filename} is already being downloaded by another Ponder window or "
                            "`ponder pull`; wait for it to finish.") from None
    try:
        if not final.exists():
            headers = build_hf_headers(token=token, library_name="ponder", library_version=_version())
            if urlsplit(meta.location).netloc != urlsplit(url).netloc:
                headers.pop("authorization", None)  # a signed CDN address: the token stays on the hub
            with partial.open("ab") as out:
                resume = out.tell()
                if meta.size is not None and resume > meta.size:  # not this file: start over
                    out.truncate(0)
                    resume = 0
                try:
                    http_get(meta.location, out, resume_size=resume, headers=headers, expected_size=meta.size,
                             tqdm_class=_bar_class(reporter.download, cancel))
                except DownloadError:
                    raise
                except OSError as exc:  # includes the library's size check
                    raise DownloadError(f"The download of {filename} was cut short ({exc}). Download "
                                        "again: it resumes from what arrived.") from exc
                except Exception as exc:
                    raise _friendly(exc, repo, filename) from exc
            if expected is not None:
                size = partial.stat().st_size
                actual = sha256_of(partial, cancel, lambda done: reporter.verify(done, size))
                if actual != expected:
                    partial.unlink(missing_ok=True)
                    raise ChecksumError(
                        f"The downloaded {filename} is damaged: its sha256 is {actual[:16]}…, the hub's "
                        f"checksum is {expected[:16]}…. The file was deleted; download it again.")
            os.replace(partial, final)
    finally:
        lock.release()
        Path(str(partial) + ".lock").unlink(missing_ok=True)
    if local_dir is not None:
        return final
    try:  # the library links the verified blob into snapshots/<commit>/ and writes the ref
        return Path(hf_hub_download(repo, filename, cache_dir=cache_dir, token=token, endpoint=endpoint,
                                    tqdm_class=_bar_class(reporter.download, cancel)))
    except DownloadError:
        raise
    except Exception as exc:
        raise _friendly(exc, repo, filename) from exc


def download_quant(entry: CatalogEntry, quant: CatalogQuant, *, local_dir: Path | None = None,
                   cache_dir: Path | None = None, token: str | None = None,
                   progress: ProgressCallback | None = None, cancel: threading.Event | None = None,
                   clock: Callable[[], float] = time.monotonic) -> Downloaded:
    """Download every file of ``quant`` (resuming partial files), verify each against the hub's
    sha256, and return where they are: in the Hugging Face cache, or in ``local_dir``."""
    cancel = cancel or threading.Event()
    cache_dir = cache_dir or hub_cache_dir()
    token = token if token is not None else hub_token()
    parts = []
    for index, file in enumerate(quant.files, start=1):
        reporter = _Reporter(progress, file.name, index, len(quant.files), clock)
        parts.append(_download_file(entry.repo, file.name, local_dir=local_dir, cache_dir=cache_dir,
                                    token=token, cancel=cancel, reporter=reporter))
    return Downloaded(parts[0], tuple(parts))
