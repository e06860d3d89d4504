"""Render a model's Jinja chat template the way Hugging Face ``transformers`` does.

GGUF files carry the template in ``tokenizer.chat_template``. It is untrusted text, so it
runs in Jinja's immutable sandbox with the globals and filters that real templates
expect (``raise_exception``, ``strftime_now``, an HF-compatible ``tojson``, the
``loopcontrols`` extension and a no-op ``{% generation %}`` tag). Rendering the real
prompt is how Ponder learns whether the output starts inside a reasoning block and what
earlier reasoning costs in the next prompt.

A template can also loop for ever or build enormous values. Rendering is bounded: every
function call and every step of ``range`` checks a time limit and the caller's stop flag
(:class:`TemplateTooSlow`, :class:`RenderStopped`), and ``*`` and ``**`` refuse results
beyond :data:`MAX_SIZE` elements or :data:`MAX_POWER_BITS` bits.
"""

from __future__ import annotations

import json
import operator
import threading
import time
from datetime import datetime
from functools import lru_cache
from typing import Any, Callable

from jinja2 import Template, nodes
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.ext import Extension
from jinja2.sandbox import MAX_RANGE, ImmutableSandboxedEnvironment

RENDER_TIME_LIMIT_S = 10.0  # real templates render in milliseconds
MAX_SIZE = 1_000_000  # elements (characters, items) a ``*`` may produce
MAX_POWER_BITS = 4096
_CHECK_EVERY = 256  # range steps between checks of the clock and the stop flag


class TemplateTooSlow(TemplateError):
    """The template did not finish rendering within the time limit (it loops, or nearly)."""


class RenderStopped(Exception):
    """The caller asked to stop while the template was rendering."""


class _Limits(threading.local):
    """The time limit and stop flag of the render running on this thread."""

    deadline = float("inf")
    should_stop: Callable[[], bool] | None = None

    def check(self) -> None:
        if self.should_stop is not None and self.should_stop():
            raise RenderStopped()
        if time.monotonic() > self.deadline:
            raise TemplateTooSlow("the template did not finish rendering within "
                                  f"{RENDER_TIME_LIMIT_S:.0f} s (it seems to loop)")


_LIMITS = _Limits()


class _CheckedRange:
    """``range`` for templates: at most MAX_RANGE items (as Jinja's sandbox) and checks of the
    render's limits while it is iterated; otherwise a sequence like ``range`` (len, indexing,
    slicing, ``reversed``), which templates use."""

    def __init__(self, *args: int) -> None:
        self._range = args[0] if len(args) == 1 and isinstance(args[0], range) else range(*args)
        if len(self._range) > MAX_RANGE:
            raise SecurityError(f"range too big: {len(self._range):,} items (at most {MAX_RANGE:,})")

    def __len__(self) -> int:
        return len(self._range)

    def __getitem__(self, index):
        item = self._range[index]
        return _CheckedRange(item) if isinstance(item, range) else item

    def __iter__(self):
        for i, value in enumerate(self._range):
            if i % _CHECK_EVERY == 0:
                _LIMITS.check()
            yield value

    def __reversed__(self):
        return iter(_CheckedRange(self._range[::-1]))

    def __contains__(self, value) -> bool:
        return value in self._range


def _times(left: Any, right: Any) -> Any:
    for seq, n in ((left, right), (right, left)):
        if isinstance(n, int) and hasattr(seq, "__len__") and len(seq) * max(n, 0) > MAX_SIZE:
            raise SecurityError(f"the template builds a value of more than {MAX_SIZE:,} elements")
    return operator.mul(left, right)


def _power(left: Any, right: Any) -> Any:
    if isinstance(left, int) and isinstance(right, int) and abs(left) > 1 and \
            right * max(abs(left).bit_length(), 1) > MAX_POWER_BITS:
        raise SecurityError("the template computes a number too large to render")
    return operator.pow(left, right)


def _raise_exception(message: str) -> None:
    raise TemplateError(message)


def _strftime_now(fmt: str) -> str:
    return datetime.now().strftime(fmt)


def _tojson(
    value: Any,
    ensure_ascii: bool = False,
    indent: int | None = None,
    separators: tuple[str, str] | None = None,
    sort_keys: bool = False,
) -> str:
    # Like transformers: no HTML escaping (Jinja's built-in tojson turns "<" into \u003c).
    return json.dumps(
        value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys
    )


class _GenerationTag(Extension):
    """``{% generation %}…{% endgeneration %}`` (HF assistant masks): renders its body."""

    tags = {"generation"}

    def parse(self, parser: Any) -> nodes.Node:
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return nodes.Scope(body, lineno=lineno)


class _BoundedEnvironment(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with every call checking the render's limits."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context, operator_: str, left: Any, right: Any) -> Any:
        return (_times if operator_ == "*" else _power)(left, right)

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 (Jinja's signature)
        _LIMITS.check()
        return super().call(__context, __obj, *args, **kwargs)


def _environment() -> ImmutableSandboxedEnvironment:
    env = _BoundedEnvironment(
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.loopcontrols", _GenerationTag],
    )
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    env.globals["range"] = _CheckedRange
    return env


_ENV = _environment()


@lru_cache(maxsize=16)
def _compile(template: str) -> Template:
    return _ENV.from_string(template)


def render_chat(
    template: str,
    messages: list[dict[str, Any]],
    *,
    add_generation_prompt: bool = True,
    bos_token: str = "",
    eos_token: str = "",
    time_limit_s: float = RENDER_TIME_LIMIT_S,
    should_stop: Callable[[], bool] | None = None,
    **extra: Any,
) -> str:
    """The prompt text the template produces for ``messages``.

    ``extra`` becomes template variables (``enable_thinking=False``, ``tools=[...]``,
    ``reasoning_effort="low"``...). Raises ``jinja2.TemplateError`` (including
    ``TemplateSyntaxError``, ``SecurityError``, ``raise_exception()`` calls and
    :class:`TemplateTooSlow`), or :class:`RenderStopped` when ``should_stop()`` turned true.
    """
    compiled = _compile(template)
    saved = _LIMITS.deadline, _LIMITS.should_stop
    _LIMITS.deadline, _LIMITS.should_stop = time.monotonic() + time_limit_s, should_stop
    try:
        return compiled.render(
            messages=messages,
            add_generation_prompt=add_generation_prompt,
            bos_token=bos_token,
            eos_token=eos_token,
            **extra,
        )
    except RecursionError:
        raise TemplateError("the template recurses without end") from None
    finally:
        _LIMITS.deadline, _LIMITS.should_stop = saved
