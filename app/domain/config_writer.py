"""Editing the user's models.toml while keeping its comments and layout (tomlkit).

Every edit is a pure function from the old text to the new one: :func:`add_model`,
:func:`update_model`, :func:`remove_model`, :func:`set_default`, :func:`set_enabled`.
They change only what they are asked to; whether the result is a valid models.toml is
decided by :func:`app.domain.config.parse_models`, which :func:`save_models_text` runs
before it atomically replaces the file, so an invalid edit never lands on disk.

Comments that precede a ``[[model]]`` header belong, in tomlkit's tree, to the end of the
previous entry. The helpers here keep them where a reader expects them: new keys and new
``[model.reasoning]`` tables go after the entry's last key but before those comments, and
removing an entry removes the comment lines directly above its header (no blank line in
between) while the comments that introduce the next entry or a section stay.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.container import Container
from tomlkit.items import AoT, Comment, InlineTable, Item, Table, Whitespace

from app.domain.config import parse_models
from app.domain.profiles import ModelProfile, ModelsConfig, ReasoningSettings
from app.errors import ConfigError

# The order in which a new entry's keys are written (the order of the spec's example).
_PROFILE_ORDER = (
    "id", "label", "role", "backend", "path", "n_ctx", "base_url", "model", "api_key_env",
    "context_window", "system_prompt", "temperature", "max_tokens", "reasoning_effort", "chat_template",
)
_REASONING_ORDER = ("start", "end", "forced_open", "budget", "carry")


# ---------------------------------------------------------------------------------------
# Public edits


def add_model(text: str, profile: ModelProfile) -> str:
    """``text`` with a new ``[[model]]`` entry for ``profile`` appended after the others.

    Keys left at their defaults are not written (``enabled`` only when false; the
    ``[model.reasoning]`` table only when ``profile.reasoning`` is set).
    Raises ConfigError when the id is already taken.
    """
    doc = _parse(text)
    models = doc.get("model")
    if models is not None and _index_of(_entries(doc), profile.id) is not None:
        raise ConfigError(f'a model with the id "{profile.id}" already exists; choose another id.')
    table = profile_table(profile)
    if models is None:
        doc.append("model", tomlkit.aot())
        models = doc["model"]
    else:
        rendered = tomlkit.dumps(doc)
        table.trivia.indent = "" if rendered.endswith("\n\n") else "\n" if rendered.endswith("\n") else "\n\n"
    models.append(table)
    return tomlkit.dumps(doc)


def update_model(text: str, model_id: str, changes: Mapping[str, Any]) -> str:
    """``text`` with the keys of one entry changed.

    ``changes`` maps keys of ``[[model]]`` to new values; ``None`` removes the key.
    ``changes["reasoning"]`` is a mapping (or :class:`ReasoningSettings`) of the
    ``[model.reasoning]`` keys to change the same way (the table is created when needed and
    removed when it ends up empty), or ``None`` to remove the table. Renaming the default
    model (``"id"``) renames ``default`` too. Values are not validated here.
    """
    doc = _parse(text)
    table = _entry(doc, model_id)
    for key, value in changes.items():
        if key != "reasoning":
            _set(table, key, value)
    if "reasoning" in changes:
        _update_reasoning(table, changes["reasoning"])
    new_id = changes.get("id")
    if new_id and new_id != model_id and doc.get("default") == model_id:
        doc["default"] = new_id
    return tomlkit.dumps(doc)


def remove_model(text: str, model_id: str) -> str:
    """``text`` without the entry ``model_id``; the first remaining one becomes the default
    if it was the default. Raises ConfigError for the only entry (a file needs one)."""
    doc = _parse(text)
    entries = _entries(doc)
    index = _index_of(entries, model_id)
    if index is None:
        raise _no_such(model_id)
    if len(entries) == 1:
        raise ConfigError(f'"{model_id}" is the only model; add another before removing it.')
    tables = list(entries)
    moved_items = _pop_trailing(_owner(tables[index]))
    moved = "".join(item.as_string() for item in moved_items)
    if index > 0:
        before = _owner(tables[index - 1])
        while before.body and before.body[-1][0] is None and isinstance(before.body[-1][1], Comment):
            before.body.pop()  # the comment lines directly above the removed header
        before_text = before.as_string()
    else:
        before_text = _text_before(doc, "model")
    del entries[index]
    if before_text == "" or before_text.endswith("\n\n"):
        moved = moved.lstrip("\n")
    if index < len(entries):
        following = entries[index]
        following.trivia.indent = moved + following.trivia.indent
    elif moved.strip():  # comments at the end of the file stay at the end
        if before_text.endswith("\n\n"):
            moved_items = moved_items[1:] if isinstance(moved_items[0], Whitespace) else moved_items
        _push_trailing(_owner(tables[index - 1]), moved_items)
    if doc.get("default") == model_id:
        doc["default"] = entries[0]["id"]
    return tomlkit.dumps(doc)


def set_default(text: str, model_id: str) -> str:
    """``text`` with ``default = model_id`` (added near the top if the file has none)."""
    doc = _parse(text)
    if _index_of(_entries(doc), model_id) is None:
        raise _no_such(model_id)
    if "default" in doc:
        doc["default"] = model_id
        return tomlkit.dumps(doc)
    lines = text.split("\n")
    leading = 0
    while leading < len(lines) and (not lines[leading].strip() or lines[leading].lstrip().startswith("#")):
        leading += 1
    # after the file's opening comment block, if a blank line ends it; else at the top
    ends = [i for i in range(1, leading) if not lines[i].strip() and lines[i - 1].strip()]
    at = ends[0] + 1 if ends else 0
    lines[at:at] = [f"default = {tomlkit.string(model_id).as_string()}", ""]
    return "\n".join(lines)


def set_enabled(text: str, model_id: str, enabled: bool) -> str:
    """``text`` with the entry switched on or off (``enabled = true|false``)."""
    doc = _parse(text)
    table = _entry(doc, model_id)
    if "enabled" in table or not enabled:
        _set(table, "enabled", bool(enabled))
    return tomlkit.dumps(doc)


def save_models_text(path: Path, text: str) -> ModelsConfig:
    """Validate ``text`` as models.toml and atomically write it to ``path``.

    Raises ConfigError (naming key and line of ``text``) when it is invalid, and when the
    file cannot be written; in both cases the file on disk is unchanged.
    """
    config = parse_models(text, str(path), path=path)
    path = Path(path)
    temp: str | None = None
    try:
        handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        if path.exists():
            os.chmod(temp, path.stat().st_mode & 0o777)
        os.replace(temp, path)
    except OSError as exc:
        if temp is not None:
            Path(temp).unlink(missing_ok=True)
        raise ConfigError(f"could not be saved ({exc.strerror or exc}); check that the folder is "
                          "writable. Nothing was changed.", source=str(path), path=path) from exc
    return config


def profile_table(profile: ModelProfile) -> Table:
    """The ``[[model]]`` table for ``profile`` (defaults left out), ready to append."""
    table = tomlkit.table()
    for key in _PROFILE_ORDER:
        value = getattr(profile, key)
        if value is not None:
            table.append(key, _item(value))
    if not profile.enabled:
        table.append("enabled", False)
    if profile.reasoning is not None:
        sub = tomlkit.table()
        for key, value in _reasoning_values(profile.reasoning).items():
            if value is not None:
                sub.append(key, _item(value))
        sub.trivia.indent = "\n"
        table.append("reasoning", sub)
    return table


# ---------------------------------------------------------------------------------------
# Helpers


def _parse(text: str) -> tomlkit.TOMLDocument:
    try:
        return tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        raise ConfigError(f"TOML syntax error: {exc}. Fix the file by hand before editing it here.",
                          line=getattr(exc, "line", None)) from exc


def _entries(doc: tomlkit.TOMLDocument) -> AoT:
    models = doc.get("model")
    if models is None:
        return tomlkit.aot()
    if not isinstance(models, AoT):
        raise ConfigError("models must be written as [[model]] tables (two brackets) for the "
                          "model manager to edit them.", key="model")
    return models


def _index_of(entries: AoT, model_id: str) -> int | None:
    for index, table in enumerate(entries):
        if table.get("id") == model_id:
            return index
    return None


def _no_such(model_id: str) -> ConfigError:
    return ConfigError(f'has no [[model]] with id "{model_id}"; it may have been removed meanwhile.')


def _entry(doc: tomlkit.TOMLDocument, model_id: str) -> Table:
    entries = _entries(doc)
    index = _index_of(entries, model_id)
    if index is None:
        raise _no_such(model_id)
    return entries[index]


def _item(value: Any) -> Item:
    """A TOML item; a multi-line string is written as one (readable system prompts)."""
    if isinstance(value, str) and "\n" in value and not value.startswith(("\n", "\r")):
        return tomlkit.string(value, multiline=True)
    return tomlkit.item(value)


def _owner(table: Table | InlineTable) -> Container:
    """The container that holds ``table``'s trailing comments: its last sub-table's, if any."""
    container = table.value
    while True:
        last = next((item for key, item in reversed(container.body) if key is not None), None)
        if not isinstance(last, Table):
            return container
        container = last.value


def _pop_trailing(container: Container) -> list[Item]:
    """Remove and return the comments and blank lines after a container's last key."""
    items: list[Item] = []
    while container.body and container.body[-1][0] is None:
        item = container.body.pop()[1]
        if isinstance(item, (Comment, Whitespace)):
            items.insert(0, item)
    return items


def _push_trailing(container: Container, items: list[Item]) -> None:
    for item in items:
        container.add(item)


def _text_before(doc: tomlkit.TOMLDocument, key: str) -> str:
    """The rendered top-level text that precedes ``key``."""
    parts = []
    for item_key, item in doc.body:
        if item_key is not None and item_key.key == key:
            break
        parts.append(item.as_string())
    return "".join(parts)


def _set(table: Table | InlineTable, key: str, value: Any) -> None:
    """Set, replace (keeping an end-of-line comment) or, for ``None``, remove one key."""
    if value is None:
        if key in table:
            del table[key]
        return
    if key in table or isinstance(table, InlineTable):
        table[key] = _item(value)
        return
    trailing = _pop_trailing(table.value)
    table[key] = _item(value)  # tomlkit places plain keys before sub-tables
    _push_trailing(table.value, trailing)


def _reasoning_values(value: ReasoningSettings | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(value, ReasoningSettings):
        return {f.name: getattr(value, f.name) for f in fields(ReasoningSettings)}
    return dict(value)


def _update_reasoning(table: Table, value: ReasoningSettings | Mapping[str, Any] | None) -> None:
    """Apply changes to the entry's ``[model.reasoning]`` (creating or removing it)."""
    current = table.get("reasoning")
    if value is None:
        if current is not None:
            _remove_reasoning(table)
        return
    changes = _reasoning_values(value)
    if isinstance(current, (Table, InlineTable)):
        for key, item in changes.items():
            _set(current, key, item)
        if not current:
            _remove_reasoning(table)
        return
    values = {key: changes[key] for key in _REASONING_ORDER if changes.get(key) is not None}
    values.update({k: v for k, v in changes.items() if k not in _REASONING_ORDER and v is not None})
    if not values:
        return
    sub = tomlkit.table()
    for key, item in values.items():
        sub.append(key, _item(item))
    trailing = _pop_trailing(table.value)
    sub.trivia.indent = "\n"
    table.append("reasoning", sub)
    _push_trailing(sub.value, trailing)


def _remove_reasoning(table: Table) -> None:
    sub = table["reasoning"]
    moved = _pop_trailing(sub.value) if isinstance(sub, Table) else []
    del table["reasoning"]
    kept = [item for item in _pop_trailing(table.value) if isinstance(item, Comment)]
    _push_trailing(table.value, kept + moved)
