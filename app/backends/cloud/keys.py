"""API keys of cloud models: the system keyring first, then the ``api_key_env`` variable.

Keys are stored with the ``keyring`` library under the service ``"Ponder"`` and the model
id as user name, never in ``models.toml``. On a machine without a usable keyring (a bare
Linux session has none) Ponder says so and points to the environment variable instead.
Nothing here logs or formats a key.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from urllib.parse import urlsplit

import keyring
import keyring.errors

from app.domain.profiles import ModelProfile
from app.errors import MissingKeyError, PonderError

SERVICE = "Ponder"
log = logging.getLogger(__name__)


class KeyringUnavailableError(MissingKeyError):
    """No key was found and the system has no usable keyring to keep one in."""

    def __init__(self, model_id: str, api_key_env: str | None = None) -> None:
        super().__init__(model_id, api_key_env)
        env = api_key_env or "the variable named by api_key_env"
        self.message = (
            f'No API key found for model "{model_id}", and this system has no usable keyring to keep one in '
            f"(on Linux install and unlock a Secret Service such as GNOME Keyring or KWallet). "
            f"Set the key in the environment variable {env} instead"
            + ("" if api_key_env else ' (add api_key_env = "NAME" to the model\'s entry in models.toml)')
            + "."
        )
        self.args = (self.message,)


def keyring_problem() -> str | None:
    """Why keys cannot be kept in a system keyring here, or None when one is usable."""
    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # a broken keyring configuration must not stop the app
        return f"the keyring could not be loaded ({type(exc).__name__})"
    if backend.priority <= 0 or type(backend).__module__.startswith(("keyring.backends.fail",
                                                                      "keyring.backends.null")):
        return "no system keyring is available"
    return None


def stored_key(model_id: str) -> str | None:
    """The key kept in the keyring for ``model_id``; None when there is none or no keyring."""
    try:
        value = keyring.get_password(SERVICE, model_id)
    except keyring.errors.NoKeyringError:
        return None
    except keyring.errors.KeyringError as exc:
        log.warning("Reading the key of %s from the keyring failed (%s)", model_id, type(exc).__name__)
        return None
    return value.strip() if value and value.strip() else None


def env_key(profile: ModelProfile) -> str | None:
    """The key from the profile's ``api_key_env`` variable, if it is set and not blank."""
    if not profile.api_key_env:
        return None
    value = os.environ.get(profile.api_key_env, "").strip()
    return value or None


def find_key(profile: ModelProfile) -> str | None:
    """The profile's key: keyring first (the normal place), then ``api_key_env``."""
    return stored_key(profile.id) or env_key(profile)


def key_optional(profile: ModelProfile) -> bool:
    """OpenAI-compatible servers on this computer (llama-server, Ollama, LM Studio) need no key."""
    if profile.backend != "openai" or not profile.base_url:
        return False
    host = urlsplit(profile.base_url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_key(profile: ModelProfile) -> str | None:
    """The key to send; None for keyless local servers; raises :class:`MissingKeyError`."""
    key = find_key(profile)
    if key or key_optional(profile):
        return key
    if keyring_problem():
        raise KeyringUnavailableError(profile.id, profile.api_key_env)
    raise MissingKeyError(profile.id, profile.api_key_env)


def set_key(model_id: str, key: str, *, api_key_env: str | None = None) -> None:
    """Keep ``key`` for ``model_id`` in the system keyring (replacing any earlier one)."""
    key = key.strip()
    if not key:
        raise PonderError(f'The API key for "{model_id}" is empty; paste the whole key.')
    env = f"the {api_key_env} environment variable" if api_key_env else "an environment variable (api_key_env)"
    try:
        keyring.set_password(SERVICE, model_id, key)
    except keyring.errors.NoKeyringError:
        raise PonderError(f'This system has no usable keyring, so the key for "{model_id}" cannot be saved. '
                          f"Set it in {env} instead.") from None
    except keyring.errors.KeyringError as exc:
        raise PonderError(f'The system keyring did not save the key for "{model_id}" ({type(exc).__name__}). '
                          f"Unlock the keyring and try again, or set the key in {env}.") from None


def delete_key(model_id: str) -> bool:
    """Forget the stored key of ``model_id``; False when there was none (or no keyring)."""
    try:
        keyring.delete_password(SERVICE, model_id)
    except (keyring.errors.PasswordDeleteError, keyring.errors.NoKeyringError):
        return False
    return True
