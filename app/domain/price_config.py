"""The ``[model.price]`` table of models.toml: read and checked, errors with the line.

What a cloud model charges, per million tokens::

    [model.price]
    input = 1.25          # input tokens (required)
    cached_input = 0.125  # input read from the provider's prompt cache (else billed as input)
    output = 10.0         # answer tokens, and thinking unless "reasoning" is set (required)
    reasoning = 10.0      # thinking, where the provider bills it apart from output
    currency = "USD"      # ISO 4217 code, default USD
    checked = "2025-08-07"  # when the price was read from the provider's page (required)

``checked`` may be a TOML date (``checked = 2025-08-07``) or a "YYYY-MM-DD" string.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from app.domain.profiles import Price

PRICE_KEYS = ("input", "cached_input", "output", "reasoning", "currency", "checked")
MAX_PRICE = 10_000.0  # per million tokens: no model costs more; a larger number is a typo
_CURRENCY = re.compile(r"[A-Z]{3}")


def parse_price(check, raw: Any, base: tuple, where: str) -> Price:
    """The table at ``base`` (``check`` is an :class:`app.domain.config.Checker`)."""
    where = f"[model.price] of {where}"
    if not isinstance(raw, dict):
        raise check.fail(base, "price", f"{where} must be a table ([model.price]) of prices per million "
                                        f"tokens, not {_show(raw)}.")
    check.unknown_keys(raw, base, where, PRICE_KEYS)
    rates: dict[str, float | None] = {}
    for key in ("input", "cached_input", "output", "reasoning"):
        if key in ("input", "output") and key not in raw:
            raise check.fail(base, key, f'{where} is missing "{key}"; add {key} = <price per million tokens> '
                                        "from the provider's price page, or delete the table "
                                        "(Ponder then says \"price unknown\").")
        rates[key] = check.number(raw, base, key, where, low=0.0, high=MAX_PRICE)
    currency = check.string(raw, base, "currency", where) or "USD"
    if not _CURRENCY.fullmatch(currency):
        raise check.fail(base + ("currency",), "currency", f'"currency" in {where} must be a three-letter '
                                                          f'code such as "USD" or "EUR", not {_show(currency)}.')
    return Price(input=rates["input"] or 0.0, output=rates["output"] or 0.0, checked=_checked(check, raw, base, where),
                 cached_input=rates["cached_input"], reasoning=rates["reasoning"], currency=currency)


def _checked(check, raw: dict, base: tuple, where: str) -> str:
    if "checked" not in raw:
        raise check.fail(base, "checked", f'{where} is missing "checked"; add checked = "YYYY-MM-DD", the day '
                                          "the price was read from the provider's page.")
    value = raw["checked"]
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise check.fail(base + ("checked",), "checked", f'"checked" in {where} must be the day the price was read, '
                                                     f'as "YYYY-MM-DD" (a real date), not {_show(value)}.')


def _show(value: Any) -> str:
    from app.domain.config import show

    return show(value)
