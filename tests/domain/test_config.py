"""models.toml: the built-in file, first-run copy, and every validation error with its line."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app import paths
from app.domain.config import (
    KeyLines,
    builtin_models_path,
    ensure_models_file,
    load_models,
    load_user_models,
    parse_models,
)
from app.domain.profiles import ReasoningSettings
from app.errors import ConfigError, UnknownModelError


def toml(text: str) -> str:
    """Dedent a test document; its first line is line 1."""
    return textwrap.dedent(text).lstrip("\n")


LOCAL = toml(
    """
    default = "a"

    [[model]]
    id = "a"
    role = "instruct"
    backend = "llama"
    path = "bundled:smollm2"
    """
)


def error_of(text: str) -> ConfigError:
    """The ConfigError that parsing ``text`` (taken as is) raises."""
    with pytest.raises(ConfigError) as info:
        parse_models(text)
    return info.value


# --- the built-in file -----------------------------------------------------------------


def test_builtin_file_loads_with_the_expected_entries():
    config = load_models(builtin_models_path())
    assert config.default == "smollm2-135m"
    assert config.ids == (
        "smollm2-135m", "smollm2-think", "openai-gpt5", "claude-sonnet-thinking",
        "gemini-thinking", "deepseek-reasoner", "local-server",
    )

    small = config.get("smollm2-135m")
    assert (small.role, small.backend, small.path, small.n_ctx) == ("instruct", "llama", "bundled:smollm2", 8192)
    assert small.label == "SmolLM2 135M (bundled)"
    assert small.is_local and small.is_bundled and small.enabled and small.reasoning is None

    think = config.get("smollm2-think")
    assert think.role == "reasoning" and think.label == "SmolLM2 135M · thinking (demo)"
    assert think.reasoning == ReasoningSettings("<think>", "</think>", True, 48, "strip")

    gpt = config.get("openai-gpt5")
    assert (gpt.backend, gpt.base_url, gpt.model, gpt.api_key_env, gpt.context_window) == (
        "openai-responses", "https://api.openai.com/v1", "gpt-5", "OPENAI_API_KEY", 400000)
    claude = config.get("claude-sonnet-thinking")
    assert (claude.backend, claude.base_url, claude.model, claude.api_key_env, claude.context_window) == (
        "anthropic", "https://api.anthropic.com", "claude-sonnet-4-5", "ANTHROPIC_API_KEY", 200000)
    assert claude.reasoning is not None and claude.reasoning.budget == 4096
    gemini = config.get("gemini-thinking")
    assert (gemini.backend, gemini.base_url, gemini.model, gemini.api_key_env, gemini.context_window) == (
        "gemini", "https://generativelanguage.googleapis.com/v1beta", "gemini-2.5-flash",
        "GEMINI_API_KEY", 1048576)
    deepseek = config.get("deepseek-reasoner")
    assert (deepseek.backend, deepseek.base_url, deepseek.model, deepseek.api_key_env,
            deepseek.context_window) == (
        "openai", "https://api.deepseek.com/v1", "deepseek-reasoner", "DEEPSEEK_API_KEY", 65536)
    server = config.get("local-server")
    assert (server.backend, server.base_url, server.model, server.api_key_env, server.context_window) == (
        "openai", "http://127.0.0.1:8080/v1", "local", None, 8192)
    assert server.label == "Local server (llama-server, Ollama, LM Studio)"

    cloud = [m for m in config.models if m.is_cloud]
    assert len(cloud) == 5 and not any(m.enabled for m in cloud)
    assert [m.id for m in config.enabled()] == ["smollm2-135m", "smollm2-think"]


def test_profile_line_is_the_model_header():
    text = builtin_models_path().read_text(encoding="utf-8").split("\n")
    for profile in load_models(builtin_models_path()).models:
        assert text[profile.line - 1].strip() == "[[model]]"
        assert text[profile.line].strip() == f'id = "{profile.id}"'


def test_get_unknown_id_lists_known_ids_and_by_role_groups():
    config = load_models(builtin_models_path())
    with pytest.raises(UnknownModelError) as info:
        config.get("gpt-17")
    message = str(info.value)
    assert '"gpt-17"' in message and "smollm2-135m, smollm2-think, openai-gpt5" in message
    groups = config.by_role()
    assert list(groups) == ["instruct", "reasoning", "cloud"]
    assert [m.id for m in groups["reasoning"]] == ["smollm2-think"]
    assert len(groups["cloud"]) == 5
    assert config.default_profile().id == "smollm2-135m"


# --- first run -------------------------------------------------------------------------


def test_first_run_copies_builtin_file_into_ponder_home(ponder_home):
    target = ensure_models_file()
    assert target == ponder_home / "config" / "models.toml"
    assert target.read_text(encoding="utf-8") == builtin_models_path().read_text(encoding="utf-8")
    assert load_user_models().default == "smollm2-135m"


def test_existing_user_file_is_never_overwritten():
    target = paths.models_toml()
    target.write_text(LOCAL, encoding="utf-8")
    assert ensure_models_file() == target
    assert target.read_text(encoding="utf-8") == LOCAL
    assert load_user_models().ids == ("a",)


# --- unknown keys ----------------------------------------------------------------------


def test_unknown_key_in_model_names_key_line_model_and_suggestion():
    error = error_of(toml(
        """
        default = "foo"

        [[model]]
        id = "foo"
        role = "instruct"
        backend = "llama"
        temprature = 0.7
        path = "bundled:smollm2"
        """
    ))
    assert (error.line, error.key) == (7, "temprature")
    assert str(error).startswith('models.toml line 7: unknown key "temprature" in [[model]] "foo" — allowed keys: id,')
    assert 'did you mean "temperature"' in str(error)


def test_unknown_top_level_key():
    error = error_of('\n# comment\ndefualt = "a"\n' + LOCAL)
    assert (error.line, error.key) == (3, "defualt")
    assert 'unknown key "defualt" in the top level' in str(error)


def test_unknown_top_level_table_reported_at_its_header():
    error = error_of(LOCAL + '\n[ui]\ntheme = "dark"\n')
    assert (error.line, error.key) == (9, "ui")


def test_unknown_key_in_reasoning_table_of_second_model():
    error = error_of(
        LOCAL
        + "\n"
        + toml(
            """
            [[model]]
            id = "b"
            role = "reasoning"
            backend = "llama"
            path = "x.gguf"

            [model.reasoning]
            start = "<think>"
            end = "</think>"
            budgte = 10
            """
        )
    )
    assert (error.line, error.key) == (18, "budgte")
    assert 'unknown key "budgte" in [model.reasoning] of [[model]] "b"' in str(error)


def test_unknown_key_written_as_dotted_key():
    error = error_of(LOCAL + 'reasoning.strat = "<think>"\n')
    assert (error.line, error.key) == (8, "strat")


def test_unknown_key_in_inline_table_reported_at_the_inline_table():
    error = error_of(LOCAL + 'reasoning = { start = "<a>", end = "</a>", carry_on = "x" }\n')
    assert (error.line, error.key) == (8, "carry_on")


# --- wrong values ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "replacement", "key", "fragment"),
    [
        (5, 'role = "thinker"', "role", "must be one of instruct, reasoning, cloud"),
        (6, 'backend = "ollama"', "backend", "must be one of llama, openai, openai-responses"),
        (7, "path = 42", "path", "must be a non-empty string, not 42"),
        (7, 'path = "bundled:llama70b"', "path", "names no bundled model"),
        (4, 'id = ""', "id", "must be a non-empty string"),
    ],
)
def test_wrong_values_in_local_model(line, replacement, key, fragment):
    lines = LOCAL.split("\n")
    lines[line - 1] = replacement
    error = error_of("\n".join(lines))
    assert (error.line, error.key) == (line, key)
    assert fragment in str(error)


def test_default_naming_an_unknown_id():
    error = error_of(LOCAL.replace('id = "a"', 'id = "b"'))
    assert (error.line, error.key) == (1, "default")
    assert 'default = "a" names no model; use one of: b.' in str(error)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [("0", "positive whole number, not 0"), ('"big"', 'not "big"'), ("true", "not true"),
     ("8192.0", "not 8192.0")],
)
def test_n_ctx_must_be_a_positive_integer(value, fragment):
    error = error_of(LOCAL + f"n_ctx = {value}\n")
    assert (error.line, error.key) == (8, "n_ctx")
    assert '"n_ctx" in [[model]] "a" must be a positive whole number' in str(error)
    assert fragment in str(error)


def test_reasoning_carry_and_budget_are_checked():
    base = LOCAL + '\n[model.reasoning]\nstart = "<think>"\nend = "</think>"\n'
    error = error_of(base + 'carry = "keep-some"\n')
    assert (error.line, error.key) == (12, "carry")
    assert "strip, keep-last, keep-all" in str(error)
    error = error_of(base + "budget = -1\n")
    assert (error.line, error.key) == (12, "budget")
    assert "whole number ≥ 0, not -1" in str(error)
    error = error_of(base + 'forced_open = "yes"\n')
    assert (error.line, error.key) == (12, "forced_open")


def test_reasoning_start_without_end():
    error = error_of(LOCAL + '\n[model.reasoning]\nbudget = 5\nstart = "<think>"\n')
    assert (error.line, error.key) == (11, "end")
    assert 'sets "start" but not "end"' in str(error)


def test_reasoning_must_be_a_table():
    error = error_of(LOCAL + "reasoning = 3\n")
    assert (error.line, error.key) == (8, "reasoning")


def test_duplicate_id_points_at_second_and_names_first():
    error = error_of(LOCAL + '\n[[model]]\nid = "a"\nrole = "cloud"\nbackend = "openai"\n'
                             'base_url = "http://x"\nmodel = "m"\n')
    assert (error.line, error.key) == (10, "id")
    assert 'duplicate id "a": the [[model]] at line 3 already uses it' in str(error)


def test_missing_required_keys_point_at_the_model_header():
    error = error_of('\n\n[[model]]\nrole = "instruct"\nbackend = "llama"\npath = "x.gguf"\n')
    assert (error.line, error.key) == (3, "id")
    assert '[[model]] number 1 is missing the key "id"' in str(error)
    error = error_of(LOCAL.replace('role = "instruct"\n', ""))
    assert (error.line, error.key) == (3, "role")
    error = error_of(LOCAL.replace('path = "bundled:smollm2"\n', ""))
    assert (error.line, error.key) == (3, "path")
    assert '[[model]] "a" is missing the key "path"' in str(error)


def test_cloud_backends_need_model_and_openai_needs_base_url():
    cloud = '[[model]]\nid = "c"\nrole = "cloud"\nbackend = "{backend}"\n'
    error = error_of(cloud.format(backend="openai") + 'model = "m"\n')
    assert (error.line, error.key) == (1, "base_url")
    error = error_of(cloud.format(backend="anthropic") + 'base_url = "https://x"\n')
    assert (error.line, error.key) == (1, "model")
    config = parse_models(cloud.format(backend="anthropic") + 'model = "claude"\n')
    assert config.get("c").base_url == "https://api.anthropic.com"
    assert config.default == "c"  # default falls back to the first entry
    error = error_of(cloud.format(backend="openai") + 'model = "m"\nbase_url = "api.example.com"\n')
    assert (error.line, error.key) == (6, "base_url")


def test_api_key_env_must_be_a_name_and_is_not_echoed():
    error = error_of('[[model]]\nid = "c"\nrole = "cloud"\nbackend = "gemini"\nmodel = "g"\n'
                     'api_key_env = "sk-secret-123"\n')
    assert (error.line, error.key) == (6, "api_key_env")
    assert "sk-secret-123" not in str(error)


def test_keys_of_the_other_kind_of_backend_are_rejected():
    error = error_of(LOCAL + "context_window = 4096\n")
    assert (error.line, error.key) == (8, "context_window")
    assert 'local models use "n_ctx"' in str(error)
    error = error_of('[[model]]\nid = "c"\nrole = "cloud"\nbackend = "gemini"\nmodel = "g"\nn_ctx = 4\n')
    assert (error.line, error.key) == (6, "n_ctx")
    error = error_of(LOCAL.replace('"instruct"', '"cloud"'))
    assert (error.line, error.key) == (5, "role")


def test_optional_values():
    config = parse_models(LOCAL + 'system_prompt = ""\ntemperature = 1\nmax_tokens = 9\nenabled = false\n')
    profile = config.get("a")
    assert (profile.system_prompt, profile.temperature, profile.max_tokens, profile.enabled) == ("", 1.0, 9, False)
    assert profile.label == "a"
    error = error_of(LOCAL + "temperature = 3.5\n")
    assert (error.line, error.key) == (8, "temperature")
    assert "between 0 and 2" in str(error)
    error = error_of(LOCAL + "enabled = 1\n")
    assert (error.line, error.key) == (8, "enabled")


def test_model_written_as_single_table_or_missing():
    error = error_of('default = "a"\n\n[model]\nid = "a"\n')
    assert (error.line, error.key) == (3, "model")
    assert "[[model]]" in str(error)
    error = error_of('default = "a"\n')
    assert "defines no [[model]] entries" in str(error)


# --- syntax errors, files --------------------------------------------------------------


def test_toml_syntax_error_reports_tomllib_line():
    error = error_of(LOCAL + "n_ctx = \n")
    assert error.line == 8
    assert str(error).startswith("models.toml line 8: TOML syntax error:")
    assert "(at line" not in str(error)


def test_load_models_names_the_file(tmp_path):
    path = tmp_path / "models.toml"
    path.write_text(LOCAL + "bogus = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_models(path)
    assert info.value.path == path
    assert str(info.value).startswith(f"{path} line 8: unknown key")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_models(tmp_path / "absent.toml")
    path.write_bytes(b'default = "\xff"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_models(path)


# --- the line scanner ------------------------------------------------------------------


def test_key_lines_skip_multiline_strings_and_arrays():
    text = toml(
        '''
        [[model]]
        id = "a"
        system_prompt = """
        [[model]]
        id = "not a key"
        """
        stops = [
          "x = 1",
          "]",
        ]
        ["quoted key".sub ]
        'lit' = 1
        [[ model ]]
        id = "b"
        [model . reasoning]
        carry = 'keep-all'
        '''
    )
    lines = KeyLines(text)
    assert lines.line_of(("model", 0)) == 1
    assert lines.line_of(("model", 0, "system_prompt")) == 3
    assert lines.line_of(("model", 0, "stops")) == 7
    assert lines.line_of(("model", 0, "x")) == 1  # not a key: falls back to the header
    assert lines.line_of(("quoted key", "sub")) == 11
    assert lines.line_of(("quoted key", "sub", "lit")) == 12
    assert lines.line_of(("model", 1, "id")) == 14
    assert lines.line_of(("model", 1, "reasoning", "carry")) == 16
    assert lines.line_of(("model", 2)) is None


@settings(max_examples=40, deadline=None)
@given(index=st.integers(min_value=0, max_value=6), offset=st.integers(min_value=1, max_value=3),
       key=st.from_regex(r"zz[a-z_]{0,10}", fullmatch=True))
def test_unknown_key_inserted_anywhere_in_builtin_file_is_found_at_its_line(index, offset, key):
    lines = builtin_models_path().read_text(encoding="utf-8").split("\n")
    header = load_models(builtin_models_path()).models[index].line
    at = header + offset  # 1-based line of the inserted key
    lines.insert(at - 1, f"{key} = 1")
    with pytest.raises(ConfigError) as info:
        parse_models("\n".join(lines))
    assert (info.value.line, info.value.key) == (at, key)
