"""API keys: the isolated keyring first, then api_key_env; clear errors without a keyring."""

from __future__ import annotations

import keyring
import keyring.backends.fail
import pytest

from app.backends.cloud import keys
from app.domain.profiles import ModelProfile
from app.errors import MissingKeyError, PonderError

ENV = "PONDER_TEST_KEYS_ENV"


def profile(**changes) -> ModelProfile:
    fields = dict(id="cloud-x", label="Cloud X", role="cloud", backend="anthropic",
                  base_url="https://api.example.com", model="m", api_key_env=ENV)
    fields.update(changes)
    return ModelProfile(**fields)


def test_set_key_stores_under_ponder_and_the_model_id(memory_keyring):
    keys.set_key("cloud-x", "  sk-abc123  ")
    assert memory_keyring.store == {("Ponder", "cloud-x"): "sk-abc123"}
    assert keys.find_key(profile()) == "sk-abc123"
    keys.set_key("cloud-x", "sk-new")  # replacing
    assert keys.require_key(profile()) == "sk-new"


def test_keyring_first_then_the_environment(memory_keyring, monkeypatch):
    monkeypatch.setenv(ENV, "sk-from-env")
    assert keys.find_key(profile()) == "sk-from-env"
    keys.set_key("cloud-x", "sk-from-ring")
    assert keys.find_key(profile()) == "sk-from-ring"
    assert keys.delete_key("cloud-x") is True and keys.delete_key("cloud-x") is False
    assert keys.find_key(profile()) == "sk-from-env"


def test_blank_env_is_no_key(monkeypatch):
    monkeypatch.setenv(ENV, "   ")
    with pytest.raises(MissingKeyError) as info:
        keys.require_key(profile())
    assert str(info.value) == ('No API key found for model "cloud-x". Add one in the model manager (it is kept in '
                               f"the system keyring) or set the {ENV} environment variable.")


def test_empty_key_is_refused():
    with pytest.raises(PonderError, match="empty"):
        keys.set_key("cloud-x", " ")


def test_local_servers_need_no_key(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    for url in ("http://127.0.0.1:8080/v1", "http://localhost:11434/v1", "http://[::1]:1234/v1"):
        assert keys.require_key(profile(backend="openai", base_url=url, api_key_env=None)) is None
    with pytest.raises(MissingKeyError):
        keys.require_key(profile(backend="openai", base_url="https://api.deepseek.com/v1"))
    with pytest.raises(MissingKeyError):  # only OpenAI-compatible servers are keyless on loopback
        keys.require_key(profile(backend="anthropic", base_url="http://127.0.0.1:9/"))


def test_no_keyring_says_so_and_suggests_the_variable(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    keyring.set_keyring(keyring.backends.fail.Keyring())  # restored by the memory_keyring fixture
    assert keys.keyring_problem() == "no system keyring is available"
    assert keys.find_key(profile()) is None
    with pytest.raises(keys.KeyringUnavailableError) as info:
        keys.require_key(profile())
    assert isinstance(info.value, MissingKeyError)
    assert "no usable keyring" in str(info.value) and f"environment variable {ENV}" in str(info.value)
    with pytest.raises(keys.KeyringUnavailableError, match="add api_key_env"):
        keys.require_key(profile(api_key_env=None))
    with pytest.raises(PonderError) as saved:
        keys.set_key("cloud-x", "sk-secret-value", api_key_env=ENV)
    assert "no usable keyring" in str(saved.value) and ENV in str(saved.value)
    assert "sk-secret-value" not in str(saved.value)
    monkeypatch.setenv(ENV, "sk-env")
    assert keys.require_key(profile()) == "sk-env"  # the variable works without a keyring


def test_memory_keyring_is_usable(memory_keyring):
    assert keys.keyring_problem() is None
