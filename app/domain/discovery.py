"""Finding GGUF models that other tools already downloaded.

Where they live:

* **LM Studio**: ``~/.lmstudio/models`` (current) and ``~/.cache/lm-studio/models`` (older
  versions), laid out ``<publisher>/<repo>/<file>.gguf``.
* **Ollama**: ``~/.ollama/models`` (or ``$OLLAMA_MODELS``). Blobs are named by digest, so
  the manifests say what they are: ``manifests/<host>/<namespace>/<model>/<tag>`` is JSON
  whose ``layers`` include one with mediaType ``application/vnd.ollama.image.model``; its
  ``digest`` ``sha256:<hex>`` is the file ``blobs/sha256-<hex>``. The name shown is
  ``model:tag`` (``namespace/model:tag`` outside ``library``, host first outside
  registry.ollama.ai).
* **Hugging Face cache**: ``$HF_HUB_CACHE``, else ``$HF_HOME/hub``, else
  ``$XDG_CACHE_HOME/huggingface/hub`` or ``~/.cache/huggingface/hub``; files are
  ``models--<org>--<name>/snapshots/<revision>/**.gguf`` (symlinks into ``blobs/``).
* **Folders the user adds**, searched recursively.

Every candidate must start with the GGUF magic (4 bytes read). Results are deduplicated by
resolved path (the same blob seen from two snapshots, or through a symlink). Of a split
model (``name-00001-of-00003.gguf``) only the first part is listed, with the size of all
parts; vision projectors (``mmproj*.gguf``) are left out, they are not chat models.

Roots are injectable (:class:`DiscoveryRoots`) so tests build fake trees. No Qt here.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

GGUF_MAGIC = b"GGUF"
OLLAMA_MODEL_MEDIA_TYPE = "application/vnd.ollama.image.model"
OLLAMA_DEFAULT_HOST = "registry.ollama.ai"
MAX_DEPTH = 8  # folders below a root that are searched
_SPLIT = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$", re.IGNORECASE)

LMSTUDIO, OLLAMA, HUGGINGFACE, FOLDER = "lmstudio", "ollama", "huggingface", "folder"


@dataclass(frozen=True)
class Found:
    """A GGUF model on disk: ``source`` is lmstudio | ollama | huggingface | folder."""

    path: Path
    source: str
    name: str
    size: int


@dataclass(frozen=True)
class DiscoveryRoots:
    """Where to look. Missing folders are skipped, so defaults are safe everywhere."""

    lmstudio: tuple[Path, ...] = ()
    ollama: tuple[Path, ...] = ()
    huggingface: tuple[Path, ...] = ()
    extra: tuple[Path, ...] = ()

    @classmethod
    def default(cls, extra: tuple[Path, ...] = (), env: Mapping[str, str] | None = None,
                home: Path | None = None) -> DiscoveryRoots:
        """The usual places for this user (``env`` and ``home`` default to the real ones)."""
        env = os.environ if env is None else env
        home = Path.home() if home is None else home
        ollama = [Path(env["OLLAMA_MODELS"]).expanduser()] if env.get("OLLAMA_MODELS") else []
        ollama += [home / ".ollama" / "models", Path("/usr/share/ollama/.ollama/models")]
        if env.get("HF_HUB_CACHE") or env.get("HUGGINGFACE_HUB_CACHE"):
            hf = Path(env.get("HF_HUB_CACHE") or env["HUGGINGFACE_HUB_CACHE"]).expanduser()
        elif env.get("HF_HOME"):
            hf = Path(env["HF_HOME"]).expanduser() / "hub"
        else:
            cache = Path(env["XDG_CACHE_HOME"]).expanduser() if env.get("XDG_CACHE_HOME") else home / ".cache"
            hf = cache / "huggingface" / "hub"
        return cls(
            lmstudio=(home / ".lmstudio" / "models", home / ".cache" / "lm-studio" / "models"),
            ollama=tuple(ollama),
            huggingface=(hf,),
            extra=tuple(Path(p).expanduser() for p in extra),
        )


def is_gguf(path: Path) -> bool:
    """True when the file starts with the GGUF magic (unreadable files are not)."""
    try:
        with path.open("rb") as fh:
            return fh.read(4) == GGUF_MAGIC
    except OSError:
        return False


def _walk_gguf(root: Path) -> Iterator[Path]:
    """``*.gguf`` files below ``root`` (not following folder symlinks), in sorted order."""
    if not root.is_dir():
        return
    base_depth = len(root.parts)
    for folder, dirs, files in os.walk(root, onerror=None, followlinks=False):
        if len(Path(folder).parts) - base_depth >= MAX_DEPTH:
            dirs.clear()
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.lower().endswith(".gguf") and not name.lower().startswith("mmproj"):
                yield Path(folder) / name


def _split_size(path: Path) -> int | None:
    """For a split model's first part, the size of all parts; None for other parts."""
    m = _SPLIT.search(path.name)
    size = path.stat().st_size
    if not m:
        return size
    index, total = int(m.group(1)), int(m.group(2))
    if index != 1:
        return None
    for i in range(2, total + 1):
        part = path.with_name(_SPLIT.sub(f"-{i:05d}-of-{total:05d}.gguf", path.name))
        if part.is_file():
            size += part.stat().st_size
    return size


def _files(root: Path, source: str, name_of) -> Iterator[Found]:
    for path in _walk_gguf(root):
        try:
            size = _split_size(path)
        except OSError:  # a broken symlink (unfinished download)
            continue
        if size is not None:
            yield Found(path, source, name_of(path), size)


def _lmstudio(root: Path) -> Iterator[Found]:
    def name(path: Path) -> str:
        rel = path.relative_to(root)
        return "/".join(rel.parts[:-1] + (rel.stem,)) if len(rel.parts) > 1 else rel.stem
    return _files(root, LMSTUDIO, name)


def _huggingface(root: Path) -> Iterator[Found]:
    if not root.is_dir():
        return
    for repo in sorted(root.glob("models--*")):
        repo_id = "/".join(repo.name.split("--")[1:])
        snapshots = repo / "snapshots"

        def name(path: Path, snapshots: Path = snapshots, repo_id: str = repo_id) -> str:
            inner = path.relative_to(snapshots).parts[1:]  # drop the revision folder
            return f"{repo_id}/{'/'.join(inner)[:-5]}"
        yield from _files(snapshots, HUGGINGFACE, name)


def _ollama_name(host: str, namespace: str, model: str, tag: str) -> str:
    if host == OLLAMA_DEFAULT_HOST:
        prefix = "" if namespace == "library" else f"{namespace}/"
    else:
        prefix = f"{host}/{namespace}/"
    return f"{prefix}{model}:{tag}"


def _ollama(root: Path) -> Iterator[Found]:
    manifests = root / "manifests"
    if not manifests.is_dir():
        return
    for manifest in sorted(p for p in manifests.glob("*/*/*/*") if p.is_file()):
        host, namespace, model, tag = manifest.relative_to(manifests).parts
        try:
            layers = json.loads(manifest.read_text(encoding="utf-8")).get("layers", [])
        except (OSError, ValueError, AttributeError):
            continue  # unreadable or not a manifest: nothing to list
        for layer in layers if isinstance(layers, list) else []:
            if not isinstance(layer, dict) or layer.get("mediaType") != OLLAMA_MODEL_MEDIA_TYPE:
                continue
            digest = str(layer.get("digest", ""))
            for blob in (root / "blobs" / digest.replace(":", "-"), root / "blobs" / digest):
                if digest and blob.is_file():
                    yield Found(blob, OLLAMA, _ollama_name(host, namespace, model, tag), blob.stat().st_size)
                    break


def discover_gguf(roots: DiscoveryRoots | None = None) -> list[Found]:
    """GGUF models in LM Studio's, Ollama's and Hugging Face's folders and the extra ones.

    In that order, each sorted by path; a file reachable twice is listed once (first seen).
    """
    roots = roots or DiscoveryRoots.default()
    sources: list[Iterator[Found]] = []
    sources += [_lmstudio(r) for r in roots.lmstudio]
    sources += [_ollama(r) for r in roots.ollama]
    sources += [_huggingface(r) for r in roots.huggingface]
    sources += [_files(r, FOLDER, lambda p: p.stem) for r in roots.extra]
    found: list[Found] = []
    seen: set[Path] = set()
    for source in sources:
        for item in source:
            try:
                key = item.path.resolve()
            except (OSError, RuntimeError):  # RuntimeError: a symlink loop
                continue
            if key in seen or not is_gguf(item.path):
                continue
            seen.add(key)
            found.append(item)
    return found
