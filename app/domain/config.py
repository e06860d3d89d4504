"""Loading and validating models.toml.

Values come from :mod:`tomllib`. tomllib reports no positions, so the line numbers
in error messages come from :class:`KeyLines`, a light line-by-line scan of the same
text: it recognises table headers (``[a.b]``, ``[[a]]``) and ``key = value`` lines
outside strings and multi-line values, resolves each to its full key path (array
tables get their index, so ``[model.reasoning]`` belongs to the latest ``[[model]]``)
and remembers the line. An error about a key is reported at that key's line; when the
key itself is absent (a missing required key) or sits inside an inline table, at the
nearest enclosing key or table header.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from app import paths
from app.domain.price_config import parse_price
from app.domain.profiles import (
    BACKENDS,
    BUNDLED_MODELS,
    BUNDLED_PREFIX,
    CARRY_MODES,
    DEFAULT_BASE_URLS,
    LOCAL_BACKENDS,
    REASONING_EFFORTS,
    ROLES,
    CallTimeouts,
    ModelProfile,
    ModelsConfig,
    ReasoningSettings,
)
from app.errors import ConfigError, FolderError

TOP_KEYS = ("default", "model")
MODEL_KEYS = (
    "id", "label", "role", "backend", "path", "n_ctx", "base_url", "model", "api_key_env",
    "context_window", "system_prompt", "temperature", "max_tokens", "enabled", "reasoning",
    "reasoning_effort", "chat_template", "timeouts", "tool_format", "prompt_lookup", "price",
)
REASONING_KEYS = ("start", "end", "forced_open", "budget", "carry")
TIMEOUT_KEYS = ("connect", "first_token", "idle", "total")
MAX_TIMEOUT = 86400.0  # a day: longer is a mistake (and inf would overflow the event loop's timers)
LOCAL_ONLY_KEYS = ("path", "n_ctx", "chat_template", "tool_format", "prompt_lookup")
CLOUD_ONLY_KEYS = ("base_url", "model", "api_key_env", "context_window", "reasoning_effort", "timeouts", "price")

KeyPath = tuple[Any, ...]  # str keys, int indices into arrays of tables

# ---------------------------------------------------------------------------------------
# Line numbers


_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')"""
_KEY_PATH = rf"{_KEY_PART}(?:[ \t]*\.[ \t]*{_KEY_PART})*"
_AOT_HEADER = re.compile(rf"[ \t]*\[\[[ \t]*({_KEY_PATH})[ \t]*\]\]")
_HEADER = re.compile(rf"[ \t]*\[[ \t]*({_KEY_PATH})[ \t]*\]")
_KEY_VALUE = re.compile(rf"[ \t]*({_KEY_PATH})[ \t]*=")
_PART = re.compile(_KEY_PART)


def _split_key(text: str) -> tuple[str, ...]:
    parts = []
    for match in _PART.finditer(text):
        part = match.group(0)
        if part.startswith('"'):
            part = tomllib.loads(f"k = {part}")["k"]
        elif part.startswith("'"):
            part = part[1:-1]
        parts.append(part)
    return tuple(parts)


class _ValueState:
    """Where a line-by-line scan stands inside a value: open brackets, open multi-line string."""

    def __init__(self) -> None:
        self.depth = 0
        self.string: str | None = None  # '"""' or "'''" while inside a multi-line string

    @property
    def inside(self) -> bool:
        return self.depth > 0 or self.string is not None

    def scan(self, s: str) -> None:
        """Advance over one line (or the rest of one) of TOML value text."""
        i, n = 0, len(s)
        while i < n:
            if self.string is not None:
                if self.string == '"""' and s[i] == "\\":
                    i += 2
                elif s.startswith(self.string, i):
                    quote = self.string[0]
                    while i < n and s[i] == quote:  # up to two quotes may end the content
                        i += 1
                    self.string = None
                else:
                    i += 1
                continue
            c = s[i]
            if c == "#":
                return
            if s.startswith('"""', i) or s.startswith("'''", i):
                self.string = s[i:i + 3]
                i += 3
            elif c == '"':
                i += 1
                while i < n and s[i] != '"':
                    i += 2 if s[i] == "\\" else 1
                i += 1
            elif c == "'":
                end = s.find("'", i + 1)
                i = n if end < 0 else end + 1
            else:
                if c in "[{":
                    self.depth += 1
                elif c in "]}":
                    self.depth = max(0, self.depth - 1)
                i += 1


class KeyLines:
    """Line numbers (1-based) of the keys and table headers in a TOML text.

    ``line_of(("model", 2, "reasoning", "budget"))`` is the line of ``budget`` in the
    ``[model.reasoning]`` table of the third ``[[model]]``; if that key is not written
    on a line of its own, the line of the nearest enclosing key or header.
    """

    def __init__(self, text: str) -> None:
        self._lines: dict[KeyPath, int] = {}
        self._array_counts: dict[KeyPath, int] = {}
        table: KeyPath = ()
        state = _ValueState()
        for number, line in enumerate(text.split("\n"), start=1):
            if state.inside:
                state.scan(line)
                continue
            if match := _AOT_HEADER.match(line):
                table = self._array_table(_split_key(match.group(1)))
                self._lines.setdefault(table, number)
            elif match := _HEADER.match(line):
                table = self._resolve(_split_key(match.group(1)))
                self._lines.setdefault(table, number)
            elif match := _KEY_VALUE.match(line):
                key = table + _split_key(match.group(1))
                for end in range(len(table) + 1, len(key) + 1):  # dotted keys define tables too
                    self._lines.setdefault(key[:end], number)
                state.scan(line[match.end():])

    def _resolve(self, parts: tuple[str, ...]) -> KeyPath:
        """A header's key path, with the latest index of every array of tables on the way."""
        resolved: list[Any] = []
        for part in parts:
            resolved.append(part)
            count = self._array_counts.get(tuple(resolved))
            if count:
                resolved.append(count - 1)
        return tuple(resolved)

    def _array_table(self, parts: tuple[str, ...]) -> KeyPath:
        array = self._resolve(parts[:-1]) + parts[-1:]
        index = self._array_counts.get(array, 0)
        self._array_counts[array] = index + 1
        return array + (index,)

    def line_of(self, path: KeyPath) -> int | None:
        """The line of ``path``, or of its nearest recorded ancestor; None if none is known."""
        for end in range(len(path), 0, -1):
            line = self._lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None


# ---------------------------------------------------------------------------------------
# Shared helpers (also used by app.domain.settings)


def read_config_text(path: Path, source: str | None = None) -> str:
    """The text of a config file; ConfigError when it cannot be read or decoded."""
    source = source or str(path)
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8.",
            source=source, path=path,
        ) from exc
    except OSError as exc:
        raise ConfigError(
            f"cannot be read ({exc.strerror or exc}); check that the file exists and is readable.",
            source=source, path=path,
        ) from exc


def parse_toml(text: str, source: str, path: Path | None = None) -> dict[str, Any]:
    """``tomllib.loads`` with syntax errors turned into ConfigError carrying the line."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        line: int | None = None
        if match := re.search(r"\(at line (\d+), column \d+\)", message):
            line = int(match.group(1))
        elif "(at end of document)" in message:
            line = text.count("\n") + 1
        message = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", message)
        raise ConfigError(
            f"TOML syntax error: {message}. Fix the line, or delete the file to start over.",
            source=source, path=path, line=line,
        ) from exc


def show(value: Any) -> str:
    """A value as TOML would write it, for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return str(value)


def unknown_key_detail(key: str, where: str, allowed: tuple[str, ...]) -> str:
    """``unknown key "x" in <where> — allowed keys: ...`` plus a spelling suggestion."""
    detail = f'unknown key "{key}" in {where} — allowed keys: {", ".join(allowed)}'
    close = difflib.get_close_matches(key, allowed, n=1)
    if close:
        detail += f' (did you mean "{close[0]}"?)'
    return detail


@dataclass(frozen=True)
class Checker:
    """Raises ConfigError for a key path, with the line found by :class:`KeyLines`."""

    source: str
    path: Path | None
    lines: KeyLines

    def fail(self, where: KeyPath, key: str | None, detail: str) -> ConfigError:
        """Build (not raise) the error for ``where``; callers write ``raise check.fail(...)``."""
        return ConfigError(
            detail, source=self.source, path=self.path, line=self.lines.line_of(where), key=key
        )

    def unknown_keys(self, table: Mapping[str, Any], base: KeyPath, where: str,
                     allowed: tuple[str, ...]) -> None:
        """Reject the first key of ``table`` (in file order) that is not allowed."""
        for key in table:
            if key not in allowed:
                raise self.fail(base + (key,), key, unknown_key_detail(key, where, allowed))

    def string(self, table: Mapping[str, Any], base: KeyPath, key: str, where: str,
               *, required: bool = False) -> str | None:
        """A non-empty string value, or None when absent and not required."""
        if key not in table:
            if required:
                raise self.fail(base, key, f'{where} is missing the key "{key}"; add {key} = "...".')
            return None
        value = table[key]
        if not isinstance(value, str) or not value.strip():
            raise self.fail(base + (key,), key,
                            f'"{key}" in {where} must be a non-empty string, not {show(value)}.')
        return value

    def choice(self, table: Mapping[str, Any], base: KeyPath, key: str, where: str,
               choices: tuple[str, ...], *, required: bool = False) -> str | None:
        """A string that must be one of ``choices``."""
        if key not in table and required:
            raise self.fail(base, key, f'{where} is missing the key "{key}"; '
                                       f'add {key} = "..." with one of: {", ".join(choices)}.')
        value = table.get(key)
        if value is not None and value not in choices:
            raise self.fail(base + (key,), key, f'"{key}" in {where} must be one of '
                                                f'{", ".join(choices)}, not {show(value)}.')
        return value

    def integer(self, table: Mapping[str, Any], base: KeyPath, key: str, where: str,
                *, minimum: int) -> int | None:
        """An integer at least ``minimum``, or None when absent."""
        if key not in table:
            return None
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            kind = "a positive whole number" if minimum == 1 else f"a whole number ≥ {minimum}"
            raise self.fail(base + (key,), key, f'"{key}" in {where} must be {kind}, not {show(value)}.')
        return value

    def number(self, table: Mapping[str, Any], base: KeyPath, key: str, where: str,
               *, low: float, high: float | None = None, low_open: bool = False) -> float | None:
        """A number in [low, high] (or (low, high] when ``low_open``), or None when absent."""
        if key not in table:
            return None
        value = table[key]
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if ok:
            ok = (value > low if low_open else value >= low) and (high is None or value <= high)
        if not ok:
            span = f"more than {low:g}" if low_open else f"at least {low:g}"
            if high is not None:
                span = f"{span} and at most {high:g}" if low_open else f"between {low:g} and {high:g}"
            raise self.fail(base + (key,), key, f'"{key}" in {where} must be a number {span}, '
                                                f"not {show(value)}.")
        return float(value)

    def boolean(self, table: Mapping[str, Any], base: KeyPath, key: str, where: str) -> bool | None:
        """true/false, or None when absent."""
        if key not in table:
            return None
        value = table[key]
        if not isinstance(value, bool):
            raise self.fail(base + (key,), key,
                            f'"{key}" in {where} must be true or false, not {show(value)}.')
        return value


# ---------------------------------------------------------------------------------------
# models.toml

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _parse_reasoning(check: Checker, raw: Any, base: KeyPath, where: str) -> ReasoningSettings:
    where = f"[model.reasoning] of {where}"
    if not isinstance(raw, dict):
        raise check.fail(base, "reasoning", f"{where} must be a table ([model.reasoning]), not {show(raw)}.")
    check.unknown_keys(raw, base, where, REASONING_KEYS)
    start = check.string(raw, base, "start", where)
    end = check.string(raw, base, "end", where)
    if (start is None) != (end is None):
        missing = "end" if end is None else "start"
        given = "start" if end is None else "end"
        raise check.fail(base + (given,), missing,
                         f'{where} sets "{given}" but not "{missing}"; give both markers or neither.')
    budget = check.integer(raw, base, "budget", where, minimum=0)
    carry = check.choice(raw, base, "carry", where, CARRY_MODES)
    return ReasoningSettings(
        start=start,
        end=end,
        forced_open=check.boolean(raw, base, "forced_open", where),
        budget=0 if budget is None else budget,
        carry=carry or "strip",
    )


def _parse_timeouts(check: Checker, raw: Any, base: KeyPath, where: str) -> CallTimeouts:
    where = f"[model.timeouts] of {where}"
    if not isinstance(raw, dict):
        raise check.fail(base, "timeouts", f"{where} must be a table ([model.timeouts]) of seconds, not {show(raw)}.")
    check.unknown_keys(raw, base, where, TIMEOUT_KEYS)
    seconds: dict[str, float] = {}
    for key, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_TIMEOUT:
            raise check.fail(base + (key,), key, f'"{key}" in {where} must be a number of seconds more than 0 '
                                                 f"and at most {MAX_TIMEOUT:g} (a day), not {show(value)}.")
        seconds[key] = float(value)
    return CallTimeouts(**seconds)


def _parse_model(check: Checker, raw: dict[str, Any], index: int) -> ModelProfile:
    base: KeyPath = ("model", index)
    name = raw.get("id")
    where = f'[[model]] "{name}"' if isinstance(name, str) and name else f"[[model]] number {index + 1}"
    check.unknown_keys(raw, base, where, MODEL_KEYS)
    model_id = check.string(raw, base, "id", where, required=True)
    assert model_id is not None
    backend = check.choice(raw, base, "backend", where, BACKENDS, required=True)
    role = check.choice(raw, base, "role", where, ROLES, required=True)
    local = backend in LOCAL_BACKENDS

    wrong = CLOUD_ONLY_KEYS if local else LOCAL_ONLY_KEYS
    for key in raw:
        if key in wrong:
            kind = "cloud backends" if local else 'local models (backend = "llama")'
            hint = {"n_ctx": '; cloud models use "context_window"',
                    "context_window": '; local models use "n_ctx"'}.get(key, "")
            raise check.fail(base + (key,), key, f'"{key}" applies only to {kind}, '
                                                 f'but {where} uses backend "{backend}"{hint}.')

    path = base_url = model = api_key_env = None
    if local:
        if role == "cloud":
            raise check.fail(base + ("role",), "role", f'{where} runs locally (backend "llama"), so its '
                                                       'role must be "instruct" or "reasoning", not "cloud".')
        if "path" not in raw:
            raise check.fail(base, "path", f'{where} is missing the key "path"; add path = "..." with '
                                           f'a GGUF file or "{BUNDLED_PREFIX}{BUNDLED_MODELS[0]}".')
        path = check.string(raw, base, "path", where)
        assert path is not None
        if path.startswith(BUNDLED_PREFIX) and path[len(BUNDLED_PREFIX):] not in BUNDLED_MODELS:
            known = ", ".join(f'"{BUNDLED_PREFIX}{n}"' for n in BUNDLED_MODELS)
            raise check.fail(base + ("path",), "path", f'"path" in {where} names no bundled model '
                                                       f"({show(path)}); use {known} or a GGUF file.")
    else:
        model = check.string(raw, base, "model", where, required=True)
        base_url = check.string(raw, base, "base_url", where, required=backend not in DEFAULT_BASE_URLS)
        if base_url is None:
            base_url = DEFAULT_BASE_URLS[backend]
        elif not base_url.startswith(("http://", "https://")):
            raise check.fail(base + ("base_url",), "base_url",
                             f'"base_url" in {where} must start with http:// or https://, not {show(base_url)}.')
        elif not _usable_address(base_url):
            raise check.fail(base + ("base_url",), "base_url",
                             f'"base_url" in {where} is not a usable address ({show(base_url)}): write it as '
                             "https://host[:port]/path, with a port from 1 to 65535.")
        api_key_env = check.string(raw, base, "api_key_env", where)
        if api_key_env is not None and not _ENV_NAME.fullmatch(api_key_env):
            raise check.fail(base + ("api_key_env",), "api_key_env",
                             f'"api_key_env" in {where} must be the name of an environment variable '
                             "such as OPENAI_API_KEY (letters, digits, _); never put the key itself "
                             "in this file.")  # the value is not echoed: it may be a pasted key

    enabled = check.boolean(raw, base, "enabled", where)
    reasoning = None
    if "reasoning" in raw:
        reasoning = _parse_reasoning(check, raw["reasoning"], base + ("reasoning",), where)
    timeouts = CallTimeouts()
    if "timeouts" in raw:
        timeouts = _parse_timeouts(check, raw["timeouts"], base + ("timeouts",), where)
    price = parse_price(check, raw["price"], base + ("price",), where) if "price" in raw else None
    return ModelProfile(
        id=model_id,
        label=check.string(raw, base, "label", where) or model_id,
        role=role or "",
        backend=backend or "",
        path=path,
        n_ctx=check.integer(raw, base, "n_ctx", where, minimum=1),
        base_url=base_url,
        model=model,
        api_key_env=api_key_env,
        context_window=check.integer(raw, base, "context_window", where, minimum=1),
        system_prompt=_system_prompt(check, raw, base, where),
        temperature=check.number(raw, base, "temperature", where, low=0.0, high=2.0),
        max_tokens=check.integer(raw, base, "max_tokens", where, minimum=1),
        enabled=True if enabled is None else enabled,
        reasoning=reasoning,
        reasoning_effort=check.choice(raw, base, "reasoning_effort", where, REASONING_EFFORTS),
        chat_template=_chat_template(check, raw, base, where),
        tool_format=_tool_format(check, raw, base, where),
        prompt_lookup=bool(check.boolean(raw, base, "prompt_lookup", where)),
        line=check.lines.line_of(base),
        timeouts=timeouts,
        price=price,
    )


def _usable_address(url: str) -> bool:
    """A host is named and the port, if any, is a real one (else the request fails obscurely)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    return bool(parts.hostname) and port != 0


def _chat_template(check: Checker, raw: Mapping[str, Any], base: KeyPath, where: str) -> str | None:
    """A preset name of :data:`app.domain.chat_presets.PRESETS` or the path of a .jinja file."""
    from app.domain.chat_presets import PRESETS, is_template_path

    value = check.string(raw, base, "chat_template", where)
    if value is not None and value not in PRESETS and not is_template_path(value):
        raise check.fail(base + ("chat_template",), "chat_template",
                         f'"chat_template" in {where} must be a preset ({", ".join(PRESETS)}) or the path '
                         f"of a .jinja file, not {show(value)}.")
    return value


def _tool_format(check: Checker, raw: Mapping[str, Any], base: KeyPath, where: str) -> str | None:
    """How a local model writes tool calls: a family of :data:`app.domain.tools.TOOL_FAMILIES`,
    an alias, "auto" (detected from the template) or "none"."""
    from app.domain.tools.detect import resolve_tool_family

    value = check.string(raw, base, "tool_format", where)
    if value is not None:
        try:
            resolve_tool_family(None, "", value)
        except ValueError as exc:
            raise check.fail(base + ("tool_format",), "tool_format", f'"tool_format" in {where}: {exc}.') from None
    return value


def _system_prompt(check: Checker, raw: Mapping[str, Any], base: KeyPath, where: str) -> str | None:
    if "system_prompt" not in raw:
        return None
    value = raw["system_prompt"]
    if not isinstance(value, str):  # unlike other strings, an empty one is allowed
        raise check.fail(base + ("system_prompt",), "system_prompt",
                         f'"system_prompt" in {where} must be a string, not {show(value)}.')
    return value


def parse_models(text: str, source: str = "models.toml", *, path: Path | None = None) -> ModelsConfig:
    """Parse and validate the text of a models.toml; raises ConfigError naming key and line."""
    data = parse_toml(text, source, path)
    check = Checker(source, path, KeyLines(text))
    check.unknown_keys(data, (), "the top level", TOP_KEYS)

    raw_models = data.get("model", [])
    if not isinstance(raw_models, list) or not all(isinstance(m, dict) for m in raw_models):
        raise check.fail(("model",), "model", 'models must be written as [[model]] tables (two brackets).')
    if not raw_models:
        raise check.fail((), "model", "defines no [[model]] entries; add one, or delete the file "
                                      "and Ponder will recreate the built-in list.")

    profiles: list[ModelProfile] = []
    first_line: dict[str, int | None] = {}
    for index, raw in enumerate(raw_models):
        profile = _parse_model(check, raw, index)
        if profile.id in first_line:
            earlier = first_line[profile.id]
            at = f" at line {earlier}" if earlier else ""
            raise check.fail(("model", index, "id"), "id", f'duplicate id "{profile.id}": the [[model]]{at} '
                                                          "already uses it; ids must be unique.")
        first_line[profile.id] = profile.line
        profiles.append(profile)

    default = data.get("default", profiles[0].id)
    if not isinstance(default, str) or default not in first_line:
        raise check.fail(("default",), "default", f"default = {show(default)} names no model; "
                                                  f"use one of: {', '.join(first_line)}.")
    return ModelsConfig(default=default, models=tuple(profiles))


def load_models(path: Path) -> ModelsConfig:
    """Read and validate a models.toml file; errors name the file, the line and the key."""
    return parse_models(read_config_text(path), str(path), path=path)


def builtin_models_path() -> Path:
    """The built-in models.toml that ships with Ponder."""
    return paths.resources_dir() / "models.toml"


def ensure_models_file() -> Path:
    """The user's models.toml, first written from the built-in one if it does not exist yet.

    Several Ponder processes may start at once on a fresh folder: each writes its own
    temporary file and moves it into place atomically, so every one of them reads a whole
    file, whichever came first. Raises FolderError when the config folder cannot be written.
    """
    target = paths.models_toml()
    if target.exists():
        return target
    folder = target.parent
    try:
        fd, name = tempfile.mkstemp(prefix=".models-", suffix=".toml.partial", dir=folder)
    except OSError as exc:
        raise FolderError("config", folder, exc.strerror or str(exc)) from exc
    temporary = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(builtin_models_path().read_bytes())
        os.replace(temporary, target)
    except OSError as exc:
        if target.exists():  # another Ponder put its copy there first (or holds it open)
            return target
        raise ConfigError(
            f"could not be created from the built-in list {builtin_models_path()} ({exc.strerror or exc}); "
            "check the disk and that Ponder is installed completely, or set PONDER_HOME to another folder.",
            source=str(target), path=target,
        ) from exc
    finally:
        temporary.unlink(missing_ok=True)
    return target


def load_user_models() -> ModelsConfig:
    """The user's models (creating models.toml with the built-in entries on first run)."""
    return load_models(ensure_models_file())
