"""settings.toml numbers that would overflow (issue 15.9): a line-numbered config error, and
the log level setting."""

from __future__ import annotations

import pytest

from app import paths
from app.domain.settings import load_settings, parse_settings
from app.errors import ConfigError


@pytest.mark.parametrize("value", ["inf", "+inf", "-inf", "nan", "1e300", "100001", "1e10"])
def test_a_memory_budget_beyond_any_machine_is_a_line_numbered_error(value):
    with pytest.raises(ConfigError) as info:
        parse_settings(f'panel_default = "auto"\nmemory_budget_gb = {value}\n')
    assert (info.value.line, info.value.key) == (2, "memory_budget_gb")
    assert "must be a number more than 0 and at most 100000" in str(info.value)


def test_the_largest_allowed_budget_converts_to_bytes():
    budget = parse_settings("memory_budget_gb = 100000\n").memory_budget_gb
    assert int(budget * 1e9) == 100_000_000_000_000  # what app.main does with it: no OverflowError


def test_the_error_names_the_file(ponder_home):
    paths.settings_toml().write_text("memory_budget_gb = inf\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(info.value).startswith(f"{paths.settings_toml()} line 1: ")


def test_log_level_is_a_setting():
    assert parse_settings('log_level = "debug"\n').log_level == "debug"
    assert parse_settings("").log_level is None
    with pytest.raises(ConfigError) as info:
        parse_settings('\nlog_level = "loud"\n')
    assert info.value.line == 2 and "debug, info, warning, error" in str(info.value)
