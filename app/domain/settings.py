"""App settings from settings.toml; a missing file means all defaults.

Validation follows models.toml: an unknown key or a wrong value is a ConfigError that
names the key and its line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app import paths
from app.domain.config import Checker, KeyLines, parse_toml, read_config_text

PANEL_MODES = ("collapsed", "expanded", "auto")
SETTINGS_KEYS = ("panel_default", "memory_budget_gb", "max_tokens", "threads", "log_level")
LOG_LEVELS = ("debug", "info", "warning", "error")
MAX_MEMORY_BUDGET_GB = 100_000  # 100 TB: beyond any machine, and far from float overflow


@dataclass(frozen=True)
class Settings:
    """User preferences.

    ``panel_default``: how a thinking panel starts (collapsed | expanded | auto).
    ``memory_budget_gb``: memory local models may use; None = judged from this machine.
    ``max_tokens``: most tokens per reply unless a model entry says otherwise.
    ``threads``: CPU threads for decoding local models; None = the fastest, measured once
    (``PONDER_N_THREADS`` overrides both).
    ``log_level``: how much goes to Ponder's log (debug | info | warning | error); None = the
    default (info), or the PONDER_LOG_LEVEL environment variable, which wins.
    """

    panel_default: str = "auto"
    memory_budget_gb: float | None = None
    max_tokens: int = 1024
    threads: int | None = None
    log_level: str | None = None


def parse_settings(text: str, source: str = "settings.toml", *, path: Path | None = None) -> Settings:
    """Parse and validate settings.toml text; raises ConfigError naming key and line."""
    data = parse_toml(text, source, path)
    check = Checker(source, path, KeyLines(text))
    where = "settings"
    check.unknown_keys(data, (), where, SETTINGS_KEYS)
    defaults = Settings()
    panel = check.choice(data, (), "panel_default", where, PANEL_MODES)
    max_tokens = check.integer(data, (), "max_tokens", where, minimum=1)
    return Settings(
        panel_default=panel or defaults.panel_default,
        memory_budget_gb=check.number(data, (), "memory_budget_gb", where, low=0.0, low_open=True,
                                      high=MAX_MEMORY_BUDGET_GB),
        max_tokens=defaults.max_tokens if max_tokens is None else max_tokens,
        threads=check.integer(data, (), "threads", where, minimum=1),
        log_level=check.choice(data, (), "log_level", where, LOG_LEVELS),
    )


def load_settings(path: Path | None = None) -> Settings:
    """Settings from ``path`` (default: the user's settings.toml); defaults if it is missing."""
    path = paths.settings_toml() if path is None else path
    if not path.exists():
        return Settings()
    return parse_settings(read_config_text(path), str(path), path=path)
