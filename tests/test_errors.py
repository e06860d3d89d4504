"""User-facing errors: one base type, messages that say what to do."""

from __future__ import annotations

from pathlib import Path

from app.errors import (
    BackendError,
    ConfigError,
    MissingKeyError,
    ModelFileError,
    PonderError,
    UnknownModelError,
)


def test_all_errors_are_ponder_errors():
    for kind in (ConfigError, ModelFileError, UnknownModelError, MissingKeyError, BackendError):
        assert issubclass(kind, PonderError)


def test_config_error_format_and_attributes():
    error = ConfigError('unknown key "x"', source="models.toml", path=Path("/a/models.toml"), line=7, key="x")
    assert str(error) == 'models.toml line 7: unknown key "x"'
    assert (error.path, error.line, error.key, error.detail) == (Path("/a/models.toml"), 7, "x", 'unknown key "x"')
    assert str(ConfigError("cannot be read", source="settings.toml")) == "settings.toml: cannot be read"


def test_unknown_model_lists_known_ids():
    error = UnknownModelError("nope", ["a", "b"])
    assert str(error).startswith('Unknown model "nope". Known models: a, b.')
    assert error.known == ("a", "b")


def test_missing_key_names_the_variable_but_no_secret():
    assert "DEEPSEEK_API_KEY" in str(MissingKeyError("deepseek-reasoner", "DEEPSEEK_API_KEY"))
    assert "keyring" in str(MissingKeyError("x"))
