"""User-facing error types.

Non-UI code raises these; the UI and the CLI show ``str(error)`` as is, so every
message is a sentence a user can act on: what is wrong, where, and how to fix it.
Messages never contain API keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class PonderError(Exception):
    """Base of all errors meant for the user; ``message`` says what to do about it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(PonderError):
    """A config file (models.toml, settings.toml) is unreadable or invalid.

    ``str(error)`` reads like ``models.toml line 7: unknown key "temprature" in
    [[model]] "foo" — allowed keys: ...``. ``path`` is the file when known,
    ``line`` the 1-based line of the offending key or table, ``key`` its name.
    """

    def __init__(
        self,
        detail: str,
        *,
        source: str = "models.toml",
        path: Path | None = None,
        line: int | None = None,
        key: str | None = None,
    ) -> None:
        self.detail = detail
        self.source = source
        self.path = path
        self.line = line
        self.key = key
        where = f"{source} line {line}" if line else source
        super().__init__(f"{where}: {detail}")


class ModelFileError(PonderError):
    """A model file (GGUF) is missing or cannot be read; ``path`` is the file if known."""

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


class UnknownModelError(PonderError):
    """A model id that no entry in models.toml has; the message lists the known ids."""

    def __init__(self, model_id: str, known: Iterable[str]) -> None:
        self.model_id = model_id
        self.known = tuple(known)
        listed = ", ".join(self.known) if self.known else "(none)"
        super().__init__(
            f'Unknown model "{model_id}". Known models: {listed}. '
            "Use one of these ids, or add a [[model]] entry with this id to models.toml."
        )


class MissingKeyError(PonderError):
    """A cloud model needs an API key and none was found (keyring or ``api_key_env``)."""

    def __init__(self, model_id: str, api_key_env: str | None = None) -> None:
        self.model_id = model_id
        self.api_key_env = api_key_env
        how = "Add one in the model manager (it is kept in the system keyring)"
        if api_key_env:
            how += f" or set the {api_key_env} environment variable"
        super().__init__(f'No API key found for model "{model_id}". {how}.')


class BackendError(PonderError):
    """A backend failed to load a model or run a turn (network failure, server error, ...)."""

    def __init__(self, message: str, *, model_id: str | None = None) -> None:
        super().__init__(message)
        self.model_id = model_id


class MissingLibraryError(PonderError):
    """System libraries the window needs are missing; ``libraries`` are their sonames.

    ``packages`` maps a distribution ("Debian/Ubuntu", "Fedora", "Arch") to the packages
    that provide them; the message is one line that names both.
    """

    def __init__(self, libraries: Iterable[str], packages: dict[str, list[str]]) -> None:
        self.libraries = tuple(libraries)
        self.packages = packages
        names = self.libraries
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        verb = "is" if len(names) == 1 else "are"
        options = [f"{' '.join(pkgs)} ({distribution})" for distribution, pkgs in packages.items()]
        how = ", ".join(options[:-1]) + " or " + options[-1] if len(options) > 1 else options[0]
        super().__init__(f"Ponder cannot open its window: {listed} {verb} missing (Qt's X11 platform "
                         f"needs {'it' if len(names) == 1 else 'them'}). Install {how}.")


class ChatTemplateError(PonderError):
    """A model's chat template failed to render (an error in it, a ``raise_exception`` call,
    or it did not finish in time); ``template`` names it (the model file, or the preset)."""

    def __init__(self, template: str, detail: str) -> None:
        self.template = template
        self.detail = detail
        super().__init__(f"The chat template of {template} failed: {detail}. Set a chat template for this model "
                         '("chat_template" in models.toml, or the model manager).')


class FolderError(PonderError):
    """A folder Ponder needs (``kind``: config, data, cache or logs) cannot be created or used.

    ``folder`` is the folder, ``reason`` what the system said (e.g. "Permission denied").
    """

    def __init__(self, kind: str, folder: Path, reason: str) -> None:
        self.kind = kind
        self.folder = folder
        self.reason = reason
        super().__init__(f"Ponder cannot use its {kind} folder {folder} ({reason}). Make it a writable folder, "
                         "or set PONDER_HOME to a writable folder.")


class UsageError(PonderError):
    """The command line asks for something Ponder cannot do (an empty prompt, an unreadable file)."""
