"""settings.toml: defaults when missing, values, and errors naming key and line."""

from __future__ import annotations

import pytest

from app import paths
from app.domain.settings import Settings, load_settings, parse_settings
from app.errors import ConfigError


def test_missing_file_gives_defaults():
    assert not paths.settings_toml().exists()
    assert load_settings() == Settings(panel_default="auto", memory_budget_gb=None, max_tokens=1024)


def test_values_are_read_from_the_user_file():
    paths.settings_toml().write_text(
        '# mine\npanel_default = "expanded"\nmemory_budget_gb = 6\nmax_tokens = 256\n', encoding="utf-8"
    )
    assert load_settings() == Settings("expanded", 6.0, 256)


def test_partial_file_keeps_other_defaults():
    assert parse_settings('panel_default = "collapsed"\n') == Settings(panel_default="collapsed")


def test_unknown_key_names_key_and_line():
    with pytest.raises(ConfigError) as info:
        parse_settings('panel_default = "auto"\n\nmax_token = 5\n')
    assert (info.value.line, info.value.key) == (3, "max_token")
    message = str(info.value)
    assert message.startswith('settings.toml line 3: unknown key "max_token" in settings — allowed keys: ')
    assert 'did you mean "max_tokens"' in message


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        ('panel_default = "open"\n', "panel_default", "collapsed, expanded, auto"),
        ("memory_budget_gb = 0\n", "memory_budget_gb", "more than 0"),
        ('memory_budget_gb = "8GB"\n', "memory_budget_gb", 'not "8GB"'),
        ("max_tokens = 0\n", "max_tokens", "positive whole number"),
    ],
)
def test_wrong_values(text, key, fragment):
    with pytest.raises(ConfigError) as info:
        parse_settings("\n" + text)
    assert (info.value.line, info.value.key) == (2, key)
    assert fragment in str(info.value)


def test_syntax_error_in_file_names_path_and_line(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text("max_tokens = 1\npanel_default = \n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert info.value.line == 2 and info.value.path == path
    assert str(info.value).startswith(f"{path} line 2: TOML syntax error")
