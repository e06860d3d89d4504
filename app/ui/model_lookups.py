"""What the model manager asks of its sibling modules: the GGUF reader, discovery, the keyring.

Each is imported when first asked for, so the manager still works in a build without it:
a missing reader or discovery answers None, a missing keyring says where keys go instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from app.errors import PonderError


def read_capabilities(path: Path) -> Any | None:
    """``read_gguf_info(path)``, or None when the reader is not available in this build.

    Raises :class:`PonderError` (``ModelFileError``) for a missing or damaged file.
    """
    try:
        from app.backends.gguf_info import read_gguf_info
    except ImportError:
        return None
    return read_gguf_info(path)


def find_gguf_files(extra_folders: Iterable[Path]) -> list[Any] | None:
    """``Found`` GGUF files in the usual places and ``extra_folders`` (``discover_gguf``);
    None when discovery is not available in this build."""
    try:
        from app.domain.discovery import DiscoveryRoots, discover_gguf
    except ImportError:
        return None
    return list(discover_gguf(DiscoveryRoots.default(extra=tuple(Path(f) for f in extra_folders))))


def keyring_note() -> str:
    """Where a typed key goes; says so plainly when this system has no keyring."""
    try:
        from app.backends.cloud.keys import keyring_problem
    except ImportError:
        return "Keys cannot be stored in this build; use the key variable below."
    problem = keyring_problem()
    if problem:
        return (f"Keys cannot be stored here: {problem}. Set the key in the environment variable "
                "named below (Key variable) instead.")
    return "Kept in the system keyring, never in models.toml."


def default_set_key(model_id: str, key: str) -> None:
    """Keep ``key`` in the system keyring (``app.backends.cloud.keys.set_key``)."""
    try:
        from app.backends.cloud.keys import set_key
    except ImportError as exc:
        raise PonderError("API keys cannot be stored in this build of Ponder; set the key in the "
                          "environment variable named by api_key_env instead.") from exc
    set_key(model_id, key)
