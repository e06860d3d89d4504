"""models.toml: the [model.price] table of a cloud model — values, defaults, and every error
with the line it is on; the built-in cloud entries' prices."""

from __future__ import annotations

import textwrap

import pytest

from app.domain.config import builtin_models_path, load_models, parse_models
from app.domain.profiles import Price
from app.errors import ConfigError

CLOUD = textwrap.dedent(
    """\
    [[model]]
    id = "c"
    role = "cloud"
    backend = "openai-responses"
    model = "gpt-5"
    """
)
PRICE = "\n[model.price]\ninput = 1.25\ncached_input = 0.125\noutput = 10\nchecked = \"2025-08-07\"\n"


def error_of(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_models(text)
    return info.value


def test_a_price_table_is_read_with_its_defaults():
    price = parse_models(CLOUD + PRICE).get("c").price
    assert price == Price(input=1.25, output=10.0, checked="2025-08-07", cached_input=0.125)
    assert price.currency == "USD" and price.reasoning is None
    assert price.reasoning_rate == 10.0 and price.cached_rate == 0.125  # thinking billed as output


def test_a_model_without_a_price_has_none_and_cached_input_defaults_to_input():
    assert parse_models(CLOUD).get("c").price is None
    price = parse_models(CLOUD + "price = { input = 3, output = 15, checked = 2025-10-01, currency = \"EUR\" }\n"
                         ).get("c").price
    assert (price.cached_rate, price.checked, price.currency) == (3.0, "2025-10-01", "EUR")  # a TOML date too


def test_reasoning_billed_apart():
    price = parse_models(CLOUD + PRICE + "reasoning = 12.5\n").get("c").price
    assert price.reasoning_rate == 12.5 and price.output == 10.0


def test_unknown_price_key_names_its_line_and_the_allowed_keys():
    error = error_of(CLOUD + PRICE + "outptu = 3\n")
    assert (error.line, error.key) == (12, "outptu")
    assert 'unknown key "outptu" in [model.price] of [[model]] "c"' in str(error)
    assert "input, cached_input, output, reasoning, currency, checked" in str(error)
    assert 'did you mean "output"' in str(error) and "line 12" in str(error)


@pytest.mark.parametrize("value", ["-1", '"1.25"', "true", "nan", "inf", "20000", "[1]"])
def test_bad_prices_name_the_key_and_line(value):
    error = error_of(CLOUD + PRICE.replace("cached_input = 0.125", f"cached_input = {value}"))
    assert (error.line, error.key) == (9, "cached_input")
    assert '"cached_input" in [model.price] of [[model]] "c" must be a number between 0 and 10000' in str(error)


@pytest.mark.parametrize("missing", ["input", "output"])
def test_input_and_output_are_required(missing):
    text = CLOUD + "\n".join(line for line in PRICE.splitlines() if not line.startswith(f"{missing} ")) + "\n"
    error = error_of(text)
    assert (error.line, error.key) == (7, missing)  # the table's header: the key has no line of its own
    assert f'[model.price] of [[model]] "c" is missing "{missing}"' in str(error)
    assert "price unknown" in str(error)


@pytest.mark.parametrize("value", ['"yesterday"', '"2025-13-01"', '"2025-02-30"', "20250807", "2025-08-07T10:00:00"])
def test_checked_must_be_a_real_date(value):
    error = error_of(CLOUD + PRICE.replace('checked = "2025-08-07"', f"checked = {value}"))
    assert (error.line, error.key) == (11, "checked")
    assert '"checked" in [model.price] of [[model]] "c" must be the day the price was read, as "YYYY-MM-DD"' \
        in str(error)


def test_checked_is_required():
    error = error_of(CLOUD + PRICE.replace('checked = "2025-08-07"\n', ""))
    assert (error.line, error.key) == (7, "checked") and 'is missing "checked"' in str(error)


@pytest.mark.parametrize("value", ['"usd"', '"$"', '"DOLLARS"', "1"])
def test_currency_is_a_three_letter_code(value):
    error = error_of(CLOUD + PRICE + f"currency = {value}\n")
    assert (error.line, error.key) == (12, "currency")
    assert "three-letter code" in str(error) or "non-empty string" in str(error)


def test_price_must_be_a_table_and_applies_only_to_cloud_models():
    error = error_of(CLOUD + "price = 1.25\n")
    assert (error.line, error.key) == (6, "price") and "must be a table ([model.price])" in str(error)
    local = '[[model]]\nid = "a"\nrole = "instruct"\nbackend = "llama"\npath = "bundled:smollm2"\n'
    error = error_of(local + PRICE)
    assert (error.line, error.key) == (7, "price") and '"price" applies only to cloud backends' in str(error)


def test_an_error_in_the_second_entry_names_the_second_entry_line():
    second = CLOUD.replace('id = "c"', 'id = "d"')
    error = error_of(CLOUD + PRICE + "\n" + second + PRICE.replace("output = 10", "output = -2"))
    assert error.line == 22 and error.key == "output" and '[[model]] "d"' in str(error)


def test_builtin_cloud_entries_have_a_dated_price_or_none():
    models = load_models(builtin_models_path()).models
    priced = {m.id: m.price for m in models if m.price is not None}
    assert {"openai-gpt5", "claude-sonnet-thinking", "gemini-thinking"} <= set(priced)
    for model in models:
        if model.is_local:
            assert model.price is None
    for price in priced.values():
        assert price.currency == "USD" and price.input > 0 and price.output > price.input
        assert price.cached_input is not None and price.cached_input < price.input
        assert len(price.checked) == 10
    text = builtin_models_path().read_text()
    tables = text.split("\n[model.price]\n")
    assert len(tables) - 1 == len(priced)
    for head in tables[:-1]:  # each shipped price says where it came from, in a comment of its entry
        assert "# Price: " in head.rsplit("[[model]]", 1)[-1]
