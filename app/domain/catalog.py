"""The model catalog: GGUF models Ponder can download, read from ``resources/catalog.toml``.

Pure data and validation (no network, no Qt). Errors are :class:`ConfigError` naming the
key and its line, like models.toml's (the same :class:`~app.domain.config.Checker`). Each
entry carries what the fit estimate needs before anything is downloaded: the size of every
file per quantization and the KV-cache figures of the architecture (see
:mod:`app.domain.catalog_fit`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app import paths
from app.domain.config import Checker, KeyLines, KeyPath, parse_toml, read_config_text, show
from app.domain.hardware_fit import ModelShape
from app.domain.reasoning.markers import FAMILIES
from app.errors import ConfigError

SOURCE = "catalog.toml"
ROLES = ("reasoning", "instruct")
THINKING_SWITCHES = ("none", "enable_thinking", "reasoning_effort")
MODEL_KEYS = (
    "id", "name", "role", "repo", "gated", "license", "good_for", "architecture", "layers", "heads",
    "kv_heads", "head_dim", "head_dim_v", "vocab", "context", "reasoning", "thinking_switch", "trace",
    "chat_template", "quant",
)
QUANT_KEYS = ("quant", "files")
FILE_KEYS = ("name", "size")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_REPO = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class CatalogFile:
    """One file of a quantization: its path in the repo and its size in bytes."""

    name: str
    size: int


@dataclass(frozen=True)
class CatalogQuant:
    """A quantization of a catalog model: one file, or the parts of a split model."""

    quant: str
    files: tuple[CatalogFile, ...]

    @property
    def size(self) -> int:
        """All parts together, in bytes."""
        return sum(f.size for f in self.files)

    @property
    def first_file(self) -> str:
        """The file llama.cpp opens (the first part of a split model)."""
        return self.files[0].name


@dataclass(frozen=True)
class CatalogEntry:
    """A model of the catalog. ``trace`` is the typical reasoning trace as (low, high) tokens,
    (0, 0) for instruct models; ``reasoning`` is a marker family of
    :data:`app.domain.reasoning.markers.FAMILIES` or "none"."""

    id: str
    name: str
    role: str
    repo: str
    license: str
    good_for: str
    architecture: str
    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    vocab: int
    context: int
    reasoning: str
    thinking_switch: str
    quants: tuple[CatalogQuant, ...]
    trace: tuple[int, int] = (0, 0)
    head_dim_v: int | None = None
    gated: bool = False
    chat_template: str | None = None
    line: int | None = None

    def quant(self, name: str | None = None) -> CatalogQuant:
        """The quantization ``name`` (case-insensitive), or the default one (Q4_K_M if offered,
        else the first); raises :class:`ConfigError` listing the offered ones."""
        if name is None:
            return next((q for q in self.quants if q.quant == "Q4_K_M"), self.quants[0])
        for q in self.quants:
            if q.quant.lower() == name.lower():
                return q
        offered = ", ".join(q.quant for q in self.quants)
        raise ConfigError(f'"{self.id}" has no quantization "{name}"; it offers: {offered}.', source=SOURCE)

    def shape(self, quant: CatalogQuant) -> ModelShape:
        """The figures :func:`app.domain.hardware_fit.estimate_memory` needs, with the files'
        size as the weights (the tensors are all but a few MB of a GGUF)."""
        return ModelShape(
            n_layers=self.layers, n_heads=self.heads, n_kv_heads=self.kv_heads, head_dim=self.head_dim,
            n_params=0, quantization=quant.quant, weights_bytes=quant.size, head_dim_v=self.head_dim_v,
            vocab_size=self.vocab,
        )


@dataclass(frozen=True)
class Catalog:
    """All catalog entries in file order."""

    entries: tuple[CatalogEntry, ...]

    @property
    def ids(self) -> tuple[str, ...]:
        """Every entry's id."""
        return tuple(e.id for e in self.entries)

    def get(self, entry_id: str) -> CatalogEntry:
        """The entry ``entry_id``; raises :class:`ConfigError` listing the ids."""
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        raise ConfigError(f'the catalog has no model "{entry_id}"; use one of: {", ".join(self.ids)} '
                          "(see `ponder models --catalog`).", source=SOURCE)

    def lookup(self, spec: str) -> tuple[CatalogEntry, CatalogQuant]:
        """``ID`` or ``ID:QUANT`` (as `ponder pull` takes it) to an entry and a quantization."""
        entry_id, _, quant = spec.partition(":")
        entry = self.get(entry_id.strip())
        return entry, entry.quant(quant.strip() or None)


def _positive(check: Checker, raw: dict, base: KeyPath, key: str, where: str, *, required: bool = True) -> int:
    if key not in raw and required:
        raise check.fail(base, key, f'{where} is missing the key "{key}"; add {key} = <a whole number>.')
    value = check.integer(raw, base, key, where, minimum=1)
    return value or 0


def _files(check: Checker, raw: Any, base: KeyPath, where: str) -> tuple[CatalogFile, ...]:
    if not isinstance(raw, list) or not raw or not all(isinstance(f, dict) for f in raw):
        raise check.fail(base, "files", f'"files" in {where} must be a non-empty list of '
                                        '{ name = "...", size = <bytes> } tables.')
    files = []
    for index, item in enumerate(raw):
        at = base + ("files", index)
        check.unknown_keys(item, at, f"a file of {where}", FILE_KEYS)
        name = check.string(item, at, "name", f"a file of {where}", required=True)
        assert name is not None
        if not name.lower().endswith(".gguf") or name.startswith("/") or ".." in name.split("/"):
            raise check.fail(at, "name", f'file {show(name)} of {where} must be a .gguf path inside the repo.')
        files.append(CatalogFile(name, _positive(check, item, at, "size", f"file {show(name)} of {where}")))
    return tuple(files)


def _quants(check: Checker, raw: Any, base: KeyPath, where: str) -> tuple[CatalogQuant, ...]:
    if not isinstance(raw, list) or not raw or not all(isinstance(q, dict) for q in raw):
        raise check.fail(base, "quant", f"{where} needs at least one [[model.quant]] table.")
    quants: list[CatalogQuant] = []
    for index, item in enumerate(raw):
        at = base + ("quant", index)
        q_where = f"[[model.quant]] number {index + 1} of {where}"
        check.unknown_keys(item, at, q_where, QUANT_KEYS)
        quant = check.string(item, at, "quant", q_where, required=True)
        assert quant is not None
        if any(q.quant.lower() == quant.lower() for q in quants):
            raise check.fail(at + ("quant",), "quant", f'{where} lists the quantization "{quant}" twice.')
        if "files" not in item:
            raise check.fail(at, "files", f'{q_where} is missing the key "files".')
        quants.append(CatalogQuant(quant, _files(check, item["files"], at, f'"{quant}" of {where}')))
    return tuple(quants)


def _trace(check: Checker, raw: dict, base: KeyPath, where: str, role: str) -> tuple[int, int]:
    if "trace" not in raw:
        if role == "reasoning":
            raise check.fail(base, "trace", f'{where} is a reasoning model and needs trace = [low, high]: '
                                            "the tokens a typical reasoning trace takes.")
        return (0, 0)
    value = raw["trace"]
    ok = (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) and not isinstance(v, bool)
                                                               and v > 0 for v in value) and value[0] <= value[1])
    if not ok:
        raise check.fail(base + ("trace",), "trace", f'"trace" in {where} must be [low, high] with '
                                                     f"0 < low ≤ high, not {show(value)}.")
    return (value[0], value[1])


def _entry(check: Checker, raw: dict, index: int) -> CatalogEntry:
    from app.domain.chat_presets import PRESETS  # (imported here: it reads no catalog)

    base: KeyPath = ("model", index)
    name = raw.get("id")
    where = f'[[model]] "{name}"' if isinstance(name, str) and name else f"[[model]] number {index + 1}"
    check.unknown_keys(raw, base, where, MODEL_KEYS)
    entry_id = check.string(raw, base, "id", where, required=True)
    assert entry_id is not None
    if not _ID.fullmatch(entry_id):
        raise check.fail(base + ("id",), "id", f'"id" in {where} may use only letters, digits, ".", "_" and "-".')
    repo = check.string(raw, base, "repo", where, required=True)
    if repo is None or not _REPO.fullmatch(repo):
        raise check.fail(base + ("repo",), "repo", f'"repo" in {where} must be a Hugging Face repository '
                                                   f'such as "owner/name", not {show(repo)}.')
    role = check.choice(raw, base, "role", where, ROLES, required=True) or ""
    families = ("none", *FAMILIES)
    reasoning = check.choice(raw, base, "reasoning", where, families, required=True) or "none"
    if (role == "reasoning") != (reasoning != "none"):
        raise check.fail(base + ("reasoning",), "reasoning",
                         f'{where}: a reasoning model names its marker family in "reasoning", '
                         'an instruct model has reasoning = "none".')
    template = check.string(raw, base, "chat_template", where)
    if template is not None and template not in PRESETS:
        raise check.fail(base + ("chat_template",), "chat_template",
                         f'"chat_template" in {where} must be one of the presets: {", ".join(PRESETS)}.')
    head_dim_v = check.integer(raw, base, "head_dim_v", where, minimum=1)
    return CatalogEntry(
        id=entry_id,
        name=check.string(raw, base, "name", where, required=True) or entry_id,
        role=role,
        repo=repo,
        license=check.string(raw, base, "license", where, required=True) or "",
        good_for=check.string(raw, base, "good_for", where, required=True) or "",
        architecture=check.string(raw, base, "architecture", where, required=True) or "",
        layers=_positive(check, raw, base, "layers", where),
        heads=_positive(check, raw, base, "heads", where),
        kv_heads=_positive(check, raw, base, "kv_heads", where),
        head_dim=_positive(check, raw, base, "head_dim", where),
        vocab=_positive(check, raw, base, "vocab", where),
        context=_positive(check, raw, base, "context", where),
        reasoning=reasoning,
        thinking_switch=check.choice(raw, base, "thinking_switch", where, THINKING_SWITCHES) or "none",
        quants=_quants(check, raw.get("quant"), base, where),
        trace=_trace(check, raw, base, where, role),
        head_dim_v=head_dim_v,
        gated=bool(check.boolean(raw, base, "gated", where)),
        chat_template=template,
        line=check.lines.line_of(base),
    )


def parse_catalog(text: str, source: str = SOURCE, *, path: Path | None = None) -> Catalog:
    """Parse and validate a catalog text; raises :class:`ConfigError` naming key and line."""
    data = parse_toml(text, source, path)
    check = Checker(source, path, KeyLines(text))
    check.unknown_keys(data, (), "the top level", ("model",))
    raw = data.get("model", [])
    if not isinstance(raw, list) or not raw or not all(isinstance(m, dict) for m in raw):
        raise check.fail(("model",), "model", "the catalog needs [[model]] tables (two brackets).")
    entries: list[CatalogEntry] = []
    for index, item in enumerate(raw):
        entry = _entry(check, item, index)
        if entry.id in (e.id for e in entries):
            raise check.fail(("model", index, "id"), "id", f'duplicate id "{entry.id}"; ids must be unique.')
        entries.append(entry)
    return Catalog(tuple(entries))


def builtin_catalog_path() -> Path:
    """The catalog that ships with Ponder."""
    return paths.resources_dir() / "catalog.toml"


def load_catalog(path: Path | None = None) -> Catalog:
    """Read and validate the catalog: ``path``, else the file named by ``$PONDER_CATALOG``
    (tests, or a newer catalog), else the built-in one."""
    path = path or (Path(os.environ["PONDER_CATALOG"]) if os.environ.get("PONDER_CATALOG") else None) \
        or builtin_catalog_path()
    return parse_catalog(read_config_text(path), str(path), path=path)
