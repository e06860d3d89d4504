"""models.toml: the [model.timeouts] table of a cloud model (defaults, errors with lines) and
base_url addresses a request could not use."""

from __future__ import annotations

import math
import textwrap

import pytest

from app.domain.config import builtin_models_path, load_models, parse_models
from app.domain.profiles import CallTimeouts
from app.errors import ConfigError

CLOUD = textwrap.dedent(
    """\
    [[model]]
    id = "c"
    role = "cloud"
    backend = "openai"
    base_url = "http://127.0.0.1:8080/v1"
    model = "m"
    """
)


def error_of(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_models(text)
    return info.value


def test_defaults_suit_slow_reasoning_models():
    limits = CallTimeouts()
    assert (limits.connect, limits.first_token, limits.idle, limits.total) == (10.0, 300.0, 120.0, 3600.0)
    assert limits.first_token > limits.idle  # a first token may take minutes; later silences are short
    assert parse_models(CLOUD).get("c").timeouts == limits
    for profile in load_models(builtin_models_path()).models:
        assert profile.timeouts == limits


def test_timeouts_table_overrides_some_limits_and_keeps_the_others():
    profile = parse_models(CLOUD + "\n[model.timeouts]\nfirst_token = 900\nidle = 0.5\n").get("c")
    assert profile.timeouts == CallTimeouts(first_token=900.0, idle=0.5)
    assert isinstance(profile.timeouts.first_token, float) and profile.timeouts.total == 3600.0


def test_timeouts_as_an_inline_table():
    profile = parse_models(CLOUD + "timeouts = { total = 1800, connect = 3 }\n").get("c")
    assert (profile.timeouts.total, profile.timeouts.connect, profile.timeouts.idle) == (1800.0, 3.0, 120.0)


def test_unknown_timeout_key_names_its_line_and_the_allowed_keys():
    error = error_of(CLOUD + "\n[model.timeouts]\nconnect = 5\nidel = 60\n")
    assert (error.line, error.key) == (10, "idel")
    assert 'unknown key "idel" in [model.timeouts] of [[model]] "c"' in str(error)
    assert "connect, first_token, idle, total" in str(error) and 'did you mean "idle"' in str(error)


@pytest.mark.parametrize("value", ["0", "-1", '"60"', "true", "nan", "inf", "1e300", "86401", "[1]"])
def test_bad_timeout_values_name_the_key_and_line(value):
    error = error_of(CLOUD + f"\n[model.timeouts]\nidle = 30\ntotal = {value}\n")
    assert (error.line, error.key) == (10, "total")
    assert ('"total" in [model.timeouts] of [[model]] "c" must be a number of seconds more than 0 and at most '
            "86400 (a day), not") in str(error)


def test_timeouts_must_be_a_table():
    error = error_of(CLOUD + "timeouts = 60\n")
    assert (error.line, error.key) == (7, "timeouts")
    assert "[model.timeouts] of [[model]] \"c\" must be a table ([model.timeouts]) of seconds, not 60" in str(error)


def test_timeouts_apply_only_to_cloud_models():
    local = '[[model]]\nid = "a"\nrole = "instruct"\nbackend = "llama"\npath = "bundled:smollm2"\n'
    error = error_of(local + "\n[model.timeouts]\nidle = 5\n")
    assert (error.line, error.key) == (7, "timeouts")
    assert '"timeouts" applies only to cloud backends' in str(error)


def test_the_largest_limit_is_accepted():
    profile = parse_models(CLOUD + "\n[model.timeouts]\ntotal = 86400\n").get("c")
    assert profile.timeouts.total == 86400.0 and math.isfinite(profile.timeouts.total)


@pytest.mark.parametrize("url", ["http://[::1/v1", "http://127.0.0.1:99999/v1", "http://host:0/v1", "https:///v1"])
def test_base_url_that_is_no_usable_address_names_its_line(url):
    error = error_of(CLOUD.replace('"http://127.0.0.1:8080/v1"', f'"{url}"'))
    assert (error.line, error.key) == (5, "base_url")
    assert "is not a usable address" in str(error) and "port from 1 to 65535" in str(error)
